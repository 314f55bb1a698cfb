package drivertest

import (
	"context"
	"slices"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// DocState returns the migration state of things.Doc in table and index, its text fields
// Body and Title searchable in the given languages ("" for not searchable): the states a
// backend's test of making stored fields searchable migrates between.
func DocState(table, index, body, title string) migrate.Schema {
	return migrate.Schema{Records: []migrate.Record{{
		Name: "Doc", Table: table, Index: index, Prefix: "doc", ID: migrate.ID{Name: "id", Type: "string"},
		Fields: []migrate.Field{
			{Name: "body", Type: "text", Search: body},
			{Name: "title", Type: "text", Search: title},
			{Name: "note", Type: "text"},
		},
	}}}
}

// CheckSearchAfterMigration checks r, a things.Doc repository whose Body (English) and
// Title (simple) a migration made searchable after it stored old1 (Body "Runners were
// running", Title "Café") and old2 (neither): it creates new1 (Body "she runs", Title "cafe
// run") and fails t unless Search finds old1 and new1 by "run" in Body and "café" in Title,
// and SearchPhrase(phrase) in Body finds old1 alone.
func CheckSearchAfterMigration(ctx context.Context, t testing.TB, r repo.Repository[things.Doc], phrase string) {
	t.Helper()
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
		{"body phrase", Q().Where(F.Body.SearchPhrase(phrase)), []string{"old1"}},
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
}
