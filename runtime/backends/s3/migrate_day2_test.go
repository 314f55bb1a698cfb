package s3_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/repokit/repokit/internal/migratetest"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// day2Records is how many version 1 objects the day-2 test starts with; day2WriterOps how
// many writes each writer makes at most while the migration runs.
const (
	day2Records   = 20000
	day2WriterOps = 1500
)

// TestMigrateDay2 migrates 20,000 version 1 objects to version 2 (an optional field, a
// required field with a default, an index on an existing field, a unique field, an enum
// value, a renamed field, int widened to float, a new record) while writers of the old
// code keep creating and updating. Afterwards every acknowledged write is present and read
// by version 2 code with defaults filled and renamed values moved, the unique field is
// enforced, Status reports no drift, and no writer call failed.
func TestMigrateDay2(t *testing.T) {
	ctx, m, cfg := migEnv(t)
	cfg.MaxConnections = 32
	start := time.Now()
	v1 := loadV1(ctx, t, m, cfg, day2Records, codeOfIndex)
	t.Logf("%s: %d objects loaded", time.Since(start).Round(time.Millisecond), day2Records)
	fsys := history(t, 2)
	old, err := openItems(ctx, t, m, cfg, itemV1Schema)
	if err != nil {
		t.Fatal(err)
	}
	// Version 1 is the baseline: applying it records it and changes no object.
	if got, err := newMigrator(ctx, t, m, cfg, history(t, 1)).Apply(ctx); err != nil || !slices.Equal(got, []int64{1}) {
		t.Fatalf("baseline: %v, %v", got, err)
	}

	var (
		mu      sync.Mutex
		acked   = map[string]itemV1{} // the last acknowledged write of every record
		failed  atomic.Int64
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		writers = 4
	)
	for i, r := range v1 {
		acked[r.ID] = v1[i]
	}
	for g := range writers {
		wg.Go(func() {
			// A bounded, paced load: the writers must not outgrow the migration they run
			// beside (a rewrite follows new keys to the end of the listing).
			for k := range day2WriterOps {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
				var rec itemV1
				var err error
				if k%2 == 0 {
					id := fmt.Sprintf("w%d-%05d", g, k)
					rec, err = old.Create(ctx, itemV1{ID: id, Name: "new", Label: ptr("by " + id), Qty: int64(k), Status: ptr("new"), Code: ptr("code-" + id)})
				} else {
					// Update a loaded record of this writer's own (no two writers touch one).
					base := v1[(k*writers+g)%day2Records]
					base.Name, base.Label, base.Qty = "updated", ptr(fmt.Sprint("updated ", k)), int64(-k)
					rec, err = old.Update(ctx, base)
				}
				if err != nil {
					failed.Add(1)
					t.Errorf("writer %d: %v", g, err)
					return
				}
				rec.RecordVersion = ""
				mu.Lock()
				acked[rec.ID] = rec
				mu.Unlock()
			}
		})
	}
	var reports atomic.Int64
	applied, err := newMigrator(ctx, t, m, cfg, fsys, s3.WithProgress(func(migrate.Progress) { reports.Add(1) })).Apply(ctx)
	close(stop)
	wg.Wait()
	if err != nil || !slices.Equal(applied, []int64{2}) {
		t.Fatalf("apply: %v, %v", applied, err)
	}
	t.Logf("%s: applied, %d acknowledged writes", time.Since(start).Round(time.Millisecond), len(acked)-day2Records)
	if reports.Load() == 0 {
		t.Error("no progress reported")
	}
	if failed.Load() > 0 {
		t.Fatalf("%d writer calls failed", failed.Load())
	}
	// The old writers wrote version 1 objects after the rewrite passed them: readable
	// already; the rewrite of the stragglers (once the old code is gone) makes Status clean.
	if _, err := newMigrator(ctx, t, m, cfg, fsys, s3.WithRewriteAll()).Apply(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: stragglers rewritten", time.Since(start).Round(time.Millisecond))
	r, err := openItems(ctx, t, m, cfg, itemV2Schema, s3.WithMigrations("shop", fsys))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]itemV2{}
	for rec, err := range r.Stream(ctx, query.New[itemV2]()) {
		if err != nil {
			t.Fatal(err)
		}
		got[rec.ID] = rec
	}
	if len(got) != len(acked) {
		t.Errorf("%d records read, %d acknowledged", len(got), len(acked))
	}
	for id, w := range acked {
		g, ok := got[id]
		if !ok {
			t.Fatalf("acknowledged record %s missing", id)
		}
		checkUpgraded(t, w, g)
	}
	if n, err := r.Count(ctx, query.New[itemV2]().Where(query.NewIntField[itemV2]("prio").EQ(5))); err != nil || n != int64(len(acked)) {
		t.Errorf("records with the default prio: %d, %v; want %d", n, err, len(acked))
	}
	for _, code := range []string{"c17", "code-w1-00000"} {
		_, err := r.Create(ctx, itemV2{ID: "dup-" + code, Name: "x", Code: ptr(code)})
		wantKind(t, "create with the stored code "+code, err, repo.ErrAlreadyExists)
	}
	if _, err := r.Create(ctx, itemV2{ID: "gone", Name: "x", Status: ptr("gone"), Code: ptr("fresh")}); err != nil {
		t.Errorf("create with the new enum value and a fresh code: %v", err)
	}
	// v2 code writes the record that version 2 adds and finds it.
	tagDesc := *tagSchema
	tagDesc.Fields = slices.Clone(tagSchema.Fields)
	tagDesc.Fields[1].Unique = false // version 2's Tag: a plain required name
	tags, err := openItems(ctx, t, m, cfg, record.MustNew(&tagDesc), s3.WithMigrations("shop", fsys))
	if err != nil {
		t.Fatalf("the added record's constructor: %v", err)
	}
	newTags := make([]tag, 12)
	for i := range newTags {
		newTags[i] = tag{ID: fmt.Sprint("t", i), Name: fmt.Sprint("tag ", i%4)}
	}
	if res, err := tags.CreateBatch(ctx, newTags); err != nil || slices.ContainsFunc(res, func(r repo.Result) bool { return r.Err != nil }) {
		t.Fatalf("CreateBatch of the added record: %v, %v", res, err)
	}
	if found, err := tags.Find(ctx, query.New[tag]().Where(query.NewStringField[tag]("name").EQ("tag 1"))); err != nil || len(found) != 3 {
		t.Errorf("Find of the added record: %d, %v; want 3", len(found), err)
	}
	st, err := newMigrator(ctx, t, m, cfg, fsys).Status(ctx)
	if err != nil || !st.OK() || !slices.Equal(st.Applied, []int64{1, 2}) {
		t.Fatalf("status: %+v, %v", st, err)
	}
}

