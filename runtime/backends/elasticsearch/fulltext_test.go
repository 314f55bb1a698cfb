package elasticsearch_test

import (
	"context"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/pool"
)

// Making fields of an index that holds documents searchable: the migration copies the
// documents into a new index, computing their terms in Go, and version 2 finds the old
// documents and new ones.
func TestMigrateMakeSearchable(t *testing.T) {
	cfg := testConfig(t)
	m := pool.New(pool.Options{})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	index, state := uniqueIndex(t, "doc"), uniqueIndex(t, "state")
	t.Cleanup(func() {
		for _, ix := range []string{index, index + "_v1", index + "_v2", state} {
			deleteIndex(t, m, cfg, ix)
		}
	})
	dirs := history(t, false, drivertest.DocState("doc", index, "", ""), drivertest.DocState("doc", index, "english", "simple"))

	r1, err := elasticsearch.NewRepository(ctx, m, cfg, drivertest.WithoutSearch(things.DocSchema), elasticsearch.WithIndex(index))
	if err != nil {
		t.Fatal(err)
	}
	old := []things.Doc{{ID: "old1", Body: ptr("Runners were running"), Title: ptr("Café")}, {ID: "old2", Note: ptr("nothing")}}
	if res, err := r1.CreateBatch(ctx, old); err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("CreateBatch: %v %v", err, res)
	}
	_ = r1.Close()

	mg, err := elasticsearch.NewMigrator(ctx, m, cfg, index, dirs[1], elasticsearch.WithStateIndex(state))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mg.Close() })
	if v, err := mg.Apply(ctx); err != nil || len(v) != 2 {
		t.Fatalf("Apply: %v %v", v, err)
	}
	r2, err := elasticsearch.NewRepository(ctx, m, cfg, things.DocSchema, elasticsearch.WithIndex(index),
		elasticsearch.WithMigrations(index, dirs[1]), elasticsearch.WithMigrationStateIndex(state))
	if err != nil {
		t.Fatalf("version 2 after the migration: %v", err)
	}
	defer r2.Close()
	drivertest.CheckSearchAfterMigration(ctx, t, r2, "runners were running")
	if st, err := mg.Status(ctx); err != nil || !st.OK() {
		t.Errorf("Status: %+v %v; want no pending and no drift", st, err)
	}
}
