package pgdialect_test

import (
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/migrate"
)

// A field of the test's v1 record "Order" (table "user"): every name is a reserved word.
func orderV1() migrate.Schema {
	return migrate.Schema{Records: []migrate.Record{{
		Name: "Order", Table: "user", Index: "user", Prefix: "user", ID: migrate.ID{Name: "from", Type: "string"},
		Fields: []migrate.Field{
			{Name: "select", Type: "string", Indexed: true},
			{Name: "group", Type: "enum", Values: []string{"a", "it's"}},
			{Name: "limit", Type: "int"},
			{Name: `we"ird`, Type: "string"},
		},
	}}}
}

// Each change kind renders its statements, with every identifier quoted.
func TestMigrationFile(t *testing.T) {
	v1 := orderV1()
	cases := []struct {
		name    string
		edit    func(r *migrate.Record)
		change  migrate.Change
		want    []string
		noTx    bool
		notWant []string
	}{
		{name: "add optional field", edit: func(r *migrate.Record) { r.Fields = append(r.Fields, migrate.Field{Name: "order", Type: "text"}) },
			change: migrate.Change{Kind: migrate.AddField, Field: "order"},
			want:   []string{`ALTER TABLE "user" ADD COLUMN IF NOT EXISTS "order" text COLLATE "C";`}},
		{name: "add required field with default", edit: func(r *migrate.Record) {
			r.Fields = append(r.Fields, migrate.Field{Name: "w", Type: "float", Required: true, Default: 1.5})
		}, change: migrate.Change{Kind: migrate.AddField, Field: "w", Default: 1.5},
			want: []string{`ALTER TABLE "user" ADD COLUMN IF NOT EXISTS "w" double precision DEFAULT 1.5 NOT NULL;`}},
		{name: "make unique", edit: func(r *migrate.Record) { r.Fields[0].Unique = true }, change: migrate.Change{Kind: migrate.AddUnique, Field: "select"},
			noTx: true,
			want: []string{`RAISE EXCEPTION 'cannot make Order.select unique: these values are stored more than once: %'`,
				`CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "user_select_key" ON "user" ("select");`,
				`DROP INDEX CONCURRENTLY IF EXISTS "user_select_idx";`}},
		{name: "add enum value", edit: func(r *migrate.Record) { r.Fields[1].Values = append(r.Fields[1].Values, "b") },
			change: migrate.Change{Kind: migrate.AddEnumValues, Field: "group", Values: []string{"b"}},
			want: []string{`ALTER TABLE "user" DROP CONSTRAINT IF EXISTS "user_group_check", ADD CONSTRAINT "user_group_check" CHECK ("group" IN ('a', 'it''s', 'b')) NOT VALID;`,
				`ALTER TABLE "user" VALIDATE CONSTRAINT "user_group_check";`},
			notWant: []string{"CONCURRENTLY"}},
		{name: "rename field", edit: func(r *migrate.Record) { r.Fields[0].Name = "where" },
			change: migrate.Change{Kind: migrate.RenameField, Field: "where", From: "select"},
			want: []string{`ALTER TABLE "user" RENAME COLUMN "select" TO "where";`,
				`ALTER INDEX IF EXISTS "user_select_idx" RENAME TO "user_where_idx";`},
			notWant: []string{"CREATE INDEX"}},
		{name: "rename field online", edit: func(r *migrate.Record) {
			r.Fields[1].Name, r.Fields[1].OldName, r.Fields[1].Values = "order", "group", []string{"a", "it's", "b"}
			r.Fields[1].Unique = true
		}, change: migrate.Change{Kind: migrate.RenameField, Field: "order", From: "group"},
			noTx: true,
			want: []string{`ALTER TABLE "user" ADD COLUMN IF NOT EXISTS "order" text COLLATE "C";`,
				`CREATE OR REPLACE FUNCTION "user_order_compat"() RETURNS trigger LANGUAGE plpgsql`,
				`NEW."order" := NEW."group";`, `NEW."group" := NEW."order";`,
				`CREATE TRIGGER "user_order_compat" BEFORE INSERT OR UPDATE ON "user" FOR EACH ROW EXECUTE FUNCTION "user_order_compat"()`,
				`UPDATE "user" SET "order" = "group" WHERE "from" = ANY (ids) AND "order" IS DISTINCT FROM "group";`, "COMMIT;",
				`ALTER TABLE "user" DROP CONSTRAINT IF EXISTS "user_group_check";`,
				`ADD CONSTRAINT "user_order_check" CHECK ("order" IN ('a', 'it''s', 'b')) NOT VALID;`,
				`CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "user_order_key" ON "user" ("order");`},
			notWant: []string{"RENAME COLUMN", `RENAME CONSTRAINT`}},
		{name: "rename and widen online", edit: func(r *migrate.Record) {
			r.Fields[2].Name, r.Fields[2].OldName, r.Fields[2].Type = "max", "limit", "float"
		}, change: migrate.Change{Kind: migrate.RenameField, Field: "max", From: "limit"},
			noTx: true,
			want: []string{`ADD COLUMN IF NOT EXISTS "max" double precision;`,
				`UPDATE "user" SET "max" = CAST("limit" AS double precision)`},
			notWant: []string{"RENAME COLUMN", "USING"}},
		{name: "drop old name", edit: func(r *migrate.Record) {},
			change: migrate.Change{Kind: migrate.DropOldName, Field: "select", From: "sel", Destructive: true},
			want: []string{`DROP TRIGGER IF EXISTS "user_select_compat" ON "user";`, `DROP FUNCTION IF EXISTS "user_select_compat"();`,
				`ALTER TABLE "user" DROP COLUMN IF EXISTS "sel";`}},
		{name: "widen", edit: func(r *migrate.Record) { r.Fields[2].Type = "float" },
			change: migrate.Change{Kind: migrate.ChangeType, Field: "limit", From: "int", To: "float"},
			want:   []string{`ALTER TABLE "user" ALTER COLUMN "limit" TYPE double precision USING "limit"::double precision;`}},
		{name: "set required", edit: func(r *migrate.Record) { r.Fields[3].Required, r.Fields[3].Default = true, "x" },
			change: migrate.Change{Kind: migrate.SetRequired, Field: `we"ird`, Default: "x"},
			want: []string{`UPDATE "user" SET "we""ird" = 'x' WHERE "we""ird" IS NULL;`,
				`ADD CONSTRAINT "user_we""ird_required" CHECK ("we""ird" IS NOT NULL) NOT VALID;`,
				`ALTER TABLE "user" VALIDATE CONSTRAINT "user_we""ird_required";`,
				`ALTER TABLE "user" ALTER COLUMN "we""ird" SET NOT NULL;`}},
		{name: "drop field", edit: func(r *migrate.Record) { r.Fields = r.Fields[:3] },
			change: migrate.Change{Kind: migrate.DropField, Field: `we"ird`, Destructive: true},
			want:   []string{`ALTER TABLE "user" DROP COLUMN IF EXISTS "we""ird";`}},
		{name: "rename table", edit: func(r *migrate.Record) { r.Table = "table" },
			change: migrate.Change{Kind: migrate.ChangeTable, From: "user", To: "table"},
			want: []string{`ALTER TABLE IF EXISTS "user" RENAME TO "table";`, `ALTER INDEX IF EXISTS "user_pkey" RENAME TO "table_pkey";`,
				`ALTER INDEX IF EXISTS "user_select_idx" RENAME TO "table_select_idx";`,
				`ALTER TABLE "table" RENAME CONSTRAINT "user_group_check" TO "table_group_check";`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			after := v1.Clone()
			c.edit(&after.Records[0])
			c.change.Record = "Order"
			m := &migrate.Migration{Format: migrate.Format, Version: 2, Name: "x", Changes: []migrate.Change{c.change}, Schema: after}
			name, data, err := pgdialect.MigrationFile(v1, m)
			if err != nil {
				t.Fatal(err)
			}
			if name != "postgres/00002_x.sql" {
				t.Errorf("name %q", name)
			}
			sql := string(data)
			if !strings.Contains(sql, "-- +goose Up\n") || strings.Contains(sql, "NO TRANSACTION") != c.noTx {
				t.Errorf("goose annotations wrong (NO TRANSACTION want %v):\n%s", c.noTx, sql)
			}
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

// The baseline creates with the constructors' statements (IF NOT EXISTS, their names).
func TestMigrationFileBaseline(t *testing.T) {
	v1 := orderV1()
	m := &migrate.Migration{Format: migrate.Format, Version: 1, Name: "baseline", Changes: []migrate.Change{{Kind: migrate.AddRecord, Record: "Order"}}, Schema: v1}
	_, data, err := pgdialect.MigrationFile(migrate.Schema{}, m)
	if err != nil {
		t.Fatal(err)
	}
	td, _ := pgdialect.RecordTableDef(&v1.Records[0])
	for _, s := range td.SQL() {
		if !strings.Contains(string(data), s+";\n") {
			t.Errorf("baseline lacks %s", s)
		}
	}
	if strings.Contains(string(data), "NO TRANSACTION") {
		t.Error("baseline runs outside a transaction")
	}
}
