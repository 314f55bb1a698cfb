package pgdialect_test

import (
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/migrate"
)

// The full-text changes, planned by migrate.Diff and rendered: a new searchable field, a
// field made searchable, a language change, search dropped, a searchable field dropped.
func TestMigrationFileSearch(t *testing.T) {
	v1 := orderV1()
	v1.Records[0].Fields = append(v1.Records[0].Fields, migrate.Field{Name: "body", Type: "text", Search: "english"}, migrate.Field{Name: "plain", Type: "text"})
	const (
		setup  = "CREATE TEXT SEARCH CONFIGURATION repokit_english (COPY = pg_catalog.simple);"
		addTSV = `ALTER TABLE "user" ADD COLUMN IF NOT EXISTS "_tsv_%s" tsvector GENERATED ALWAYS AS (to_tsvector('repokit_%s'::regconfig, regexp_replace(coalesce("%s", '') COLLATE "C.utf8", '[^[:alnum:]]+', ' ', 'g'))) STORED;`
	)
	add := func(col, lang string) string {
		return strings.NewReplacer("%s", col).Replace(strings.Replace(addTSV, "repokit_%s", "repokit_"+lang, 1))
	}
	cases := []struct {
		name    string
		edit    func(r *migrate.Record)
		want    []string
		notWant []string
	}{
		{name: "new searchable field", edit: func(r *migrate.Record) {
			r.Fields = append(r.Fields, migrate.Field{Name: "note", Type: "text", Search: "simple"})
		}, want: []string{`ALTER TABLE "user" ADD COLUMN IF NOT EXISTS "note" text COLLATE "C";`, setup, add("note", "simple"),
			`CREATE INDEX CONCURRENTLY IF NOT EXISTS "user_note_search" ON "user" USING gin ("_tsv_note");`}},
		{name: "make searchable", edit: func(r *migrate.Record) { r.Fields[5].Search = "english" },
			want:    []string{setup, add("plain", "english"), `CREATE INDEX CONCURRENTLY IF NOT EXISTS "user_plain_search" ON "user" USING gin ("_tsv_plain");`},
			notWant: []string{`DROP COLUMN`}},
		{name: "change language", edit: func(r *migrate.Record) { r.Fields[4].Search = "simple" },
			want: []string{`ALTER TABLE "user" DROP COLUMN IF EXISTS "_tsv_body";`, add("body", "simple"),
				`CREATE INDEX CONCURRENTLY IF NOT EXISTS "user_body_search" ON "user" USING gin ("_tsv_body");`}},
		{name: "drop search", edit: func(r *migrate.Record) { r.Fields[4].Search = "" },
			want: []string{`ALTER TABLE "user" DROP COLUMN IF EXISTS "_tsv_body";`}, notWant: []string{"CREATE TEXT SEARCH", "CREATE INDEX"}},
		{name: "drop searchable field", edit: func(r *migrate.Record) { r.Fields = append(r.Fields[:4], r.Fields[5]) },
			want: []string{`ALTER TABLE "user" DROP COLUMN IF EXISTS "_tsv_body";` + "\n" + `ALTER TABLE "user" DROP COLUMN IF EXISTS "body";`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			after := v1.Clone()
			c.edit(&after.Records[0])
			changes, err := migrate.Diff(&v1, after, true)
			if err != nil {
				t.Fatal(err)
			}
			m := &migrate.Migration{Format: migrate.Format, Version: 2, Name: "x", Changes: changes, Schema: after}
			_, data, err := pgdialect.MigrationFile(v1, m)
			if err != nil {
				t.Fatal(err)
			}
			sql := string(data)
			for _, w := range c.want {
				if !strings.Contains(sql, w) {
					t.Errorf("missing %s\nin\n%s", w, sql)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(sql, w) {
					t.Errorf("unexpected %s\nin\n%s", w, sql)
				}
			}
		})
	}
}
