package elasticsearch

import (
	"testing"

	"github.com/repokit/repokit/runtime/migrate"
)

// TestReadUpgrade checks the upgrade of documents old code wrote after a migration: a
// renamed field moved (through two renames), a required default filled, documents in the
// newest form returned as they are.
func TestReadUpgrade(t *testing.T) {
	rec := func(fields ...migrate.Field) migrate.Schema {
		return migrate.Schema{Records: []migrate.Record{{Name: "Item", Table: "item", Index: "item", Prefix: "item", ID: migrate.ID{Name: "id", Type: "string"}, Fields: fields}}}
	}
	v1 := rec(migrate.Field{Name: "label", Type: "string", Required: true})
	v2 := rec(migrate.Field{Name: "title", Type: "string", Required: true, RenamedFrom: "label"})
	v3 := rec(migrate.Field{Name: "heading", Type: "string", Required: true, RenamedFrom: "title"},
		migrate.Field{Name: "status", Type: "string", Required: true, Default: "new"})
	var h migrate.History
	for i, s := range []migrate.Schema{v1, v2, v3} {
		// the second rename drops the old name label that title kept (drop_old_name,
		// destructive; nothing to do in Elasticsearch)
		m, err := h.Next(s, "m"+string(rune('a'+i)), i == 2)
		if err != nil {
			t.Fatal(err)
		}
		h = append(h, m)
	}
	u := newReadUpgrade(h, "Item")
	if u == nil {
		t.Fatal("no read upgrade")
	}
	for _, tc := range []struct{ in, want string }{
		{`{"id":"a","label":"L"}`, `{"heading":"L","id":"a","status":"new"}`},
		{`{"id":"a","title":"T","status":"x"}`, `{"heading":"T","id":"a","status":"x"}`},
		{`{"id":"a","heading":"H","status":"x"}`, `{"id":"a","heading":"H","status":"x"}`},
		{`{"id":"a","heading":"H","status":null}`, `{"heading":"H","id":"a","status":"new"}`},
	} {
		if got := string(u.apply([]byte(tc.in))); got != tc.want {
			t.Errorf("apply(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
