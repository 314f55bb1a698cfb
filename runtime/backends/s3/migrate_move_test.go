package s3_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/repokit/repokit/internal/recordtest"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// tag is the second record of the move test, dropped by its version 2.
type tag struct {
	ID            string `json:"id"`
	Name          string `json:"name" record:",unique"`
	RecordVersion string `json:"-"`
}

var tagSchema = recordtest.MustNew[tag]("Tag")

// movedItemSchema is Item at version 1 stored under the prefix "items" with code unique:
// what version 2 of the move test's history describes.
var movedItemSchema = recordtest.MustNew[itemV1]("Item", recordtest.Prefix("items"), recordtest.Tag("Code", ",unique"))

// moveHistory is the move test's migrations: 1 the baseline (Item under item/, Tag under
// tag/ with a unique name), 2 Item moved to items/ with code made unique, and Tag dropped
// (destructive, planned with -allow-destructive).
func moveHistory(t *testing.T) fstest.MapFS {
	t.Helper()
	tagRec := migrate.Record{Name: "Tag", Table: "tag", Index: "tag", Prefix: "tag", ID: migrate.ID{Name: "id", Type: "string"},
		Fields: []migrate.Field{{Name: "name", Type: "string", Required: true, Unique: true}}}
	moved := itemRecordV1()
	moved.Prefix = "items"
	for i := range moved.Fields {
		if moved.Fields[i].Name == "code" {
			moved.Fields[i].Unique = true
		}
	}
	dirs, h := dirsOf(t, true, []string{"baseline", "move_and_drop"},
		migrate.Schema{Records: []migrate.Record{itemRecordV1(), tagRec}}, migrate.Schema{Records: []migrate.Record{moved}})
	kinds := map[migrate.Kind]bool{}
	for _, c := range h[1].Changes {
		kinds[c.Kind] = true
	}
	if !kinds[migrate.ChangePrefix] || !kinds[migrate.DropRecord] || !kinds[migrate.AddUnique] {
		t.Fatalf("version 2 changes %v, want change_prefix, drop_record and add_unique", h[1].Changes)
	}
	return dirs[1]
}

