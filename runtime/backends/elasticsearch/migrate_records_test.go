package elasticsearch_test

import (
	"github.com/repokit/repokit/internal/recordtest"
	"github.com/repokit/repokit/runtime/migrate"
)

// The migration tests use two versions of one record, described by internal/recordtest as
// the generator would describe them: item1 (version 1) and item2 (version 2: label renamed to title, score
// widened to float, sku unique, qty indexed, kind gains "c", note and status added).

type item1 struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Qty           int64  `json:"qty"`
	Kind          string `json:"kind"`
	Sku           string `json:"sku"`
	Label         string `json:"label"`
	Score         int64  `json:"score"`
	RecordVersion string `json:"-"`
}

type item2 struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	Qty           int64   `json:"qty"`
	Kind          string  `json:"kind"`
	Sku           string  `json:"sku" record:",unique"`
	Title         string  `json:"title"`
	Score         float64 `json:"score"`
	Note          *string `json:"note,omitempty"`
	Status        string  `json:"status"`
	RecordVersion string  `json:"-"`
}

var (
	item1Desc = recordtest.MustNew[item1]("Item")
	item2Desc = recordtest.MustNew[item2]("Item")
)

// itemSchemas returns the migration states of version 1 and 2 of the item record on
// index (and, at version 2, a new record Tag on tags).
func itemSchemas(index, tags string) (v1, v2 migrate.Schema) {
	req := func(name, typ string) migrate.Field { return migrate.Field{Name: name, Type: typ, Required: true} }
	rec := migrate.Record{Name: "Item", Table: "item", Index: index, Prefix: "item", ID: migrate.ID{Name: "id", Type: "string"},
		Fields: []migrate.Field{req("name", "string"), req("qty", "int"), {Name: "kind", Type: "enum", Required: true, Values: []string{"a", "b"}},
			req("sku", "string"), req("label", "string"), req("score", "int")}}
	v1 = migrate.Schema{Records: []migrate.Record{rec}}
	r2 := rec
	r2.Fields = []migrate.Field{req("name", "string"), {Name: "qty", Type: "int", Required: true, Indexed: true},
		{Name: "kind", Type: "enum", Required: true, Values: []string{"a", "b", "c"}},
		{Name: "sku", Type: "string", Required: true, Unique: true}, {Name: "title", Type: "string", Required: true, RenamedFrom: "label"},
		req("score", "float"), {Name: "note", Type: "string"}, {Name: "status", Type: "string", Required: true, Default: "new"}}
	tag := migrate.Record{Name: "Tag", Table: "tag", Index: tags, Prefix: "tag", ID: migrate.ID{Name: "id", Type: "string"},
		Fields: []migrate.Field{req("label", "string")}}
	v2 = migrate.Schema{Records: []migrate.Record{r2, tag}}
	return v1, v2
}

// tagDoc is the record Tag that version 2 adds.
type tagDoc struct {
	ID            string `json:"id"`
	Label         string `json:"label"`
	RecordVersion string `json:"-"`
}

var tagDocDesc = recordtest.MustNew[tagDoc]("Tag")
