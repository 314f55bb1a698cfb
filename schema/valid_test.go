package schema

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// ignorePos compares structure without positions.
var ignorePos = cmpopts.IgnoreTypes(Pos{}, []Pos(nil))

func mustLoad(t *testing.T, paths ...string) *Set {
	t.Helper()
	set, err := Load(paths...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := Validate(set); err != nil {
		t.Fatalf("Validate:\n%v", err)
	}
	return set
}

func TestCatalog(t *testing.T) {
	const path = "testdata/valid/catalog.yaml"
	at := func(line, col int) Pos { return Pos{File: path, Line: line, Col: col} }
	want := &Set{Files: []*File{{
		Path: path, Version: 1, Pos: at(2, 1), RecordsPos: at(4, 3),
		Records: []*Record{
			{
				Name: "Product", Doc: "A product in the catalog.", Pos: at(4, 11),
				ID:    ID{Name: "id", Type: TypeUUID, Generated: true, Pos: at(6, 16), TypePos: at(6, 26), GeneratedPos: at(6, 43)},
				Table: "products", TablePos: at(7, 23),
				Index: "products", IndexPos: at(8, 28),
				Prefix: "catalog/products", PrefixPos: at(9, 18),
				Fields: []*Field{
					{Name: "name", Type: TypeString, Required: true, Unique: true, Indexed: true, Doc: "Display name.",
						Pos: at(11, 15), TypePos: at(12, 15), UniquePos: at(14, 17), IndexedPos: at(15, 18)},
					{Name: "description", Type: TypeText, Pos: at(17, 15), TypePos: at(18, 15)},
					{Name: "price", Type: TypeFloat, Required: true, Pos: at(19, 15), TypePos: at(20, 15)},
					{Name: "stock", Type: TypeInt, Default: int64(0), Pos: at(22, 15), TypePos: at(23, 15), DefaultPos: at(24, 18)},
					{Name: "status", Type: TypeEnum, Values: []string{"draft", "active", "archived"}, Default: "draft",
						Pos: at(25, 15), TypePos: at(26, 15), ValuesPos: at(27, 17), DefaultPos: at(28, 18),
						ValuePos: []Pos{at(27, 18), at(27, 25), at(27, 33)}},
					{Name: "tags", Type: TypeString, List: true, Pos: at(29, 15), TypePos: at(30, 15)},
					{Name: "sizes", Type: TypeEnum, List: true, Values: []string{"s", "m", "l", "xl"},
						Pos: at(31, 15), TypePos: at(32, 15), ValuesPos: at(33, 17),
						ValuePos: []Pos{at(33, 18), at(33, 21), at(33, 24), at(33, 27)}},
					{Name: "active", Type: TypeBool, Default: true, Pos: at(34, 15), TypePos: at(35, 15), DefaultPos: at(36, 18)},
					{Name: "released_at", Type: TypeTime, Pos: at(37, 15), TypePos: at(38, 15)},
					{Name: "image", Type: TypeBytes, Pos: at(39, 15), TypePos: at(40, 15)},
					{Name: "attributes", Type: TypeJSON, Pos: at(41, 15), TypePos: at(42, 15)},
					{Name: "category_id", Type: TypeUUID, Indexed: true, Pos: at(43, 15), TypePos: at(44, 15), IndexedPos: at(45, 18)},
				},
			},
			{
				Name: "Category", Pos: at(47, 11),
				ID:    ID{Name: "id", Type: TypeString, Pos: at(47, 11)},
				Table: "category", Index: "category", Prefix: "category",
				Fields: []*Field{
					{Name: "title", Type: TypeString, Required: true, Pos: at(49, 16), TypePos: at(49, 29)},
					{Name: "weight", Type: TypeFloat, Default: float64(1), Pos: at(50, 16), TypePos: at(50, 30), DefaultPos: at(50, 46)},
					{Name: "since", Type: TypeTime, Default: "2024-01-31T12:00:00Z", Pos: at(51, 16), TypePos: at(51, 29), DefaultPos: at(51, 44)},
				},
			},
		},
	}}}
	got := mustLoad(t, path)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("catalog (-want +got):\n%s", diff)
	}
	// Validate is idempotent.
	if err := Validate(got); err != nil {
		t.Fatalf("second Validate: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("catalog after a second Validate (-want +got):\n%s", diff)
	}
}

// TestReservedWords checks that Go keywords and SQL reserved words are legal names.
func TestReservedWords(t *testing.T) {
	set := mustLoad(t, "testdata/valid/reserved.yaml")
	str := func(name string) *Field { return &Field{Name: name, Type: TypeString} }
	want := []*Record{
		{Name: "Order", ID: ID{Name: "id", Type: TypeString}, Table: "order", Index: "order", Prefix: "order",
			Fields: []*Field{
				str("type"), {Name: "order", Type: TypeInt}, {Name: "select", Type: TypeBool}, str("group"),
				str("from"), str("func"), {Name: "range", Type: TypeInt}, str("default"),
				{Name: "interface", Type: TypeJSON}, str("user"),
			}},
		{Name: "select", ID: ID{Name: "key", Type: TypeString}, Table: "select", Index: "select", Prefix: "select",
			Fields: []*Field{str("where")}},
		{Name: "group", ID: ID{Name: "id", Type: TypeString}, Table: "group", Index: "group", Prefix: "group",
			Fields: []*Field{str("package"), str("table")}},
	}
	if diff := cmp.Diff(want, set.Records(), ignorePos); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	var goNames []string
	for _, r := range set.Records() {
		goNames = append(goNames, r.GoName())
		for _, f := range r.Fields {
			goNames = append(goNames, f.GoName())
		}
	}
	wantGo := []string{"Order", "Type", "Order", "Select", "Group", "From", "Func", "Range", "Default", "Interface", "User",
		"Select", "Where", "Group", "Package", "Table"}
	if diff := cmp.Diff(wantGo, goNames); diff != "" {
		t.Errorf("Go names (-want +got):\n%s", diff)
	}
}

// TestLoadDirectory loads a set of two files from a directory.
func TestLoadDirectory(t *testing.T) {
	set := mustLoad(t, "testdata/valid/shop")
	var paths []string
	for _, f := range set.Files {
		paths = append(paths, f.Path)
	}
	wantPaths := []string{filepath.Join("testdata/valid/shop", "customers.yaml"), filepath.Join("testdata/valid/shop", "orders.yml")}
	if diff := cmp.Diff(wantPaths, paths); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	want := []*Record{
		{Name: "Customer", ID: ID{Name: "id", Type: TypeString, Generated: true}, Table: "customer", Index: "customer", Prefix: "customer",
			Fields: []*Field{
				{Name: "email", Type: TypeString, Required: true, Unique: true},
				{Name: "api_key", Type: TypeString},
			}},
		{Name: "Order", ID: ID{Name: "number", Type: TypeString}, Table: "order", Index: "order", Prefix: "order",
			Fields: []*Field{
				{Name: "customer_id", Type: TypeString, Required: true, Indexed: true},
				{Name: "placed_at", Type: TypeTime, Required: true},
			}},
		{Name: "OrderLine", ID: ID{Name: "id", Type: TypeUUID}, Table: "order_line", Index: "order_line", Prefix: "order_line",
			Fields: []*Field{
				{Name: "order", Type: TypeString, Required: true},
				{Name: "sku", Type: TypeString, Required: true},
				{Name: "quantity", Type: TypeInt, Required: true},
			}},
	}
	if diff := cmp.Diff(want, set.Records(), ignorePos); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	// Positions name the file each record came from.
	if got, want := set.Records()[2].Pos.String(), filepath.Join("testdata/valid/shop", "orders.yml")+":8:11"; got != want {
		t.Errorf("OrderLine at %s, want %s", got, want)
	}
	if got := set.Records()[1].Fields[0].GoName(); got != "CustomerID" {
		t.Errorf("GoName(customer_id) = %q", got)
	}
	// The same set given as two files, one of them twice, is read once per file.
	again := mustLoad(t, "testdata/valid/shop/customers.yaml", "testdata/valid/shop/orders.yml", "testdata/valid/shop")
	if diff := cmp.Diff(set, again, ignorePos); diff != "" {
		t.Errorf("Load(files) differs from Load(dir) (-dir +files):\n%s", diff)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Run("missing file", func(t *testing.T) {
		_, err := Load("testdata/nope.yaml")
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("no paths", func(t *testing.T) {
		if _, err := Load(); !errors.Is(err, ErrNoFiles) {
			t.Errorf("err = %v, want ErrNoFiles", err)
		}
	})
	t.Run("directory without schemas", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir)
		if !errors.Is(err, ErrNoFiles) || err.Error() != "schema: no schema files: no *.yaml or *.yml file in directory "+dir {
			t.Errorf("err = %v, want ErrNoFiles", err)
		}
	})
	t.Run("parse errors of every file", func(t *testing.T) {
		_, err := Load("testdata/invalid/typo.yaml", "testdata/invalid/semantic.yaml")
		want := "testdata/invalid/typo.yaml:6:15: record Product, field price: unknown type \"flaot\" (expected string, text, uuid, int, float, bool, time, bytes, json, enum or list<T>)\n" +
			"testdata/invalid/typo.yaml:9:9: record Product, field stock: unknown key \"requried\" (expected name, type, doc, required, default, values, unique, indexed, search or renamed_from)"
		if err == nil || err.Error() != want {
			t.Errorf("err:\n%v\nwant:\n%s", err, want)
		}
		var list ErrorList
		if !errors.As(err, &list) || len(list) != 2 || !errors.Is(list[0], ErrUnknownType) || !errors.Is(list[1], ErrUnknownKey) {
			t.Errorf("errors.As(ErrorList) = %v", list)
		}
	})
	t.Run("semantic errors", func(t *testing.T) {
		set, err := Load("testdata/invalid/semantic.yaml")
		if err != nil {
			t.Fatal(err)
		}
		err = Validate(set)
		want := "testdata/invalid/semantic.yaml:1:1: unsupported version 2 (supported versions: 1)\n" +
			"testdata/invalid/semantic.yaml:4:16: record Product, field id: an id must be of type string or uuid, got int\n" +
			"testdata/invalid/semantic.yaml:6:16: record Product, field id: field \"id\" has the name of the record's id (testdata/invalid/semantic.yaml:4:9)\n" +
			"testdata/invalid/semantic.yaml:7:30: record Product, field status: an enum field needs values: a non-empty list of strings"
		if err == nil || err.Error() != want {
			t.Errorf("err:\n%v\nwant:\n%s", err, want)
		}
		for _, kind := range []error{ErrVersion, ErrInvalidValue, ErrDuplicate, ErrMissing} {
			if !errors.Is(err, kind) {
				t.Errorf("errors.Is(err, %v) = false", kind)
			}
		}
		if errors.Is(err, ErrSyntax) {
			t.Errorf("errors.Is(err, ErrSyntax) = true")
		}
	})
}

// TestDefaults checks the defaults Validate fills in.
func TestDefaults(t *testing.T) {
	set, err := parseAndValidate(tfile{"d.yaml", head + `  - name: OrderLine
  - name: HTTPServer
    id: {type: uuid}
  - name: Job
    id: {type: uuid, generated: false}
  - name: Token
    id: {type: string, generated: true}
    fields:
      - {name: score, type: float, default: -3}
      - {name: count, type: int, default: 0x10}
      - {name: weight, type: float, required: true, default: 2, renamed_from: mass}
`})
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		Table, Index, Prefix string
		ID                   ID
	}
	var got []summary
	for _, r := range set.Records() {
		got = append(got, summary{r.Table, r.Index, r.Prefix, r.ID})
	}
	want := []summary{
		{"order_line", "order_line", "order_line", ID{Name: "id", Type: TypeString, Generated: false}},
		{"http_server", "http_server", "http_server", ID{Name: "id", Type: TypeUUID, Generated: true}},
		{"job", "job", "job", ID{Name: "id", Type: TypeUUID, Generated: false}},
		{"token", "token", "token", ID{Name: "id", Type: TypeString, Generated: true}},
	}
	if diff := cmp.Diff(want, got, ignorePos); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	fields := set.Records()[3].Fields
	if fields[0].Default != float64(-3) || fields[1].Default != int64(16) {
		t.Errorf("defaults = %#v, %#v; want float64(-3), int64(16)", fields[0].Default, fields[1].Default)
	}
	// A required field may have a default (what a migration fills in for existing records).
	if w := fields[2]; w.Default != float64(2) || !w.Required || w.RenamedFrom != "mass" {
		t.Errorf("weight: default %#v, required %v, renamed_from %q; want float64(2), true, mass", w.Default, w.Required, w.RenamedFrom)
	}
}

// TestValidateBuilt validates a set built in Go, without positions.
func TestValidateBuilt(t *testing.T) {
	set := &Set{Files: []*File{{Path: "built", Version: 1, Records: []*Record{
		{Name: "Item", Fields: []*Field{{Name: "n", Type: TypeInt, Default: 3}}},
		{Name: "Bad", Fields: []*Field{{Name: "e", Type: TypeEnum}, {Name: "x", Type: "decimal"}}},
	}}}}
	err := Validate(set)
	want := "built:1:1: record Bad, field e: an enum field needs values: a non-empty list of strings\n" +
		"built:1:1: record Bad, field x: unknown type \"decimal\" (expected string, text, uuid, int, float, bool, time, bytes, json, enum or list<T>)"
	if err == nil || err.Error() != want {
		t.Errorf("err:\n%v\nwant:\n%s", err, want)
	}
	if got := set.Files[0].Records[0]; got.Table != "item" || got.Fields[0].Default != int64(3) {
		t.Errorf("defaults not filled: table %q, default %#v", got.Table, got.Fields[0].Default)
	}
	if err := Validate(nil); !errors.Is(err, ErrNoFiles) {
		t.Errorf("Validate(nil) = %v, want ErrNoFiles", err)
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ in, goName, snake, enum string }{
		{"order_line", "OrderLine", "order_line", "OrderLine"},
		{"OrderLine", "OrderLine", "order_line", "OrderLine"},
		{"orderLine", "OrderLine", "order_line", "OrderLine"},
		{"id", "ID", "id", "ID"},
		{"product_id", "ProductID", "product_id", "ProductID"},
		{"api_url", "APIURL", "api_url", "APIURL"},
		{"uuid", "UUID", "uuid", "UUID"},
		{"http_json_sku", "HTTPJSONSKU", "http_json_sku", "HTTPJSONSKU"},
		{"ip_html_sql", "IPHTMLSQL", "ip_html_sql", "IPHTMLSQL"},
		{"HTTPServer", "HTTPServer", "http_server", "HTTPServer"},
		{"ProductV2", "ProductV2", "product_v2", "ProductV2"},
		{"line2_item", "Line2Item", "line2_item", "Line2Item"},
		{"a__b", "AB", "a__b", "AB"},
		{"record_version", "RecordVersion", "record_version", "RecordVersion"},
		{"ids", "IDs", "ids", "IDs"},
		{"post_ids", "PostIDs", "post_ids", "PostIDs"},
		{"url", "URL", "url", "URL"},
		{"image_urls", "ImageURLs", "image_urls", "ImageURLs"},
		{"api_key", "APIKey", "api_key", "APIKey"},
		{"https_only", "HTTPSOnly", "https_only", "HTTPSOnly"},
		{"db_ttl", "DBTTL", "db_ttl", "DBTTL"},
		{"tls_cpu_xml_utf8", "TLSCPUXMLUTF8", "tls_cpu_xml_utf8", "TLSCPUXMLUTF8"},
		{"rams", "Rams", "rams", "Rams"},
		{"idea", "Idea", "idea", "Idea"},
		{"type", "Type", "type", "Type"},
		{"in-progress", "InProgress", "in-progress", "InProgress"},
		{"++", "", "++", ""},
		{"2xl", "2xl", "2xl", "2xl"},
		{"C++", "C", "c++", "C"},
		{"été", "Été", "été", "T"},
	} {
		if got := GoName(tc.in); got != tc.goName {
			t.Errorf("GoName(%q) = %q, want %q", tc.in, got, tc.goName)
		}
		if got := EnumGoName(tc.in); got != tc.enum {
			t.Errorf("EnumGoName(%q) = %q, want %q", tc.in, got, tc.enum)
		}
		if got := SnakeName(tc.in); got != tc.snake {
			t.Errorf("SnakeName(%q) = %q, want %q", tc.in, got, tc.snake)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	e := &Error{Pos: Pos{"a.yaml", 3, 7}, Record: "Product", Field: "price", Msg: "boom", Kind: ErrInvalidValue}
	if got, want := e.Error(), "a.yaml:3:7: record Product, field price: boom"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e2 := &Error{Pos: Pos{"a.yaml", 1, 1}, Msg: "top", Kind: ErrVersion}
	list := ErrorList{e2, e}
	if got, want := list.Error(), "a.yaml:1:1: top\na.yaml:3:7: record Product, field price: boom"; got != want {
		t.Errorf("ErrorList.Error() = %q, want %q", got, want)
	}
	var err error = list
	var target *Error
	if !errors.As(err, &target) || target != e2 {
		t.Errorf("errors.As found %v, want the first error", target)
	}
	if !errors.Is(err, ErrInvalidValue) || !errors.Is(err, ErrVersion) || errors.Is(err, ErrSyntax) {
		t.Error("errors.Is does not see each error's kind")
	}
}
