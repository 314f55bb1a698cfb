package s3

import (
	"strconv"
	"testing"
	"testing/fstest"

	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/record"
)

// TestObjectVersion reads the version encode writes, and 1 for every other body.
func TestObjectVersion(t *testing.T) {
	rev := revOpen + record.NewID() + `"`
	for _, c := range []struct {
		body string
		want int64
	}{
		{rev + `,"id":"a"}`, 1},
		{rev + `}`, 1},
		{rev + schemaOpen + `2,"id":"a"}`, 2},
		{rev + schemaOpen + `12}`, 12},
		{rev + schemaOpen + `x}`, 1},
		{`{"id":"a","@schema":3}`, 1}, // not where encode writes it: not repokit's
		{``, 1},
	} {
		if got := objectVersion([]byte(c.body)); got != c.want {
			t.Errorf("objectVersion(%s) = %d, want %d", c.body, got, c.want)
		}
	}
}

type benchRec struct {
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Title *string `json:"title,omitempty"`
	Qty   float64 `json:"qty"`
	Prio  int64   `json:"prio"`
}

// BenchmarkDecode measures what schema versions cost a read: a driver without migrations,
// one reading an object at its version (the fast path), and one upgrading an older object.
//
//	go test ./runtime/backends/s3 -run '^$' -bench Decode
func BenchmarkDecode(b *testing.B) {
	rec := func(fields ...migrate.Field) migrate.Schema {
		return migrate.Schema{Records: []migrate.Record{{Name: "R", Table: "r", Index: "r", Prefix: "r", ID: migrate.ID{Name: "id", Type: "string"}, Fields: fields}}}
	}
	var h migrate.History
	for i, s := range []migrate.Schema{
		rec(migrate.Field{Name: "name", Type: "string"}, migrate.Field{Name: "label", Type: "string"}, migrate.Field{Name: "qty", Type: "int"}),
		rec(migrate.Field{Name: "name", Type: "string"}, migrate.Field{Name: "title", Type: "string", RenamedFrom: "label"}, migrate.Field{Name: "qty", Type: "float"},
			migrate.Field{Name: "prio", Type: "int", Required: true, Default: int64(5)}),
	} {
		m, err := h.Next(s, "v"+strconv.Itoa(i+1), false)
		if err != nil {
			b.Fatal(err)
		}
		h = append(h, m)
	}
	fsys := fstest.MapFS{}
	for _, m := range h {
		data, _ := m.Encode()
		fsys[m.FileName()] = &fstest.MapFile{Data: data}
	}
	mig := &migrations{pkg: "p", fsys: fsys}
	schema, err := mig.schema("R")
	if err != nil {
		b.Fatal(err)
	}
	rev := revOpen + record.NewID() + `"`
	for _, c := range []struct {
		name   string
		schema *docSchema
		body   string
	}{
		{"no-migrations", nil, rev + `,"id":"a","name":"n","title":"t","qty":1.5,"prio":5}`},
		{"current", schema, rev + schemaOpen + `2,"id":"a","name":"n","title":"t","qty":1.5,"prio":5}`},
		{"upgrade", schema, rev + `,"id":"a","name":"n","label":"t","qty":1}`},
	} {
		d := &Driver[benchRec]{schema: c.schema}
		body := []byte(c.body)
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				var r benchRec
				if err := d.decode(body, &r); err != nil || r.Title == nil {
					b.Fatal(err, r)
				}
			}
		})
	}
}
