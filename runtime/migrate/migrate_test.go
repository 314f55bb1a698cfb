package migrate

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// v1 is a product record as a first schema has it.
func v1() Schema {
	return Schema{Records: []Record{{
		Name: "Product", Table: "product", Index: "product", Prefix: "product",
		ID: ID{Name: "id", Type: "uuid", Generated: true},
		Fields: []Field{
			{Name: "name", Type: "string", Required: true},
			{Name: "stock", Type: "int"},
			{Name: "status", Type: "enum", Values: []string{"draft", "active"}, Default: "draft"},
			{Name: "sku", Type: "string"},
			{Name: "label", Type: "string"},
		},
	}}}
}

// v2 is v1 after the day-2 changes of the schema-evolution issue.
func v2() Schema {
	s := v1().Clone()
	p := &s.Records[0]
	p.Fields[0].Indexed = true                                   // index an existing field
	p.Fields[1].Type = "float"                                   // widen int to float
	p.Fields[2].Values = append(p.Fields[2].Values, "gone")      // add an enum value
	p.Fields[3].Unique = true                                    // make a field unique
	p.Fields[4].Name, p.Fields[4].RenamedFrom = "title", "label" // rename a field
	p.Fields = append(p.Fields,
		Field{Name: "color", Type: "string"},                               // add an optional field
		Field{Name: "weight", Type: "float", Required: true, Default: 1.5}, // required, with a default
	)
	s.Records = append(s.Records, Record{Name: "Review", Table: "review", Index: "review", Prefix: "review",
		ID: ID{Name: "id", Type: "string"}, Fields: []Field{{Name: "stars", Type: "int", Required: true}}})
	return s
}

