package pgdialect_test

import (
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/query"
)

// Defaults as pg_get_expr prints them match the constants DefaultSQL renders; other values
// are drift.
func TestLiveDriftDefaults(t *testing.T) {
	cases := []struct {
		kind  query.Kind
		want  string // DefaultSQL's form
		live  string // pg_get_expr's form
		drift bool
	}{
		{query.KindFloat, "1", "'1'::double precision", false},
		{query.KindInt, "-1", "'-1'::integer", false},
		{query.KindInt, "3000000000", "'3000000000'::bigint", false},
		{query.KindString, "'it''s'", "'it''s'::text", false},
		{query.KindBool, "TRUE", "true", false},
		{query.KindTime, "'2030-01-01T00:00:00Z'::timestamptz", "'2030-01-01 00:00:00+00'::timestamp with time zone", false},
		{query.KindUUID, "'6ba7b810-9dad-11d1-80b4-00c04fd430c8'::uuid", "'6ba7b810-9dad-11d1-80b4-00c04fd430c8'::uuid", false},
		{query.KindInt, "1", "2", true},
		{query.KindString, "'a'", "", true},
		{query.KindString, "", "'a'::text", true},
	}
	for _, c := range cases {
		td := pgdialect.TableDef{Table: "t", Columns: []pgdialect.ColumnDef{{Name: "id", Kind: query.KindString}, {Name: "c", Kind: c.kind, Optional: true, Default: c.want}}}
		live := pgdialect.LiveTable{Columns: td.ColumnList(), Defaults: map[string]string{}}
		if c.live != "" {
			live.Defaults["c"] = c.live
		}
		probs := td.LiveDrift(live)
		if got := len(probs) > 0; got != c.drift || (got && !strings.Contains(probs[0], `column "c" has default`)) {
			t.Errorf("%s default %s, live %s: drift %q, want drift %v", c.kind, c.want, c.live, probs, c.drift)
		}
	}
}

// The old column of a renamed field that keeps its old name, and its index, are not drift;
// a missing old column or trigger is.
func TestLiveDriftOldName(t *testing.T) {
	td := pgdialect.TableDef{Table: "t", Columns: []pgdialect.ColumnDef{{Name: "id", Kind: query.KindString},
		{Name: "title", Kind: query.KindString, Optional: true, OldName: "label"}}}
	cols := td.ColumnList()
	label := cols[1]
	label.Name = "label"
	live := pgdialect.LiveTable{Columns: append(cols, label), Defaults: map[string]string{},
		Indexes:  []pgdialect.LiveIndex{{Name: "t_label_idx", Columns: []string{"label"}, Valid: true, Method: "btree"}},
		Triggers: []string{pgdialect.CompatName("t", "title")}}
	if probs := td.LiveDrift(live); len(probs) > 0 {
		t.Errorf("drift %q, want none", probs)
	}
	live.Columns, live.Triggers = cols, nil
	probs := strings.Join(td.LiveDrift(live), "\n")
	for _, want := range []string{`column "label" (the old name of "title", kept for code of the previous version) is missing`,
		`trigger "t_title_compat" (keeps column "label" in step with "title") is missing`} {
		if !strings.Contains(probs, want) {
			t.Errorf("drift lacks %q:\n%s", want, probs)
		}
	}
}