// rawObject returns the stored JSON of an item.
func rawObject(ctx context.Context, t *testing.T, m *pool.Manager, cfg pool.S3PoolConfig, id string) map[string]any {
	t.Helper()
	d, err := s3.New(ctx, m, cfg, itemV1Schema)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	l, err := pool.Get(ctx, m, cfg, s3.Hooks())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	out, err := l.Pool().API.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String(d.Key(id))})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	body, _ := io.ReadAll(out.Body)
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestMigrateDropField applies a destructive change: the dropped field is removed from the
// stored objects, which record the newest version.
func TestMigrateDropField(t *testing.T) {
	ctx, m, cfg := migEnv(t)
	loadV1(ctx, t, m, cfg, 5, codeOfIndex)
	if _, err := newMigrator(ctx, t, m, cfg, history(t, 2)).Apply(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := openItems(ctx, t, m, cfg, itemV2Schema, s3.WithMigrations("shop", history(t, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Update(ctx, itemV2{ID: "i000001", Name: "n", Note: ptr("to be dropped"), Prio: 2}); err != nil {
		t.Fatal(err)
	}
	if doc := rawObject(ctx, t, m, cfg, "i000001"); doc["note"] != "to be dropped" || doc["@schema"] != 2.0 {
		t.Fatalf("stored before the drop: %v", doc)
	}
	_, err = openItems(ctx, t, m, cfg, itemV2Schema, s3.WithMigrations("shop", history(t, 3)))
	migratetest.CheckBehind(t, err, 2, 3)
	if got, err := newMigrator(ctx, t, m, cfg, history(t, 3)).Apply(ctx); err != nil || !slices.Equal(got, []int64{3}) {
		t.Fatalf("apply of the drop: %v, %v", got, err)
	}
	doc := rawObject(ctx, t, m, cfg, "i000001")
	if _, ok := doc["note"]; ok || doc["@schema"] != 3.0 || doc["prio"] != 2.0 {
		t.Fatalf("stored after the drop: %v", doc)
	}
}

// TestMigrateUniqueDuplicates: making a field unique over stored duplicates fails naming
// them, and records nothing.
func TestMigrateUniqueDuplicates(t *testing.T) {
	ctx, m, cfg := migEnv(t)
	loadV1(ctx, t, m, cfg, 30, func(i int) *string {
		if i == 4 || i == 9 {
			return ptr("same")
		}
		return codeOfIndex(i)
	})
	mg := newMigrator(ctx, t, m, cfg, history(t, 2))
	got, err := mg.Apply(ctx)
	if !slices.Equal(got, []int64{1}) || err == nil || !strings.Contains(err.Error(), `code "same" in records "i000004" and "i000009"`) || !isKind(err, repo.ErrAlreadyExists) {
		t.Fatalf("apply over duplicates: %v, %v", got, err)
	}
	st, err := mg.Status(ctx)
	if err != nil || st.Current() != 1 || len(st.Pending) != 1 {
		t.Fatalf("status: %+v, %v", st, err)
	}
}

func isKind(err, kind error) bool { return repo.KindOf(err) == kind }