// TestMigrateChangePrefixAndDrop: on a store holding version 1 data, a migration that moves
// a record to another prefix (making a field unique on the way) and drops another record
// moves every object, leaves nothing under the old prefix, reserves the unique values under
// the new one, deletes the dropped record's objects and reservations, and reports no drift.
func TestMigrateChangePrefixAndDrop(t *testing.T) {
	ctx, m, cfg := migEnv(t)
	const n = 120
	v1 := loadV1(ctx, t, m, cfg, n, codeOfIndex)
	tags, err := openItems(ctx, t, m, cfg, tagSchema)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := tags.Create(ctx, tag{ID: fmt.Sprint("t", i), Name: fmt.Sprint("tag ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	under := func(p string) int { return len(listKeys(ctx, t, m, cfg, cfg.Prefix+"/"+p+"/")) }
	if got := under("item"); got != n {
		t.Fatalf("%d objects under item/ before the move, want %d", got, n)
	}
	tagKeys := len(listKeys(ctx, t, m, cfg, cfg.Prefix+"/"))
	fsys := moveHistory(t)

	mg := newMigrator(ctx, t, m, cfg, fsys)
	steps, err := mg.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for _, s := range steps {
		plan = append(plan, s.Text)
	}
	text := strings.Join(plan, "\n")
	for _, want := range []string{"Item: move objects from " + cfg.Prefix + "/item/ to " + cfg.Prefix + "/items/", "Tag: delete every object under " + cfg.Prefix + "/tag/", "Item.code: reserve"} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
	if got := under("items"); got != 0 {
		t.Fatalf("Plan wrote %d objects under items/", got)
	}

	if got, err := mg.Apply(ctx); err != nil || !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("apply: %v, %v", got, err)
	}
	if got := under("item"); got != 0 {
		t.Errorf("%d objects left under item/ after the move", got)
	}
	if got := under("items"); got != n {
		t.Errorf("%d objects under items/ after the move, want %d", got, n)
	}
	if got := under("tag"); got != 0 {
		t.Errorf("%d objects left under tag/ after the drop", got)
	}
	for _, k := range listKeys(ctx, t, m, cfg, cfg.Prefix+"/") {
		if strings.Contains(k, "tag") {
			t.Errorf("a key of the dropped record is left: %s (of %d keys before)", k, tagKeys)
		}
	}
	st, err := mg.Status(ctx)
	if err != nil || !st.OK() || !slices.Equal(st.Applied, []int64{1, 2}) {
		t.Fatalf("status after apply: %+v, %v", st, err)
	}

	r, err := openItems(ctx, t, m, cfg, movedItemSchema, s3.WithMigrations("shop", fsys))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := r.Count(ctx, query.New[itemV1]()); err != nil || c != n {
		t.Fatalf("Count after the move: %d, %v; want %d", c, err, n)
	}
	for _, i := range []int{0, 1, n - 1} {
		got, err := r.Get(ctx, v1[i].ID)
		if err != nil || got.Name != v1[i].Name || got.Qty != v1[i].Qty || !eqPtr(got.Code, v1[i].Code) || !eqPtr(got.Label, v1[i].Label) {
			t.Fatalf("Get %s after the move: %+v, %v; want %+v", v1[i].ID, got, err, v1[i])
		}
	}
	// The moved values are reserved under the new prefix: a new record cannot take one,
	// and a freed value (its record deleted) can be taken again.
	_, err = r.Create(ctx, itemV1{ID: "new", Name: "n", Qty: 1, Code: codeOfIndex(5)})
	if !errors.Is(err, repo.ErrAlreadyExists) {
		t.Fatalf("Create with a moved unique value: %v, want ErrAlreadyExists", err)
	}
	if err := r.Delete(ctx, v1[5].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Create(ctx, itemV1{ID: "new", Name: "n", Qty: 1, Code: codeOfIndex(5)}); err != nil {
		t.Fatalf("Create with a value freed by a Delete after the move: %v", err)
	}
	// The dropped record's unique values are free again for a new Tag (its reservations went
	// with it), and its old ids are gone.
	tags2, err := openItems(ctx, t, m, cfg, tagSchema)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tags2.Get(ctx, "t1"); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("Get of a dropped Tag: %v, want ErrNotFound", err)
	}
	if _, err := tags2.Create(ctx, tag{ID: "t100", Name: "tag 1"}); err != nil {
		t.Fatalf("Create of a Tag with a name of a dropped one: %v", err)
	}
}

// TestMigrateWithRecordPrefix: for records whose drivers are opened with WithPrefix, the
// migrator given WithRecordPrefix reserves, counts and rewrites the objects under that
// prefix (without it, it would look under the schema's prefix and find nothing), and refuses
// a change_prefix of such a record.
func TestMigrateWithRecordPrefix(t *testing.T) {
	ctx, m, cfg := migEnv(t)
	const n = 50
	r1, err := openItems(ctx, t, m, cfg, itemV1Schema, s3.WithPrefix("custom"))
	if err != nil {
		t.Fatal(err)
	}
	v1 := make([]itemV1, n)
	for i := range v1 {
		v1[i] = itemV1{ID: fmt.Sprintf("i%03d", i), Name: "n", Label: ptr(fmt.Sprint("label ", i)), Qty: int64(i), Code: codeOfIndex(i)}
		if _, err := r1.Create(ctx, v1[i]); err != nil {
			t.Fatal(err)
		}
	}
	fsys := history(t, 2)

	// Without the option the objects are not where the migrator looks.
	blind := newMigrator(ctx, t, m, cfg, fsys)
	steps, err := blind.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if text := fmt.Sprint(steps); !strings.Contains(text, cfg.Prefix+"/item/") || strings.Contains(text, "custom") {
		t.Fatalf("plan without WithRecordPrefix: %s", text)
	}

	mg := newMigrator(ctx, t, m, cfg, fsys, s3.WithRecordPrefix("Item", "custom"), s3.WithoutRewrite())
	if steps, err = mg.Plan(ctx); err != nil || !strings.Contains(fmt.Sprint(steps), cfg.Prefix+"/custom/") {
		t.Fatalf("plan with WithRecordPrefix: %v, %v", steps, err)
	}
	if got, err := mg.Apply(ctx); err != nil || !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("apply: %v, %v", got, err)
	}
	st, err := mg.Status(ctx)
	if err != nil || st.OK() || !strings.Contains(strings.Join(st.Drift, "\n"), fmt.Sprintf("Item: %d objects at versions older than 2", n)) {
		t.Fatalf("status with the rewrite pending: %q, %v (the objects under custom/ must be counted)", st.Drift, err)
	}
	full := newMigrator(ctx, t, m, cfg, fsys, s3.WithRecordPrefix("Item", "custom"))
	if got, err := full.Apply(ctx); err != nil || len(got) != 0 {
		t.Fatalf("rewrite: %v, %v", got, err)
	}
	if st, err = full.Status(ctx); err != nil || !st.OK() {
		t.Fatalf("status after the rewrite: %+v, %v", st, err)
	}
	r2, err := openItems(ctx, t, m, cfg, itemV2Schema, s3.WithPrefix("custom"), s3.WithMigrations("shop", fsys))
	if err != nil {
		t.Fatal(err)
	}
	got, err := r2.Get(ctx, v1[7].ID)
	if err != nil {
		t.Fatal(err)
	}
	checkUpgraded(t, v1[7], got)
	// The migration reserved the values under the driver's prefix.
	_, err = r2.Create(ctx, itemV2{ID: "dup", Name: "x", Code: v1[7].Code})
	wantKind(t, "create with a stored code", err, repo.ErrAlreadyExists)

	_, m2, cfg2 := migEnv(t) // a store with nothing applied, where the move is pending
	moving := newMigrator(ctx, t, m2, cfg2, moveHistory(t), s3.WithRecordPrefix("Item", "other"))
	if _, err := moving.Plan(ctx); !errors.Is(err, repo.ErrInvalidInput) || !strings.Contains(err.Error(), "WithRecordPrefix") {
		t.Fatalf("plan of a change_prefix of a record with its own prefix: %v, want ErrInvalidInput", err)
	}
	if _, err := moving.Apply(ctx); !errors.Is(err, repo.ErrInvalidInput) {
		t.Fatalf("apply of a change_prefix of a record with its own prefix: %v, want ErrInvalidInput", err)
	}
}

// plainTagSchema is tagSchema without the unique name.
var plainTagSchema = func() *record.Desc[tag] {
	d := *tagSchema
	d.Fields = slices.Clone(tagSchema.Fields)
	d.Fields[1].Unique = false
	return record.MustNew(&d)
}()

// TestMigrateRewritesChangedRecordsOnly: the rewrite after a migration goes through the
// objects of the records that a migration since the store's version changed, not every
// record's: a version that changes only Item leaves the Tag objects as they are (their
// stored form is the newest), and Status does not count them as behind.
func TestMigrateRewritesChangedRecordsOnly(t *testing.T) {
	ctx, m, cfg := migEnv(t)
	loadV1(ctx, t, m, cfg, 40, codeOfIndex)
	tags, err := openItems(ctx, t, m, cfg, plainTagSchema)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := tags.Create(ctx, tag{ID: fmt.Sprint("t", i), Name: fmt.Sprint("tag ", i%4)}); err != nil {
			t.Fatal(err)
		}
	}
	tagRec := migrate.Record{Name: "Tag", Table: "tag", Index: "tag", Prefix: "tag", ID: migrate.ID{Name: "id", Type: "string"},
		Fields: []migrate.Field{{Name: "name", Type: "string", Required: true}}}
	item2, item3 := itemRecordV1(), itemRecordV1()
	item2.Fields = append(item2.Fields, migrate.Field{Name: "note", Type: "string"})
	item3.Fields = append(slices.Clone(item2.Fields), migrate.Field{Name: "prio", Type: "int", Required: true, Default: int64(5)})
	dirs, _ := dirsOf(t, false, []string{"baseline", "note", "prio"}, migrate.Schema{Records: []migrate.Record{itemRecordV1(), tagRec}},
		migrate.Schema{Records: []migrate.Record{item2, tagRec}}, migrate.Schema{Records: []migrate.Record{item3, tagRec}})
	var seen []string
	record := func(p migrate.Progress) { seen = append(seen, p.Step) }
	// Versions 1 and 2 from a store written without migrations: every object is rewritten.
	if got, err := newMigrator(ctx, t, m, cfg, dirs[1], s3.WithProgress(record)).Apply(ctx); err != nil || !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("apply of 1 and 2: %v, %v", got, err)
	}
	if text := strings.Join(seen, "\n"); !strings.Contains(text, "rewrite Item") || !strings.Contains(text, "rewrite Tag") {
		t.Fatalf("the first apply's steps, want rewrites of Item and Tag:\n%s", text)
	}
	// Version 3 changes Item only.
	mg := newMigrator(ctx, t, m, cfg, dirs[2], s3.WithProgress(record))
	plan, err := mg.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if text := fmt.Sprint(plan); !strings.Contains(text, "Item: rewrite objects") || strings.Contains(text, "Tag: rewrite objects") {
		t.Fatalf("plan of version 3, want a rewrite of Item only: %s", text)
	}
	seen = nil
	if got, err := mg.Apply(ctx); err != nil || !slices.Equal(got, []int64{3}) {
		t.Fatalf("apply of 3: %v, %v", got, err)
	}
	if text := strings.Join(seen, "\n"); !strings.Contains(text, "rewrite Item") || strings.Contains(text, "rewrite Tag") {
		t.Fatalf("the second apply's steps, want a rewrite of Item only:\n%s", text)
	}
	st, err := mg.Status(ctx)
	if err != nil || !st.OK() {
		t.Fatalf("status after version 3: %+v, %v (the Tag objects, at version 2, have the newest form)", st, err)
	}
	tags3, err := openItems(ctx, t, m, cfg, plainTagSchema, s3.WithMigrations("shop", dirs[2]))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := tags3.Get(ctx, "t7"); err != nil || got.Name != "tag 3" {
		t.Fatalf("Get of a Tag left at version 2, by version 3 code: %+v, %v", got, err)
	}
	if n, err := tags3.Count(ctx, query.New[tag]().Where(query.NewStringField[tag]("name").EQ("tag 1"))); err != nil || n != 5 {
		t.Fatalf("Count of Tags by version 3 code: %d, %v; want 5", n, err)
	}
	// WithRewriteAll goes through every record again: nothing is behind, nothing written.
	seen = nil
	if _, err := newMigrator(ctx, t, m, cfg, dirs[2], s3.WithRewriteAll(), s3.WithProgress(record)).Apply(ctx); err != nil {
		t.Fatal(err)
	}
	if text := strings.Join(seen, "\n"); !strings.Contains(text, "rewrite Tag") {
		t.Fatalf("WithRewriteAll's steps, want every record:\n%s", text)
	}
}
