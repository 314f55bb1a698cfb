package elasticsearch_test

import (
	"slices"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/migratetest"
	"github.com/repokit/repokit/internal/recordtest"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// item3 is item1 with an optional note, and sku unique (see TestMigrateOlderCodeRestarts).
type item3 struct {
	item1
	Note *string `json:"note,omitempty"`
}

// item3Desc has sku unique; item2nDesc (item1 with note) does not.
var (
	item3Desc  = recordtest.MustNew[item3]("Item", recordtest.Tag("Sku", ",unique"))
	item2nDesc = recordtest.MustNew[item3]("Item")
)

// item1t is item1 with label renamed to title.
type item1t struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Qty           int64  `json:"qty"`
	Kind          string `json:"kind"`
	Sku           string `json:"sku"`
	Title         string `json:"title"`
	Score         int64  `json:"score"`
	RecordVersion string `json:"-"`
}

var item1tDesc = recordtest.MustNew[item1t]("Item")

// TestMigrateOlderCodeRestarts is a rolling deploy: code of version 1 starts again after
// newer versions were applied. It works after additive changes (a new field, an enum
// value) and a rename while the schema keeps the old name, and is refused with
// ErrSchemaAhead, saying why, once a field became unique (its writes would not reserve
// values) or the old name of a renamed field was dropped.
func TestMigrateOlderCodeRestarts(t *testing.T) {
	t.Run("additive then unique", func(t *testing.T) {
		e := newMigEnv(t)
		loadItems(t, e, e.v1Repo(t), 10)
		v2 := e.v1.Clone()
		v2.Records[0].Fields = append(v2.Records[0].Fields, migrate.Field{Name: "note", Type: "string"})
		v2.Records[0].Field("kind").Values = []string{"a", "b", "c"}
		v3 := v2.Clone()
		v3.Records[0].Field("sku").Unique = true
		dirs := history(t, false, e.v1, v2, v3)
		if _, err := e.migrator(t, dirs[1]).Apply(e.ctx); err != nil {
			t.Fatal(err)
		}
		open := func(desc *record.Desc[item1], dir int) (*repo.Collection[item1], error) {
			return openAt(e, desc, dirs[dir])
		}
		r1, err := open(item1Desc, 0)
		if err != nil {
			t.Fatalf("version-1 constructor on a cluster at version 2: %v", err)
		}
		defer r1.Close()
		if _, err := r1.Create(e.ctx, item1{ID: "new", Name: "n", Sku: "s-new", Label: "l"}); err != nil {
			t.Fatalf("version-1 Create: %v", err)
		}
		if got, err := r1.Get(e.ctx, "new"); err != nil || got.Label != "l" {
			t.Errorf("version-1 Get: %+v, %v", got, err)
		}
		// Version 1's writes over documents of version 2 keep what only version 2 knows
		// (note), in Update, Upsert and the batch writes.
		r2 := mustOpenAt(t, e, item2nDesc, dirs[1])
		ids := []string{"k1", "k2", "k3", "k4"}
		for _, id := range ids {
			if _, err := r2.Create(e.ctx, item3{item1: item1{ID: id, Name: "n", Sku: "s-" + id, Label: "l"}, Note: ptr("only v2 knows")}); err != nil {
				t.Fatal(err)
			}
		}
		by := func(id, how string) item1 { return item1{ID: id, Name: how, Sku: "s-" + id, Label: "l"} }
		if _, err := r1.Update(e.ctx, by("k1", "v1 Update")); err != nil {
			t.Fatal(err)
		}
		if _, err := r1.Upsert(e.ctx, by("k2", "v1 Upsert")); err != nil {
			t.Fatal(err)
		}
		if res, err := r1.UpdateBatch(e.ctx, []item1{by("k3", "v1 UpdateBatch")}); err != nil || res[0].Err != nil {
			t.Fatalf("version-1 UpdateBatch: %+v, %v", res, err)
		}
		if res, err := r1.UpsertBatch(e.ctx, []item1{by("k4", "v1 UpsertBatch"), by("k5", "v1 UpsertBatch")}); err != nil || res[0].Err != nil || res[1].Err != nil {
			t.Fatalf("version-1 UpsertBatch: %+v, %v", res, err)
		}
		for i, how := range []string{"v1 Update", "v1 Upsert", "v1 UpdateBatch", "v1 UpsertBatch"} {
			g, err := r2.Get(e.ctx, ids[i])
			if err != nil || g.Name != how || g.Note == nil || *g.Note != "only v2 knows" {
				t.Errorf("version-2 Get %s after a version-1 %s: %+v, %v; want its note kept", ids[i], how, g, err)
			}
		}
		if g, err := r2.Get(e.ctx, "k5"); err != nil || g.Name != "v1 UpsertBatch" || g.Note != nil {
			t.Errorf("version-2 Get of a record version 1 created: %+v, %v", g, err)
		}

		if _, err := e.migrator(t, dirs[2]).Apply(e.ctx); err != nil {
			t.Fatal(err)
		}
		r3, err := openAt(e, item3Desc, dirs[2])
		if err != nil { // version-3 code reserves the stored values
			t.Fatal(err)
		}
		defer r3.Close()
		_, err = open(item1Desc, 0)
		migratetest.CheckAhead(t, err, 3, 1, true, "field sku is unique in a newer version")
		_, err = open(item1Desc, 1)
		migratetest.CheckAhead(t, err, 3, 2, true, "field sku is unique in a newer version")
	})
	t.Run("renamed", func(t *testing.T) {
		e := newMigEnv(t)
		loadItems(t, e, e.v1Repo(t), 10)
		v2 := e.v1.Clone()
		f := v2.Records[0].Field("label")
		f.Name, f.RenamedFrom = "title", "label"
		v3 := v2.Clone()
		v3.Records[0].Field("title").RenamedFrom = ""
		dirs := history(t, true, e.v1, v2, v3)
		if _, err := e.migrator(t, dirs[1]).Apply(e.ctx); err != nil {
			t.Fatal(err)
		}
		r2 := mustOpenAt(t, e, item1tDesc, dirs[1])
		if _, err := r2.Create(e.ctx, item1t{ID: "t1", Name: "n", Title: "T"}); err != nil {
			t.Fatal(err)
		}
		// While the schema says renamed_from, version-2 code writes the old name too: a
		// restarted version-1 process opens and reads it, also in copied documents, and its
		// writes (whole documents under the old name) read back through version 2.
		r1, err := openAt(e, item1Desc, dirs[0])
		if err != nil {
			t.Fatalf("version-1 constructor while the old name is kept: %v", err)
		}
		defer r1.Close()
		got, err := r1.Get(e.ctx, "t1")
		if err != nil || got.Label != "T" {
			t.Fatalf("version-1 Get of a version-2 write: %+v, %v; want label T", got, err)
		}
		if c, err := r1.Get(e.ctx, "i-00003"); err != nil || c.Label != "label 3" {
			t.Errorf("version-1 Get of a copied document: %+v, %v", c, err)
		}
		got.Name = "changed by v1"
		if _, err := r1.Update(e.ctx, got); err != nil {
			t.Fatal(err)
		}
		if _, err := r1.Update(e.ctx, item1{ID: "i-00004", Name: "n4", Label: "relabelled"}); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]item1t{"t1": {Name: "changed by v1", Title: "T"}, "i-00004": {Name: "n4", Title: "relabelled"}} {
			if g, err := r2.Get(e.ctx, id); err != nil || g.Name != want.Name || g.Title != want.Title {
				t.Errorf("version-2 Get %s after a version-1 update: %+v, %v; want %+v", id, g, err, want)
			}
		}
		if st, err := e.migrator(t, dirs[1]).Status(e.ctx); err != nil || !st.OK() {
			t.Errorf("status: %+v, %v", st, err)
		}

		// The contract step drops the old name: version-1 code is refused from then on.
		if _, err := e.migrator(t, dirs[2]).Apply(e.ctx); err != nil {
			t.Fatal(err)
		}
		_, err = openAt(e, item1Desc, dirs[0])
		migratetest.CheckAhead(t, err, 3, 1, true, "index "+e.index+": label: missing in the index")
		st, err := e.migrator(t, dirs[0]).Status(e.ctx)
		if err != nil || !slices.Contains(st.Drift, "the store is at version 3, newer than this history (1)") {
			t.Errorf("status with the history of version 1: %q, %v", st.Drift, err)
		}
		if st, err := e.migrator(t, dirs[2]).Status(e.ctx); err != nil || !st.OK() {
			t.Errorf("status after drop_old_name: %+v, %v", st, err)
		}
	})
}