func TestDiffDay2(t *testing.T) {
	old := v1()
	got, err := Diff(&old, v2(), false)
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{
		{Kind: AddIndex, Record: "Product", Field: "name"},
		{Kind: ChangeType, Record: "Product", Field: "stock", From: "int", To: "float"},
		{Kind: AddEnumValues, Record: "Product", Field: "status", Values: []string{"gone"}},
		{Kind: AddUnique, Record: "Product", Field: "sku"},
		{Kind: RenameField, Record: "Product", Field: "title", From: "label"},
		{Kind: AddField, Record: "Product", Field: "color"},
		{Kind: AddField, Record: "Product", Field: "weight", Default: 1.5},
		{Kind: AddRecord, Record: "Review"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	// Once applied, the same schema diffs to nothing, renamed_from still written.
	h := History{{Format: Format, Version: 1, Name: "baseline", Schema: v1()}}
	m, err := h.Next(v2(), "day2", false)
	if err != nil || m == nil {
		t.Fatalf("Next: %v, %v", m, err)
	}
	h = append(h, m)
	if m2, err := h.Next(v2(), "again", false); err != nil || m2 != nil {
		t.Errorf("Next after applying: %v, %v; want nil, nil", m2, err)
	}
	if f := m.Schema.Record("Product").Field("title"); f.OldName != "label" {
		t.Errorf("state after the rename: title keeps old name %q, want label", f.OldName)
	}
}

// A renamed field keeps its old name while the schema says renamed_from; without it, the
// old name is dropped by a destructive drop_old_name.
func TestDiffDropOldName(t *testing.T) {
	h := History{{Format: Format, Version: 1, Name: "baseline", Schema: v1()}}
	m, err := h.Next(v2(), "day2", false)
	if err != nil {
		t.Fatal(err)
	}
	h = append(h, m)
	v3 := v2()
	v3.Records[0].Fields[4].RenamedFrom = ""
	_, err = h.Next(v3, "contract", false)
	var de *DiffError
	if !errors.As(err, &de) || len(de.Problems) != 1 || !de.Problems[0].Destructive || de.Problems[0].Field != "title" ||
		!strings.Contains(err.Error(), "drop old name label is destructive") {
		t.Fatalf("Next without renamed_from: %v, want one destructive drop old name label", err)
	}
	m3, err := h.Next(v3, "contract", true)
	if err != nil || m3 == nil {
		t.Fatalf("Next -allow-destructive: %v, %v", m3, err)
	}
	want := []Change{{Kind: DropOldName, Record: "Product", Field: "title", From: "label", Destructive: true,
		Why: "code that still uses the old name label fails; plan it once no such code runs"}}
	if diff := cmp.Diff(want, m3.Changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if f := m3.Schema.Record("Product").Field("title"); f.OldName != "" {
		t.Errorf("state after drop_old_name: old name %q", f.OldName)
	}
	// A field that takes the old name: the old name is not kept.
	v4 := v2()
	v4.Records[0].Fields = append(v4.Records[0].Fields, Field{Name: "label", Type: "string"})
	m4, err := History{h[0]}.Next(v4, "reuse", false)
	if err != nil {
		t.Fatal(err)
	}
	if f := m4.Schema.Record("Product").Field("title"); f.OldName != "" {
		t.Errorf("title keeps old name %q that field label takes", f.OldName)
	}
}

func TestDiffBaseline(t *testing.T) {
	got, err := Diff(nil, v1(), false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Change{{Kind: AddRecord, Record: "Product"}}; !cmp.Equal(got, want) {
		t.Errorf("baseline = %v, want %v", got, want)
	}
}

func TestDiffProblems(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(s *Schema)
		allow bool
		want  string // the error; "" when allowed
		kinds []Kind // the changes when allowed
	}{
		{name: "drop field", edit: func(s *Schema) { s.Records[0].Fields = s.Records[0].Fields[1:] },
			want: "record Product, field name: drop field is destructive (its stored values are deleted); pass -allow-destructive to plan it"},
		{name: "drop field allowed", allow: true, edit: func(s *Schema) { s.Records[0].Fields = s.Records[0].Fields[1:] }, kinds: []Kind{DropField}},
		{name: "drop record", edit: func(s *Schema) { s.Records = nil },
			want: "record Product: drop record is destructive (every stored Product record is deleted); pass -allow-destructive to plan it"},
		{name: "narrowing", edit: func(s *Schema) { s.Records[0].Fields[1].Type = "string"; s.Records[0].Fields[0].Type = "int" },
			want: "record Product, field name: change type string → int is destructive (a narrowing or unrelated type change: stored values that do not convert are lost); pass -allow-destructive to plan it\n" +
				"record Product, field stock: change type int → string is destructive (a narrowing or unrelated type change: stored values that do not convert are lost); pass -allow-destructive to plan it"},
		{name: "scalar to list", edit: func(s *Schema) { s.Records[0].Fields[3].List = true },
			want: "record Product, field sku: change type string → list<string> is destructive (stored values are converted between a list and a single value, and those that do not convert are lost); pass -allow-destructive to plan it"},
		{name: "drop enum value", edit: func(s *Schema) { s.Records[0].Fields[2].Values = []string{"draft"} },
			want: "record Product, field status: drop enum values active is destructive (records holding a dropped value can no longer be read or written); pass -allow-destructive to plan it"},
		{name: "required without default", edit: func(s *Schema) {
			s.Records[0].Fields = append(s.Records[0].Fields, Field{Name: "x", Type: "int", Required: true})
		}, want: "record Product, field x: a required field added to a record that may have stored records needs a value for them: give it a default (the value existing records get) or add it optional"},
		{name: "required list", edit: func(s *Schema) {
			s.Records[0].Fields = append(s.Records[0].Fields, Field{Name: "x", Type: "int", List: true, Required: true})
		}, want: "record Product, field x: a required field added to a record that may have stored records needs a value for them: add it optional (a list<int> field cannot have a default)"},
		{name: "make required without default", edit: func(s *Schema) { s.Records[0].Fields[1].Required = true },
			want: "record Product, field stock: making a field required needs a default: the value that stored records without one get"},
		{name: "make required with default", edit: func(s *Schema) { s.Records[0].Fields[1].Required = true; s.Records[0].Fields[1].Default = int64(0) },
			kinds: []Kind{SetDefault, SetRequired}},
		{name: "id change", edit: func(s *Schema) { s.Records[0].ID.Type = "string" },
			want: "record Product, field id: the id changed from id uuid to id string; migrations cannot change a record's id (create a new record type and copy the data)"},
		{name: "rename from nothing", edit: func(s *Schema) { s.Records[0].Fields[1].Name, s.Records[0].Fields[1].RenamedFrom = "qty", "quantity" },
			want: "record Product, field qty: renamed_from quantity: the last migration's state of Product has no field quantity\n" +
				"record Product, field stock: drop field is destructive (its stored values are deleted); pass -allow-destructive to plan it"},
		{name: "rename record", edit: func(s *Schema) {
			r := &s.Records[0]
			r.Name, r.RenamedFrom, r.Table, r.Index = "Item", "Product", "item", "item"
		}, kinds: []Kind{RenameRecord, ChangeTable, ChangeIndex}},
		{name: "no change", edit: func(s *Schema) {}, kinds: nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old, want := v1(), v1().Clone()
			tc.edit(&want)
			got, err := Diff(&old, want, tc.allow)
			if tc.want != "" {
				var de *DiffError
				if !errors.As(err, &de) || err.Error() != tc.want {
					t.Fatalf("err = %v\nwant %s", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var kinds []Kind
			for _, c := range got {
				kinds = append(kinds, c.Kind)
			}
			if !cmp.Equal(kinds, tc.kinds) {
				t.Errorf("kinds = %v, want %v (%v)", kinds, tc.kinds, got)
			}
		})
	}
}

func history(t *testing.T, states ...Schema) (History, fstest.MapFS) {
	t.Helper()
	var h History
	fsys := fstest.MapFS{}
	for i, s := range states {
		m, err := h.Next(s, "step"+string(rune('a'+i)), true)
		if err != nil || m == nil {
			t.Fatalf("Next %d: %v, %v", i, m, err)
		}
		h = append(h, m)
		data, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		fsys[m.FileName()] = &fstest.MapFile{Data: data}
	}
	return h, fsys
}

func TestLoadRoundTrip(t *testing.T) {
	h, fsys := history(t, v1(), v2())
	fsys["postgres/00001_stepa.sql"] = &fstest.MapFile{Data: []byte("-- +goose Up\n")}
	got, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(h, got); diff != "" {
		t.Errorf("Load (-written +read):\n%s", diff)
	}
	if d := got[1].Changes[6].Default; d != 1.5 {
		t.Errorf("default read back as %#v, want float64 1.5", d)
	}
	if d := got[1].Schema.Record("Product").Field("status").Default; d != "draft" {
		t.Errorf("enum default read back as %#v", d)
	}
}

func TestLoadErrors(t *testing.T) {
	_, fsys := history(t, v1(), v2())
	first := fsys["00001_stepa.json"]
	second := fsys["00002_stepb.json"]
	cases := []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"empty", fstest.MapFS{}, "no migrations"},
		{"gap", fstest.MapFS{"00002_stepb.json": second}, "00002_stepb.json: version 2 where 1 was expected"},
		{"renamed file", fstest.MapFS{"00001_x.json": first}, "00001_x.json: holds migration 1 \"stepa\", whose file name is 00001_stepa.json"},
		{"other branch", fstest.MapFS{"00001_stepa.json": first, "00002_stepb.json": {Data: []byte(strings.Replace(string(second.Data), `"parent": "`, `"parent": "0`, 1))}},
			"00002_stepb.json: planned from a state other than that of 00001_stepa.json"},
		{"unknown key", fstest.MapFS{"00001_stepa.json": {Data: []byte(strings.Replace(string(first.Data), `"format": 1,`, `"format": 1, "extra": 2,`, 1))}},
			`00001_stepa.json: json: unknown field "extra"`},
		{"bad default", fstest.MapFS{"00001_stepa.json": {Data: []byte(strings.Replace(string(first.Data), `"default": "draft"`, `"default": 3`, 1))}},
			"00001_stepa.json: schema: record Product, field status: default: a enum field cannot have the default"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.fsys)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestUpgrader(t *testing.T) {
	s3 := v2().Clone()
	s3.Records[0].Name, s3.Records[0].RenamedFrom = "Item", "Product"
	s3.Records[0].Fields[1].Type = "int" // float back to int: destructive, allowed here
	h, _ := history(t, v1(), v2(), s3)
	u, err := h.Upgrader("Item")
	if err != nil {
		t.Fatal(err)
	}
	decode := func(s string) map[string]any {
		var doc map[string]any
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	cases := []struct {
		from int64
		in   string
		want string
	}{
		{1, `{"id":"a","name":"n","stock":7,"label":"L","status":"draft"}`,
			`{"color":null,"id":"a","label":"L","name":"n","status":"draft","stock":7,"title":"L","weight":1.5}`}, // the old name kept: OldNames
		{1, `{"id":"a","name":"n"}`, `{"id":"a","name":"n","weight":1.5}`},
		{2, `{"id":"a","name":"n","stock":7.5,"title":"T","weight":2}`, `{"id":"a","label":"T","name":"n","title":"T","weight":2}`},
		{2, `{"id":"a","name":"n","stock":8,"weight":2}`, `{"id":"a","name":"n","stock":8,"weight":2}`},
		{3, `{"id":"a","name":"n","stock":8,"weight":2}`, `{"id":"a","name":"n","stock":8,"weight":2}`},
	}
	for _, tc := range cases {
		doc := decode(tc.in)
		if tc.from == 1 && strings.Contains(tc.in, "label") {
			doc["color"] = nil // a present null stays null: only missing values get defaults
		}
		if err := u.Upgrade(doc, tc.from); err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(doc)
		if string(got) != tc.want {
			t.Errorf("Upgrade(%s, %d) = %s, want %s", tc.in, tc.from, got, tc.want)
		}
	}
	if _, err := h.Upgrader("Product"); err == nil {
		t.Error("Upgrader of a record the newest state does not have: no error")
	}
}
