package s3_test

import (
	"context"
	"io/fs"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/migratetest"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// TestMigrateOlderCodeRestarts is a rolling deploy: code of version 1 starts again after
// newer versions were applied. It works after a new field, an enum value, an int → float
// widening and a rename while the schema keeps the old name (newer code writes both names),
// reading and updating what newer code wrote; it is refused with ErrSchemaAhead, saying
// why, once the old name is dropped and a field became unique.
func TestMigrateOlderCodeRestarts(t *testing.T) {
	ctx, m, cfg := migEnv(t)
	loadV1(ctx, t, m, cfg, 5, codeOfIndex)
	v1 := migrate.Schema{Records: []migrate.Record{itemRecordV1()}}
	v2 := v1.Clone()
	v2.Records[0].Fields = append(v2.Records[0].Fields, migrate.Field{Name: "note", Type: "string"})
	v2.Records[0].Field("status").Values = []string{"new", "done", "gone"}
	v2.Records[0].Field("qty").Type = "float"
	v3 := schemaV2() // the rename of label to title, prio, Tag
	v3.Records[0].Field("code").Unique = false
	v4 := v3.Clone()
	v4.Records[0].Field("title").RenamedFrom = ""
	v4.Records[0].Field("code").Unique = true
	dirs, _ := dirsOf(t, true, []string{"baseline", "additive", "rename", "contract"}, v1, v2, v3, v4)
	if _, err := newMigrator(ctx, t, m, cfg, dirs[1]).Apply(ctx); err != nil {
		t.Fatal(err)
	}
	r1, err := openItems(ctx, t, m, cfg, itemV1Schema, s3.WithMigrations("shop", dirs[0]))
	if err != nil {
		t.Fatalf("version-1 constructor on a store at version 2: %v", err)
	}
	if _, err := r1.Create(ctx, itemV1{ID: "new", Name: "n", Label: ptr("l"), Qty: 3}); err != nil {
		t.Fatalf("version-1 Create: %v", err)
	}
	if got, err := r1.Get(ctx, "i000001"); err != nil || got.Label == nil || *got.Label != "label 1" || got.Qty != 1 {
		t.Errorf("version-1 Get: %+v, %v", got, err)
	}

	if _, err := newMigrator(ctx, t, m, cfg, dirs[2]).Apply(ctx); err != nil {
		t.Fatal(err)
	}
	r3 := createNoted(ctx, t, m, cfg, dirs[2], "only v2 knows")
	r1, err = openItems(ctx, t, m, cfg, itemV1Schema, s3.WithMigrations("shop", dirs[0]))
	if err != nil {
		t.Fatalf("version-1 constructor on a store at version 3 (the old name kept): %v", err)
	}
	got, err := r1.Get(ctx, "t1")
	if err != nil || got.Label == nil || *got.Label != "T" {
		t.Fatalf("version-1 Get of a version-3 write: %+v, %v; want label T", got, err)
	}
	if o, err := r1.Get(ctx, "i000002"); err != nil || o.Label == nil || *o.Label != "label 2" {
		t.Errorf("version-1 Get of an object the apply rewrote: %+v, %v", o, err)
	}
	got.Name = "changed by v1"
	if _, err := r1.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	if _, err := r1.Update(ctx, itemV1{ID: "i000004", Name: "n4", Label: ptr("relabelled"), Qty: 4}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string][2]string{"t1": {"changed by v1", "T"}, "i000004": {"n4", "relabelled"}} {
		if g, err := r3.Get(ctx, id); err != nil || g.Name != want[0] || g.Title == nil || *g.Title != want[1] {
			t.Errorf("version-3 Get %s after a version-1 update: %+v, %v; want %v", id, g, err, want)
		}
	}
	// Version 1's writes keep what only newer code knows (note, prio), and a value it clears
	// (label, title to newer code) stays cleared.
	if _, err := r1.Upsert(ctx, itemV1{ID: "t2", Name: "upserted by v1", Qty: 2}); err != nil {
		t.Fatal(err)
	}
	for id, name := range map[string]string{"t1": "changed by v1", "t2": "upserted by v1"} {
		g, err := r3.Get(ctx, id)
		if err != nil || g.Name != name || g.Note == nil || *g.Note != "only v2 knows" || g.Prio != 7 {
			t.Errorf("version-3 Get %s after a version-1 write: %+v, %v; want name %q, note and prio 7 kept", id, g, err, name)
		}
		if id == "t2" && g.Title != nil {
			t.Errorf("version-3 Get t2 after version 1 cleared its label: title %q, want none", *g.Title)
		}
	}

	if _, err := newMigrator(ctx, t, m, cfg, dirs[3]).Apply(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = openItems(ctx, t, m, cfg, itemV1Schema, s3.WithMigrations("shop", dirs[0]))
	migratetest.CheckAhead(t, err, 4, 1, true, "version 4: the old name label of field title was dropped", "version 4: field code became unique")
}

// TestMigrateOlderCodeRunning is the usual rolling deploy: a process of version 1 is
// running when versions 2 and 3 are applied. It reads the applied version again before a
// write once its last read is older than WithOlderCodeRecheck, and from then on its
// writes keep what only newer code knows.
func TestMigrateOlderCodeRunning(t *testing.T) {
	ctx, m, cfg := migEnv(t)
	loadV1(ctx, t, m, cfg, 3, codeOfIndex)
	v1 := migrate.Schema{Records: []migrate.Record{itemRecordV1()}}
	v2 := v1.Clone()
	v2.Records[0].Fields = append(v2.Records[0].Fields, migrate.Field{Name: "note", Type: "string"})
	v3 := schemaV2()
	v3.Records[0].Field("code").Unique = false
	dirs, _ := dirsOf(t, true, []string{"baseline", "additive", "rename"}, v1, v2, v3)
	if _, err := newMigrator(ctx, t, m, cfg, dirs[0]).Apply(ctx); err != nil {
		t.Fatal(err)
	}
	r1, err := openItems(ctx, t, m, cfg, itemV1Schema, s3.WithMigrations("shop", dirs[0]), s3.WithOlderCodeRecheck(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r1.Update(ctx, itemV1{ID: "i000001", Name: "before the apply", Qty: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := newMigrator(ctx, t, m, cfg, dirs[2]).Apply(ctx); err != nil {
		t.Fatal(err)
	}
	r3 := createNoted(ctx, t, m, cfg, dirs[2], "only v3 knows")
	time.Sleep(5 * time.Millisecond) // past the recheck age: the next write reads the applied version
	if _, err := r1.Update(ctx, itemV1{ID: "t1", Name: "v1 Update", Label: ptr("T")}); err != nil {
		t.Fatal(err)
	}
	if res, err := r1.UpsertBatch(ctx, []itemV1{{ID: "t2", Name: "v1 UpsertBatch"}}); err != nil || res[0].Err != nil {
		t.Fatalf("version-1 UpsertBatch: %+v, %v", res, err)
	}
	for id, name := range map[string]string{"t1": "v1 Update", "t2": "v1 UpsertBatch"} {
		g, err := r3.Get(ctx, id)
		if err != nil || g.Name != name || g.Note == nil || *g.Note != "only v3 knows" || g.Prio != 7 {
			t.Errorf("version-3 Get %s after a write of the running version-1 process: %+v, %v; want name %q, note and prio 7 kept", id, g, err, name)
		}
	}
}

// createNoted opens a repository of the version-3 code (migrations fsys; code not unique)
// and creates t1 and t2 with note, which only that version knows.
func createNoted(ctx context.Context, t *testing.T, m *pool.Manager, cfg pool.S3PoolConfig, fsys fs.FS, note string) *repo.Collection[itemV2] {
	t.Helper()
	r3, err := openItems(ctx, t, m, cfg, itemV2PlainCodeSchema, s3.WithMigrations("shop", fsys))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"t1", "t2"} {
		if _, err := r3.Create(ctx, itemV2{ID: id, Name: "n", Title: ptr("T"), Note: ptr(note), Prio: 7}); err != nil {
			t.Fatal(err)
		}
	}
	return r3
}
