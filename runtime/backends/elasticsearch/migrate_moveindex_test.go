package elasticsearch_test

import (
	"testing"

	"github.com/repokit/repokit/internal/recordtest"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// item1f is item1 with score widened to float (version 3 of TestMigrateChangeIndex).
type item1f struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	Qty           int64   `json:"qty"`
	Kind          string  `json:"kind"`
	Sku           string  `json:"sku"`
	Label         string  `json:"label"`
	Score         float64 `json:"score"`
	RecordVersion string  `json:"-"`
}

var item1fDesc = recordtest.MustNew[item1f]("Item")

// TestMigrateChangeIndex moves a record to another index name (change_index): no copy, the
// new name is an alias of the same index, and code of the previous version keeps reading
// and writing under the old name, also after a later migration copies the record into a new
// index (the copy moves both names).
func TestMigrateChangeIndex(t *testing.T) {
	e := newMigEnv(t)
	loadItems(t, e, e.v1Repo(t), 50)
	moved := e.index + "-moved"
	t.Cleanup(func() { deleteIndex(t, e.m, e.cfg, moved+"_v3") })
	v2 := e.v1.Clone()
	v2.Records[0].Index = moved
	v3 := v2.Clone()
	v3.Records[0].Field("score").Type = "float" // a copy into moved_v3
	dirs := history(t, false, e.v1, v2, v3)
	open := func(index string, dir int) *repo.Collection[item1] {
		t.Helper()
		r, err := elasticsearch.NewRepository(e.ctx, e.m, e.cfg, item1Desc, elasticsearch.WithIndex(index),
			elasticsearch.WithMigrations(e.pkg, dirs[dir]), elasticsearch.WithMigrationStateIndex(e.state))
		if err != nil {
			t.Fatalf("constructor of version %d on %s: %v", dir+1, index, err)
		}
		t.Cleanup(func() { _ = r.Close() })
		return r
	}
	plan, err := e.migrator(t, dirs[1]).Plan(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("plan: %v", plan)
	if _, err := e.migrator(t, dirs[1]).Apply(e.ctx); err != nil {
		t.Fatal(err)
	}
	old, cur := open(e.index, 0), open(moved, 1)
	check := func(r *repo.Collection[item1], id, label string) {
		t.Helper()
		if got, err := r.Get(e.ctx, id); err != nil || got.Label != label {
			t.Errorf("Get %s: %+v, %v; want label %q", id, got, err, label)
		}
	}
	check(cur, "i-00007", "label 7")
	if _, err := old.Create(e.ctx, item1{ID: "by-old", Name: "o", Label: "old"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cur.Create(e.ctx, item1{ID: "by-new", Name: "n", Label: "new"}); err != nil {
		t.Fatal(err)
	}
	check(cur, "by-old", "old")
	check(old, "by-new", "new")
	if n, err := cur.Count(e.ctx, query.New[item1]()); err != nil || n != 52 {
		t.Errorf("Count under the new name: %d, %v; want 52", n, err)
	}

	if _, err := e.migrator(t, dirs[2]).Apply(e.ctx); err != nil {
		t.Fatal(err)
	}
	st, err := e.migrator(t, dirs[2]).Status(e.ctx)
	if err != nil || !st.OK() {
		t.Errorf("Status after version 3: %+v, %v", st, err)
	}
	if _, err := old.Create(e.ctx, item1{ID: "by-old-2", Name: "o", Label: "old2"}); err != nil {
		t.Fatal(err)
	}
	r3, err := elasticsearch.NewRepository(e.ctx, e.m, e.cfg, item1fDesc, elasticsearch.WithIndex(moved),
		elasticsearch.WithMigrations(e.pkg, dirs[2]), elasticsearch.WithMigrationStateIndex(e.state))
	if err != nil {
		t.Fatalf("constructor of version 3: %v", err)
	}
	defer r3.Close()
	for id, label := range map[string]string{"by-old-2": "old2", "by-new": "new", "by-old": "old", "i-00009": "label 9"} {
		if got, err := r3.Get(e.ctx, id); err != nil || got.Label != label {
			t.Errorf("version 3 Get %s: %+v, %v; want label %q", id, got, err, label)
		}
	}
	if n, err := r3.Count(e.ctx, query.New[item1f]()); err != nil || n != 53 {
		t.Errorf("Count after the copy: %d, %v; want 53", n, err)
	}
}
