package elasticsearch_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
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

	mg, err := elasticsearch.NewMigrator(ctx, m, cfg, index, dirs[1], elasticsearch.WithStateIndex(state), elasticsearch.WithOlderCodeGrace(0))
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

// TestRelevanceAcrossPages reads a relevance order (query.OrderByRelevance) over three
// shards in pages of 2 (search_after on _score and the id, inside a point in time) and in
// one request: both orders are equal, so a page boundary loses, repeats or reorders no
// record, also among the many documents of equal score (equal texts), which the id orders.
// The scores are the same on every shard (dfs_query_then_fetch): the equal texts tie
// wherever they live.
func TestRelevanceAcrossPages(t *testing.T) {
	cfg := testConfig(t)
	m := pool.New(pool.Options{})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	index := uniqueIndex(t, "doc")
	paged, err := elasticsearch.NewRepository(ctx, m, cfg, things.DocSchema, elasticsearch.WithIndex(index),
		elasticsearch.WithIndexSettings(3, 0), elasticsearch.WithPageSize(2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = paged.Close(); deleteIndex(t, m, cfg, index) })
	whole, err := elasticsearch.NewRepository(ctx, m, cfg, things.DocSchema, elasticsearch.WithIndex(index))
	if err != nil {
		t.Fatal(err)
	}
	defer whole.Close()
	var docs []things.Doc
	for i := range 40 {
		body := strings.Repeat("apple ", i%4+1) + strings.Repeat("filler ", i%3)
		docs = append(docs, things.Doc{ID: fmt.Sprintf("d%02d", i), Body: ptr(body)})
	}
	docs = append(docs, things.Doc{ID: "x", Body: ptr("pear")})
	if res, err := paged.CreateBatch(ctx, docs); err != nil {
		t.Fatal(err)
	} else {
		for _, r := range res {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
	}
	F, Q := things.DocFields, things.DocQuery
	q := Q().Where(F.Body.Search("apple")).OrderByRelevance()
	want, err := whole.Find(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var got []things.Doc
	for d, err := range paged.Stream(ctx, q) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d)
	}
	ids := func(ds []things.Doc) []string {
		out := make([]string, len(ds))
		for i, d := range ds {
			out[i] = d.ID
		}
		return out
	}
	if len(want) != 40 || !slices.Equal(ids(got), ids(want)) {
		t.Fatalf("in pages of 2: %v\nin one request: %v", ids(got), ids(want))
	}
	// Equal texts (i ≡ j mod 12) are adjacent (they tie), in id order.
	for i := 1; i < len(want); i++ {
		a, b := want[i-1], want[i]
		if *a.Body == *b.Body && a.ID > b.ID {
			t.Errorf("equal scores out of id order: %s before %s", a.ID, b.ID)
		}
	}
	byText := map[string][]int{}
	for i, d := range want {
		byText[*d.Body] = append(byText[*d.Body], i)
	}
	for text, pos := range byText {
		if pos[len(pos)-1]-pos[0] != len(pos)-1 {
			t.Errorf("the documents of %q are not adjacent: positions %v", text, pos)
		}
	}
	if ids(want)[0] != "d03" {
		t.Errorf("first = %s, want d03 (apple four times, no filler)", ids(want)[0])
	}
}
