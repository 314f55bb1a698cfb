package elasticsearch_test

import (
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// The migration tests use two hand-written versions of one record, as the generator would
// describe them: item1 (version 1) and item2 (version 2: label renamed to title, score
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
	Sku           string  `json:"sku"`
	Title         string  `json:"title"`
	Score         float64 `json:"score"`
	Note          *string `json:"note,omitempty"`
	Status        string  `json:"status"`
	RecordVersion string  `json:"-"`
}

func strField[T any](name string, get func(*T) *string) record.Field[T] {
	return record.Field[T]{Name: name, GoName: name, Kind: query.KindString, JSON: name, Str: func(r *T) (string, bool) { return *get(r), true }}
}

func intField[T any](name string, get func(*T) *int64) record.Field[T] {
	return record.Field[T]{Name: name, GoName: name, Kind: query.KindInt, JSON: name, Int: func(r *T) (int64, bool) { return *get(r), true }}
}

func descOf[T any](fields []record.Field[T], id func(*T) *string, ver func(*T) *string, addr func(*T) []any) *record.Desc[T] {
	return record.MustNew(&record.Desc[T]{
		Name: "Item", Index: "item", Fields: fields,
		GetID:      func(r *T) string { return *id(r) },
		SetID:      func(r *T, v string) { *id(r) = v },
		GetVersion: func(r *T) string { return *ver(r) },
		SetVersion: func(r *T, v string) { *ver(r) = v },
		Clone:      func(r *T) T { return *r },
		Prepare:    func(*T) error { return nil },
		Project:    func(dst, src *T, _ []int) { *dst = *src },
		Addr:       func(r *T, i int) any { return addr(r)[i] },
	})
}

var item1Desc = descOf([]record.Field[item1]{
	strField("id", func(r *item1) *string { return &r.ID }),
	strField("name", func(r *item1) *string { return &r.Name }),
	intField("qty", func(r *item1) *int64 { return &r.Qty }),
	strField("kind", func(r *item1) *string { return &r.Kind }),
	strField("sku", func(r *item1) *string { return &r.Sku }),
	strField("label", func(r *item1) *string { return &r.Label }),
	intField("score", func(r *item1) *int64 { return &r.Score }),
}, func(r *item1) *string { return &r.ID }, func(r *item1) *string { return &r.RecordVersion },
	func(r *item1) []any { return []any{&r.ID, &r.Name, &r.Qty, &r.Kind, &r.Sku, &r.Label, &r.Score} })

var item2Desc = func() *record.Desc[item2] {
	sku := strField("sku", func(r *item2) *string { return &r.Sku })
	sku.Unique = true
	return descOf([]record.Field[item2]{
		strField("id", func(r *item2) *string { return &r.ID }),
		strField("name", func(r *item2) *string { return &r.Name }),
		intField("qty", func(r *item2) *int64 { return &r.Qty }),
		strField("kind", func(r *item2) *string { return &r.Kind }),
		sku,
		strField("title", func(r *item2) *string { return &r.Title }),
		{Name: "score", GoName: "Score", Kind: query.KindFloat, JSON: "score", Float: func(r *item2) (float64, bool) { return r.Score, true }},
		{Name: "note", GoName: "Note", Kind: query.KindString, Optional: true, JSON: "note", Str: func(r *item2) (string, bool) {
			if r.Note == nil {
				return "", false
			}
			return *r.Note, true
		}},
		strField("status", func(r *item2) *string { return &r.Status }),
	}, func(r *item2) *string { return &r.ID }, func(r *item2) *string { return &r.RecordVersion },
		func(r *item2) []any {
			return []any{&r.ID, &r.Name, &r.Qty, &r.Kind, &r.Sku, &r.Title, &r.Score, &r.Note, &r.Status}
		})
}()

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

var tagDocDesc = func() *record.Desc[tagDoc] {
	d := *descOf([]record.Field[tagDoc]{
		strField("id", func(r *tagDoc) *string { return &r.ID }),
		strField("label", func(r *tagDoc) *string { return &r.Label }),
	}, func(r *tagDoc) *string { return &r.ID }, func(r *tagDoc) *string { return &r.RecordVersion },
		func(r *tagDoc) []any { return []any{&r.ID, &r.Label} })
	d.Name, d.Index = "Tag", "tag"
	return record.MustNew(&d)
}()