// TestMigrateOlderCodeRunning is the usual rolling deploy: a process of version 1 is
// running when version 2 is applied. It reads the applied version again before a write
// once its last read is older than WithOlderCodeRecheck, and from then on its writes keep
// what only version 2 knows.
func TestMigrateOlderCodeRunning(t *testing.T) {
	e := newMigEnv(t)
	loadItems(t, e, e.v1Repo(t), 3)
	v2 := e.v1.Clone()
	v2.Records[0].Fields = append(v2.Records[0].Fields, migrate.Field{Name: "note", Type: "string"})
	dirs := history(t, false, e.v1, v2)
	if _, err := e.migrator(t, dirs[0]).Apply(e.ctx); err != nil {
		t.Fatal(err)
	}
	r1 := mustOpenAt(t, e, item1Desc, dirs[0], elasticsearch.WithOlderCodeRecheck(time.Millisecond))
	by := func(id, how string) item1 { return item1{ID: id, Name: how, Sku: "s-" + id, Label: "l"} }
	if _, err := r1.Create(e.ctx, by("k0", "before the apply")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.migrator(t, dirs[1]).Apply(e.ctx); err != nil {
		t.Fatal(err)
	}
	r2 := mustOpenAt(t, e, item2nDesc, dirs[1])
	for _, id := range []string{"k1", "k2"} {
		if _, err := r2.Create(e.ctx, item3{item1: by(id, "n"), Note: ptr("only v2 knows")}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(5 * time.Millisecond) // past the recheck age: the next write reads the applied version
	if _, err := r1.Update(e.ctx, by("k1", "v1 Update")); err != nil {
		t.Fatal(err)
	}
	if res, err := r1.UpsertBatch(e.ctx, []item1{by("k2", "v1 UpsertBatch")}); err != nil || res[0].Err != nil {
		t.Fatalf("version-1 UpsertBatch: %+v, %v", res, err)
	}
	for id, how := range map[string]string{"k1": "v1 Update", "k2": "v1 UpsertBatch"} {
		g, err := r2.Get(e.ctx, id)
		if err != nil || g.Name != how || g.Note == nil || *g.Note != "only v2 knows" {
			t.Errorf("version-2 Get %s after a write of the running version-1 process: %+v, %v; want its note kept", id, g, err)
		}
	}
}
