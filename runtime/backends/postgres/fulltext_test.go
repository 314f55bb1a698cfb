package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// docState returns the migration state of things.Doc on table, its text fields searchable
// in the given languages ("" for not searchable).
func docState(table, body, title string) migrate.Schema {
	return migrate.Schema{Records: []migrate.Record{{
		Name: "Doc", Table: table, Index: "doc", Prefix: "doc", ID: migrate.ID{Name: "id", Type: "string"},
		Fields: []migrate.Field{
			{Name: "body", Type: "text", Search: body},
			{Name: "title", Type: "text", Search: title},
			{Name: "note", Type: "text"},
		},
	}}}
}

// Making existing fields of a table that holds data searchable, with the statements
// `repokit migrate diff` plans: the generated columns are computed for the stored rows, the
// GIN indexes built, the drift check passes, and Search finds the old rows and new ones.
// Dropping the search again leaves the table as the constructor of the old schema wants it.
func TestMigrateMakeSearchable(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	table := tableName(t, h.m, h.cfg, "ftmig")
	v1 := docState(table, "", "")
	td1, err := pgdialect.RecordTableDef(&v1.Records[0])
	if err != nil {
		t.Fatal(err)
	}
	h.exec(t, td1.SQL()...)
	h.exec(t, fmt.Sprintf(`INSERT INTO %s (id, body, title, repokit_version) VALUES ('old1', 'Runners were running', 'Café', 1), ('old2', NULL, NULL, 1)`, pgdialect.Quote(table)))

	apply := func(from, to migrate.Schema, version int64) {
		t.Helper()
		changes, err := migrate.Diff(&from, to, true)
		if err != nil {
			t.Fatal(err)
		}
		m := &migrate.Migration{Format: migrate.Format, Version: version, Name: "search", Changes: changes, Schema: to}
		stmts, _, err := pgdialect.MigrationStatements(from, m)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stmts {
			h.exec(t, s.SQL)
		}
	}
	v2 := docState(table, "english", "simple")
	apply(v1, v2, 2)

	d, err := postgres.New(ctx, h.m, h.cfg, things.DocSchema, postgres.WithTable(table))
	if err != nil {
		t.Fatalf("New after the migration (drift check): %v", err)
	}
	r := repo.New(things.DocSchema, d)
	defer r.Close()
	if _, err := r.Create(ctx, things.Doc{ID: "new1", Body: ptr("she runs"), Title: ptr("cafe run")}); err != nil {
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
		{"body phrase", Q().Where(F.Body.SearchPhrase("runner were")), []string{"old1"}},
	} {
		recs, err := r.Find(ctx, c.q.OrderBy(F.ID.Asc()))
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
	_ = r.Close()

	// Back to the schema without search: the tsvector columns are dropped.
	apply(v2, v1, 3)
	h.exec(t, fmt.Sprintf(`DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname LIKE '\_tsv\_%%' AND NOT attisdropped) THEN RAISE EXCEPTION 'a tsvector column is left'; END IF; END $$`, pgdialect.Literal(table)))
}
