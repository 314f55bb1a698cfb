package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/repo"
)

// Making existing fields of a table that holds data searchable, with the statements
// `repokit migrate diff` plans: the generated columns are computed for the stored rows, the
// GIN indexes built, the drift check passes, and Search finds the old rows and new ones.
// Dropping the search again leaves the table as the constructor of the old schema wants it.
func TestMigrateMakeSearchable(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	table := tableName(t, h.m, h.cfg, "ftmig")
	v1 := drivertest.DocState(table, "doc", "", "")
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
	v2 := drivertest.DocState(table, "doc", "english", "simple")
	apply(v1, v2, 2)

	d, err := postgres.New(ctx, h.m, h.cfg, things.DocSchema, postgres.WithTable(table))
	if err != nil {
		t.Fatalf("New after the migration (drift check): %v", err)
	}
	r := repo.New(things.DocSchema, d)
	defer r.Close()
	drivertest.CheckSearchAfterMigration(ctx, t, r, "runner were")
	_ = r.Close()

	// Back to the schema without search: the tsvector columns are dropped.
	apply(v2, v1, 3)
	h.exec(t, fmt.Sprintf(`DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname LIKE '\_tsv\_%%' AND NOT attisdropped) THEN RAISE EXCEPTION 'a tsvector column is left'; END IF; END $$`, pgdialect.Literal(table)))
}
