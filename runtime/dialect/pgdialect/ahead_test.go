package pgdialect_test

import (
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/query"
)

// What a newer version may change under older code, and what it may not.
func TestOlderCodeDrift(t *testing.T) {
	old := pgdialect.TableDef{Table: "t", Columns: []pgdialect.ColumnDef{{Name: "id", Kind: query.KindString},
		{Name: "n", Kind: query.KindInt, Optional: true},
		{Name: "s", Kind: query.KindEnum, Optional: true, Enum: []string{"a", "b"}, Unique: true}}}
	base := func() pgdialect.LiveTable {
		return pgdialect.LiveTable{Columns: old.ColumnList(), Defaults: map[string]string{},
			Checks:  []pgdialect.LiveCheck{{Name: pgdialect.IndexName("t", "s", "check"), Def: "CHECK ((s = ANY (ARRAY['a'::text, 'b'::text])))"}},
			Indexes: []pgdialect.LiveIndex{{Name: pgdialect.IndexName("t", "s", "key"), Columns: []string{"s"}, Unique: true, Valid: true, Method: "btree"}}}
	}
	cases := []struct {
		name   string
		change func(*pgdialect.LiveTable)
		want   string // "" for no drift
	}{
		{"unchanged", func(*pgdialect.LiveTable) {}, ""},
		{"column added", func(l *pgdialect.LiveTable) {
			l.Columns = append(l.Columns, pgdialect.Column{Name: "x", Type: "text", Collate: "C"})
			l.Indexes = append(l.Indexes, pgdialect.LiveIndex{Name: "t_x_idx", Columns: []string{"x"}, Valid: true, Method: "btree"})
		}, ""},
		{"required column with a default", func(l *pgdialect.LiveTable) {
			l.Columns = append(l.Columns, pgdialect.Column{Name: "w", Type: "double precision", NotNull: true})
			l.Defaults["w"] = "'1'::double precision"
		}, ""},
		{"int widened to float", func(l *pgdialect.LiveTable) { l.Columns[1].Type = "double precision" }, ""},
		{"enum value added", func(l *pgdialect.LiveTable) {
			l.Checks[0].Def = "CHECK ((s = ANY (ARRAY['a'::text, 'b'::text, 'c'::text])))"
		}, ""},
		{"required column without a default", func(l *pgdialect.LiveTable) {
			l.Columns = append(l.Columns, pgdialect.Column{Name: "w", Type: "bigint", NotNull: true})
		}, `column "w" (bigint NOT NULL) has no default`},
		{"column dropped", func(l *pgdialect.LiveTable) { l.Columns = append(l.Columns[:1], l.Columns[2:]...) }, `column "n" is gone`},
		{"type changed", func(l *pgdialect.LiveTable) { l.Columns[1].Type = "text" }, `column "n" has type text, which code of this version (bigint) cannot read`},
		{"made required", func(l *pgdialect.LiveTable) { l.Columns[1].NotNull = true }, `column "n" is NOT NULL`},
		{"enum value removed", func(l *pgdialect.LiveTable) {
			l.Checks[0].Def = "CHECK ((s = ANY (ARRAY['a'::text])))"
		}, `CHECK constraint "t_s_check" no longer allows b`},
		{"unique index dropped", func(l *pgdialect.LiveTable) { l.Indexes = nil }, `column "s" has no valid unique index`},
		{"unique index invalid", func(l *pgdialect.LiveTable) { l.Indexes[0].Valid = false }, `column "s" has no valid unique index`},
	}
	for _, c := range cases {
		live := base()
		c.change(&live)
		probs := strings.Join(old.OlderCodeDrift(live), "\n")
		if (c.want == "") != (probs == "") || !strings.Contains(probs, c.want) {
			t.Errorf("%s: %q, want %q", c.name, probs, c.want)
		}
	}
}
