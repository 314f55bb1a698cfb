package pgdialect_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/query"
)

// The cases the generator's golden files do not show: a schema-qualified table, a list
// enum's check, a GIN index, defaults, and names past PostgreSQL's 63-byte limit.
func TestTableDefSQL(t *testing.T) {
	td := pgdialect.TableDef{Table: "app.items", Columns: []pgdialect.ColumnDef{
		{Name: "id", Kind: query.KindUUID},
		{Name: "kind", Kind: query.KindEnum, Enum: []string{"a", "it's"}, Optional: true, Default: "'a'"},
		{Name: "tags", Kind: query.KindEnum, List: true, Enum: []string{"x"}, Indexed: true},
		{Name: "email", Kind: query.KindString, Unique: true},
		{Name: "rank", Kind: query.KindInt, Indexed: true, Optional: true},
	}}
	want := []string{
		`CREATE TABLE IF NOT EXISTS "app"."items" (
	"id" uuid NOT NULL,
	"kind" text COLLATE "C" DEFAULT 'a',
	"tags" text[] COLLATE "C",
	"email" text COLLATE "C" NOT NULL,
	"rank" bigint,
	"repokit_version" bigint NOT NULL,
	CONSTRAINT "items_pkey" PRIMARY KEY ("id"),
	CONSTRAINT "items_kind_check" CHECK ("kind" IN ('a', 'it''s')),
	CONSTRAINT "items_tags_check" CHECK ("tags" <@ ARRAY['x']::text[])
)`,
		`CREATE INDEX IF NOT EXISTS "items_tags_idx" ON "app"."items" USING gin ("tags")`,
		`CREATE UNIQUE INDEX IF NOT EXISTS "items_email_key" ON "app"."items" ("email")`,
		`CREATE INDEX IF NOT EXISTS "items_rank_idx" ON "app"."items" ("rank")`,
	}
	if got := td.SQL(); !slices.Equal(got, want) {
		t.Errorf("SQL() =\n%s\nwant\n%s", strings.Join(got, ";\n"), strings.Join(want, ";\n"))
	}
}

func TestIndexName(t *testing.T) {
	if got := pgdialect.IndexName("s.t", "c", "key"); got != "t_c_key" {
		t.Errorf("IndexName = %q", got)
	}
	long := strings.Repeat("x", 60)
	a, b := pgdialect.IndexName(long, "a", "idx"), pgdialect.IndexName(long, "b", "idx")
	if len(a) != 63 || len(b) != 63 || a == b || !strings.HasPrefix(a, long[:54]+"_") {
		t.Errorf("long names %q, %q: want 63 bytes each, distinct, the prefix kept", a, b)
	}
}

func TestQuoteAndLiteral(t *testing.T) {
	for in, want := range map[string]string{`a"b`: `"a""b"`, "a\x00b": `"ab"`, "x.y": `"x.y"`} {
		if got := pgdialect.Quote(in); got != want {
			t.Errorf("Quote(%q) = %q, want %q", in, got, want)
		}
	}
	if got := pgdialect.QuoteTable(`s.t"`); got != `"s"."t"""` {
		t.Errorf("QuoteTable = %q", got)
	}
	if got := pgdialect.Literal("it's"); got != "'it''s'" {
		t.Errorf("Literal = %q", got)
	}
}

func TestStaticSQL(t *testing.T) {
	named := func(n int, name string) string {
		if name == pgdialect.ExpectedVersionParam {
			return "@want"
		}
		return "$" + strconv.Itoa(n)
	}
	got := map[string]string{}
	for _, st := range pgdialect.StaticSQL("s.t", []string{"id", "n"}, named) {
		got[st.Name] = st.SQL
	}
	want := map[string]string{
		pgdialect.StmtGet:             `SELECT "id", "n", "repokit_version" FROM "s"."t" WHERE "id" = $1`,
		pgdialect.StmtInsert:          `INSERT INTO "s"."t" ("id", "n", "repokit_version") VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		pgdialect.StmtUpsert:          `INSERT INTO "s"."t" ("id", "n", "repokit_version") VALUES ($1, $2, $3) ON CONFLICT ("id") DO UPDATE SET "n" = EXCLUDED."n", "repokit_version" = EXCLUDED."repokit_version"`,
		pgdialect.StmtUpdate:          `UPDATE "s"."t" SET "n" = $2, "repokit_version" = $3 WHERE "id" = $1`,
		pgdialect.StmtUpdateIfVersion: `UPDATE "s"."t" SET "n" = $2, "repokit_version" = $3 WHERE "id" = $1 AND "repokit_version" = @want`,
		pgdialect.StmtDelete:          `DELETE FROM "s"."t" WHERE "id" = $1`,
		pgdialect.StmtDeleteIfVersion: `DELETE FROM "s"."t" WHERE "id" = $1 AND "repokit_version" = @want`,
		pgdialect.StmtExists:          `SELECT EXISTS (SELECT 1 FROM "s"."t" WHERE "id" = $1)`,
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s:\n got %s\nwant %s", name, got[name], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d statements, want %d", len(got), len(want))
	}
}

func TestDrift(t *testing.T) {
	want := pgdialect.TableDef{Columns: []pgdialect.ColumnDef{
		{Name: "id", Kind: query.KindString},
		{Name: "n", Kind: query.KindInt, Optional: true},
		{Name: "s", Kind: query.KindText},
	}}.ColumnList()
	if probs := pgdialect.Drift(want, want); probs != nil {
		t.Errorf("Drift of equal columns = %q", probs)
	}
	live := []pgdialect.Column{
		{Name: "extra", Type: "text", Collate: "C", NotNull: true},
		{Name: "id", Type: "text", NotNull: true},
		{Name: "n", Type: "bigint", NotNull: true},
		{Name: "repokit_version", Type: "bigint", NotNull: true},
	}
	got := pgdialect.Drift(live, want)
	exp := []string{
		`column "id" has type text, want text COLLATE "C"`,
		`column "n" is NOT NULL, want nullable`,
		`column "s" is missing (want text COLLATE "C" NOT NULL)`,
		`column "extra" (text COLLATE "C" NOT NULL) is not in the schema`,
	}
	if !slices.Equal(got, exp) {
		t.Errorf("Drift =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(exp, "\n"))
	}
}
