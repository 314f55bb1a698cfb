package elasticsearch_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// docState returns the migration state of things.Doc on index, its text fields searchable
// in the given languages ("" for not searchable).
func docState(index, body, title string) migrate.Schema {
	return migrate.Schema{Records: []migrate.Record{{
		Name: "Doc", Table: "doc", Index: index, Prefix: "doc", ID: migrate.ID{Name: "id", Type: "string"},
		Fields: []migrate.Field{
			{Name: "body", Type: "text", Search: body},
			{Name: "title", Type: "text", Search: title},
			{Name: "note", Type: "text"},
		},
	}}}
}

// unsearchableDoc is things.DocSchema without search: the descriptor of version 1.
func unsearchableDoc() *record.Desc[things.Doc] {
	d := *things.DocSchema
	d.Fields = slices.Clone(d.Fields)
	for i := range d.Fields {
		d.Fields[i].Search = ""
	}
	return record.MustNew(&d)
}

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
	dirs := history(t, false, docState(index, "", ""), docState(index, "english", "simple"))

	r1, err := elasticsearch.NewRepository(ctx, m, cfg, unsearchableDoc(), elasticsearch.WithIndex(index))
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
	if _, err := r2.Create(ctx, things.Doc{ID: "new1", Body: ptr("she runs"), Title: ptr("cafe run")}); err != nil {
		t.Fatal(err)
	}
	F, Q := things.DocFields, things.DocQuery
	for _, c := range []struct {
		what string
		q    query.Query[things.Doc]
		want []string
	}{
		{"body run", Q().Where(F.Body.Search("run")), []string{"new1", "old1"}},
		{"title café", Q().Where(F.Title.Search("café")), []string{"new1", "old1"}},
		{"body phrase", Q().Where(F.Body.SearchPhrase("runners were running")), []string{"old1"}},
	} {
		recs, err := r2.Find(ctx, c.q.OrderBy(F.ID.Asc()))
		if err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		var got []string
		for _, x := range recs {
			got = append(got, x.ID)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Search %s after the migration: %v, want %v", c.what, got, c.want)
		}
	}
	if st, err := mg.Status(ctx); err != nil || !st.OK() {
		t.Errorf("Status: %+v %v; want no pending and no drift", st, err)
	}
}
