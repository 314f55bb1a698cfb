package memory_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/repokit/repokit/internal/recordtest"
	"github.com/repokit/repokit/runtime/backends/memory"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// gadget is the version 2 form of a record whose version 1 had label (renamed to title)
// and an int qty (widened to float); version 2 added prio (required, default 7).
type gadget struct {
	ID            string  `json:"id"`
	Title         *string `json:"title,omitempty"`
	Qty           float64 `json:"qty"`
	Prio          int64   `json:"prio"`
	RecordVersion string  `json:"-"`
}

// gadgetSchema prepares as generated code does: its Prepare checks the id's text but not
// that there is one, which Import checks as Create does ("no id" below).
var gadgetSchema = recordtest.MustNew[gadget]("Gadget")

// gadgetUpgrader returns the upgrader of Gadget over a two-version history.
func gadgetUpgrader(t *testing.T) *migrate.Upgrader {
	t.Helper()
	rec := func(fields ...migrate.Field) migrate.Record {
		return migrate.Record{Name: "Gadget", Table: "gadget", Index: "gadget", Prefix: "gadget", ID: migrate.ID{Name: "id", Type: "string"}, Fields: fields}
	}
	var h migrate.History
	for i, s := range []migrate.Schema{
		{Records: []migrate.Record{rec(migrate.Field{Name: "label", Type: "string"}, migrate.Field{Name: "qty", Type: "int", Required: true})}},
		{Records: []migrate.Record{rec(migrate.Field{Name: "title", Type: "string", RenamedFrom: "label"}, migrate.Field{Name: "qty", Type: "float", Required: true},
			migrate.Field{Name: "prio", Type: "int", Required: true, Default: int64(7)})}},
	} {
		m, err := h.Next(s, []string{"baseline", "two"}[i], false)
		if err != nil {
			t.Fatal(err)
		}
		h = append(h, m)
	}
	up, err := h.Upgrader("Gadget")
	if err != nil {
		t.Fatal(err)
	}
	return up
}

// TestImportUpgrades loads documents written at version 1 into version 2 records: renamed
// values moved, widened numbers converted, defaults filled, so that queries on the new
// fields see them; documents of the newest version load as they are.
func TestImportUpgrades(t *testing.T) {
	ctx := context.Background()
	up := gadgetUpgrader(t)
	d := memory.New(gadgetSchema)
	r := repo.New(gadgetSchema, d)
	defer r.Close()
	for _, c := range []struct {
		name string
		from int64
		doc  string
		want *gadget // nil: the document is refused with kind
		kind error
	}{
		{"v1", 1, `{"@rev":"x","id":"a","label":"old","qty":3}`, &gadget{ID: "a", Title: ptr("old"), Qty: 3, Prio: 7}, nil},
		{"v1 without the optional", 1, `{"id":"b","qty":-2}`, &gadget{ID: "b", Qty: -2, Prio: 7}, nil},
		{"v2 as it is", 2, `{"id":"c","title":"t","qty":1.5,"prio":1}`, &gadget{ID: "c", Title: ptr("t"), Qty: 1.5, Prio: 1}, nil},
		{"not JSON", 1, `{"id":`, nil, repo.ErrInvalidInput},
		{"no id", 1, `{"qty":1}`, nil, repo.ErrInvalidInput},
		{"invalid record", 1, `{"id":"d","label":"a\u0000b","qty":1}`, nil, repo.ErrInvalidInput},
		{"over the portable limit", 2, `{"id":"e","title":"` + strings.Repeat("x", repo.MaxStringBytes+1) + `","qty":1,"prio":1}`, nil, repo.ErrInvalidInput},
		{"stored id", 1, `{"id":"a","qty":9}`, nil, repo.ErrAlreadyExists},
	} {
		res, err := d.Import(ctx, [][]byte{[]byte(c.doc)}, up, c.from)
		if err != nil {
			t.Fatal(err)
		}
		if c.want == nil {
			if !errors.Is(res[0].Err, c.kind) {
				t.Errorf("%s: %v, want %v", c.name, res[0].Err, c.kind)
			}
			continue
		}
		if res[0].Err != nil {
			t.Fatalf("%s: %v", c.name, res[0].Err)
		}
		got, err := r.Get(ctx, c.want.ID)
		got.RecordVersion = ""
		if err != nil || got.ID != c.want.ID || got.Qty != c.want.Qty || got.Prio != c.want.Prio || (got.Title == nil) != (c.want.Title == nil) || (got.Title != nil && *got.Title != *c.want.Title) {
			t.Errorf("%s: read %+v, %v; want %+v", c.name, got, err, *c.want)
		}
	}
	for _, c := range []struct {
		q    query.Query[gadget]
		want int64
	}{
		{query.New[gadget]().Where(query.NewIntField[gadget]("prio").EQ(7)), 2},
		{query.New[gadget]().Where(query.NewStringField[gadget]("title").EQ("old")), 1},
		{query.New[gadget]().Where(query.NewFloatField[gadget]("qty").LT(0)), 1},
	} {
		if n, err := r.Count(ctx, c.q); err != nil || n != c.want {
			t.Errorf("count: %d, %v; want %d", n, err, c.want)
		}
	}
}
