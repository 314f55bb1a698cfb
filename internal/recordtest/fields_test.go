package recordtest_test

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/recordtest"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

type level string

// tagged uses every tag word.
type tagged struct {
	Key       string     `record:"key,uuid"`
	ProdID    string     `record:",indexed"`
	SKU       *string    `json:"sku_code" record:",unique"`
	Status    *level     `record:"state,enum=new|done,default=new,column=state_col,json=st"`
	Body      *string    `record:",search=english"`
	Tags      []level    `record:",enum=x|y,required"`
	Prio      *int64     `record:",default=7"`
	Weight    *float64   `record:",default=1.5"`
	On        *bool      `record:",default=true"`
	Since     *time.Time `record:",default=2024-02-29T23:59:59.1234567+02:00"`
	Raw       []byte     `record:",json"`
	Hidden    string     `json:"-"`
	Skipped   int        `record:"-"`
	HTTPCode  int64
	Ver       string `record:",version"`
	unexposed int
}

var _ = tagged{}.unexposed

func TestTags(t *testing.T) {
	d, err := recordtest.New[tagged]("TaggedThing", recordtest.IDGenerated(), recordtest.Table("tt"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "TaggedThing" || d.Table != "tt" || d.Index != "tagged_thing" || d.Prefix != "tagged_thing" || !d.IDGenerated {
		t.Errorf("descriptor %s", recordtest.String(d))
	}
	want := []meta{
		{Name: "key", GoName: "Key", Column: "key", JSON: "key", Kind: "uuid", Accessor: "Str"},
		{Name: "prod_id", GoName: "ProdID", Column: "prod_id", JSON: "prod_id", Kind: "string", Indexed: true, Accessor: "Str"},
		{Name: "sku_code", GoName: "SKU", Column: "sku_code", JSON: "sku_code", Kind: "string", Optional: true, Unique: true, Accessor: "Str"},
		{Name: "state", GoName: "Status", Column: "state_col", JSON: "st", Kind: "enum", Optional: true, Enum: []string{"new", "done"}, Accessor: "Str"},
		{Name: "body", GoName: "Body", Column: "body", JSON: "body", Kind: "text", Optional: true, Search: "english", Accessor: "Str"},
		{Name: "tags", GoName: "Tags", Column: "tags", JSON: "tags", Kind: "enum", List: true, Optional: true, Enum: []string{"x", "y"}, Accessor: "Strs"},
		{Name: "prio", GoName: "Prio", Column: "prio", JSON: "prio", Kind: "int", Optional: true, Accessor: "Int"},
		{Name: "weight", GoName: "Weight", Column: "weight", JSON: "weight", Kind: "float", Optional: true, Accessor: "Float"},
		{Name: "on", GoName: "On", Column: "on", JSON: "on", Kind: "bool", Optional: true, Accessor: "Bool"},
		{Name: "since", GoName: "Since", Column: "since", JSON: "since", Kind: "time", Optional: true, Accessor: "Time"},
		{Name: "raw", GoName: "Raw", Column: "raw", JSON: "raw", Kind: "json", Optional: true, Accessor: "Bytes"},
		{Name: "http_code", GoName: "HTTPCode", Column: "http_code", JSON: "http_code", Kind: "int", Accessor: "Int"},
	}
	if len(d.Fields) != len(want) {
		t.Fatalf("fields:\n%s", recordtest.String(d))
	}
	for i := range want {
		if got := metaOf(&d.Fields[i]); !reflect.DeepEqual(got, want[i]) {
			t.Errorf("field %d = %+v\nwant %+v", i, got, want[i])
		}
	}
	r := tagged{Key: "0190a0a0-0000-7000-8000-000000000001", Tags: []level{"y"}, Ver: "v9"}
	if err := d.Prepare(&r); err != nil {
		t.Fatal(err)
	}
	since := time.Date(2024, 2, 29, 21, 59, 59, 123456000, time.UTC)
	if *r.Status != "new" || *r.Prio != 7 || *r.Weight != 1.5 || !*r.On || !r.Since.Equal(since) || r.Since.Location() != time.UTC {
		t.Errorf("defaults: %v %v %v %v %v", *r.Status, *r.Prio, *r.Weight, *r.On, r.Since)
	}
	if d.GetVersion(&r) != "v9" {
		t.Errorf("GetVersion = %q", d.GetVersion(&r))
	}
	if v, ok := d.Fields[5].Value(&r); !ok || !reflect.DeepEqual(v, []string{"y"}) {
		t.Errorf("tags = %#v, %v", v, ok)
	}
	for _, c := range []struct {
		name  string
		edit  func(*tagged)
		field string
		text  string
	}{
		{"bad uuid id", func(r *tagged) { r.Key = "k" }, "key", `"k" is not a canonical lower-case UUID`},
		{"required list empty", func(r *tagged) { r.Tags = []level{} }, "tags", "required value is empty"},
		{"enum list member", func(r *tagged) { r.Tags = []level{"z"} }, "tags", `"z" is not one of x, y`},
		{"enum default kept out", func(r *tagged) { r.Status = new(level("old")) }, "state", `"old" is not one of new, done`},
		{"invalid JSON", func(r *tagged) { r.Raw = []byte("{") }, "raw", "invalid JSON"},
		{"NaN", func(r *tagged) { r.Weight = new(math.NaN()) }, "weight", "NaN"},
	} {
		r := tagged{Key: "0190a0a0-0000-7000-8000-000000000001", Tags: []level{"x"}}
		c.edit(&r)
		err := d.Prepare(&r)
		var fe *record.FieldError
		if !errors.As(err, &fe) || fe.Record != "TaggedThing" || fe.Field != c.field || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: Prepare = %v, want a FieldError on %s saying %q", c.name, err, c.field, c.text)
		}
	}
}

type base struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	RecordVersion string `json:"-"`
}

// extended embeds base, as a later version of a record's Go type may.
type extended struct {
	base
	Note *string `json:"note,omitempty"`
}

func TestEmbedded(t *testing.T) {
	d := recordtest.MustNew[extended]("Ext")
	if got := []string{d.Fields[0].Name, d.Fields[1].Name, d.Fields[2].Name}; len(d.Fields) != 3 || !reflect.DeepEqual(got, []string{"id", "name", "note"}) {
		t.Fatalf("fields:\n%s", recordtest.String(d))
	}
	r := extended{base: base{ID: "a", Name: "n"}, Note: new("x")}
	d.SetVersion(&r, "v")
	c := d.Clone(&r)
	*r.Note = "changed"
	if *c.Note != "x" || c.RecordVersion != "v" || c.Name != "n" {
		t.Errorf("Clone = %+v", c)
	}
	if p, ok := d.Addr(&r, 1).(*string); !ok || p != &r.Name {
		t.Errorf("Addr(1) = %v", d.Addr(&r, 1))
	}
}

// twoVersions is one Go type described as two schema versions.
type twoVersions struct {
	ID            string
	Label         *string
	Stock         *int64
	StockF        *float64 `record:"-"`
	RecordVersion string
}

func TestOptions(t *testing.T) {
	v2 := recordtest.MustNew[twoVersions]("Prod", recordtest.Tag("Label", "title"), recordtest.Tag("Stock", "-"),
		recordtest.Tag("StockF", "stock"), recordtest.Names("prods"))
	if len(v2.Fields) != 3 || v2.Fields[1].Name != "title" || v2.Fields[2].Name != "stock" || v2.Fields[2].GoName != "StockF" || v2.Fields[2].Kind != query.KindFloat {
		t.Errorf("version 2:\n%s", recordtest.String(v2))
	}
	if v2.Table != "prods" || v2.Index != "prods" || v2.Prefix != "prods" {
		t.Errorf("names: %s", recordtest.String(v2))
	}
	lax := recordtest.MustNew[twoVersions]("Prod", recordtest.NoPrepare())
	r := twoVersions{ID: "\x00"}
	if err := lax.Prepare(&r); err != nil {
		t.Errorf("NoPrepare: %v", err)
	}
	if err := recordtest.MustNew[twoVersions]("Prod").Prepare(&r); err == nil {
		t.Error("generated-style Prepare accepts a NUL in the id")
	}
	errCustom := errors.New("custom")
	own := recordtest.MustNew[twoVersions]("Prod", recordtest.Prepare(func(r *twoVersions) error { return errCustom }))
	if err := own.Prepare(&r); err != errCustom {
		t.Errorf("Prepare option: %v", err)
	}
	if _, err := recordtest.New[twoVersions]("Prod", recordtest.Prepare(func(*tagged) error { return nil })); !errors.Is(err, recordtest.ErrBadStruct) {
		t.Errorf("Prepare of another type: %v", err)
	}
	if _, err := recordtest.New[twoVersions]("Prod", recordtest.Tag("Nope", "x")); !errors.Is(err, recordtest.ErrBadStruct) {
		t.Errorf("Tag of a missing field: %v", err)
	}
}

func TestBadStructs(t *testing.T) {
	type vs = string // the version field
	for _, c := range []struct {
		name string
		err  error
	}{
		{"not a struct", try[int]()},
		{"no version", try[struct{ ID string }]()},
		{"two versions", try[struct {
			ID            string
			RecordVersion vs
			V             string `record:",version"`
		}]()},
		{"int version", try[struct {
			ID            string
			RecordVersion int64
		}]()},
		{"pointer id", try[struct {
			ID            *string
			RecordVersion vs
		}]()},
		{"int id", try[struct {
			ID            int64
			RecordVersion vs
		}]()},
		{"unexported slice", try[struct {
			ID            string
			s             []string
			RecordVersion vs
		}]()},
		{"int type", tryField[int]("")},
		{"map type", tryField[map[string]string]("")},
		{"optional value", tryField[int64](",optional")},
		{"required pointer", tryField[*int64](",required")},
		{"enum without values", tryField[string](",enum")},
		{"enum values on int", tryField[int64](",enum=a")},
		{"uuid on int", tryField[int64](",uuid")},
		{"two kinds", tryField[string](",uuid,text")},
		{"unique list", tryField[[]string](",unique")},
		{"unique bytes", tryField[[]byte](",unique")},
		{"unknown language", tryField[*string](",search=klingon")},
		{"unknown word", tryField[*string](",uniq")},
		{"bad default", tryField[*int64](",default=x")},
		{"default on a value", tryField[int64](",default=1")},
		{"embedded pointer", try[struct {
			*base
			X string
		}]()},
	} {
		if !errors.Is(c.err, recordtest.ErrBadStruct) {
			t.Errorf("%s: %v, want ErrBadStruct", c.name, c.err)
		} else if testing.Verbose() {
			t.Logf("%s: %v", c.name, c.err)
		}
	}
	// record.New's own checks still apply: a duplicate schema name.
	_, err := recordtest.New[struct {
		ID            string
		A             string `record:"a"`
		B             string `record:"a"`
		RecordVersion string
	}]("Dup")
	if err == nil || errors.Is(err, recordtest.ErrBadStruct) {
		t.Errorf("duplicate field name: %v, want record.New's error", err)
	}
}

func try[T any]() error {
	_, err := recordtest.New[T]("X")
	return err
}

// oneField is a record with one field F of type V besides the id.
type oneField[V any] struct {
	ID            string
	F             V
	RecordVersion string
}

// tryField describes oneField[V] with tag on F.
func tryField[V any](tag string) error {
	_, err := recordtest.New[oneField[V]]("X", recordtest.Tag("F", tag))
	return err
}

// TestRoundTripWritesNoCallerMemory: a float list with −0 and bytes/JSON are replaced,
// never written into.
func TestRoundTripWritesNoCallerMemory(t *testing.T) {
	type rec struct {
		ID            string
		Fs            []float64
		F             *float64
		Meta          json.RawMessage
		RecordVersion string
	}
	d := recordtest.MustNew[rec]("Rec")
	negZero := math.Copysign(0, -1)
	fs, f, meta := []float64{1, negZero}, &negZero, json.RawMessage(`{ "a": 1 }`)
	r := rec{ID: "a", Fs: fs, F: f, Meta: meta}
	if err := d.Prepare(&r); err != nil {
		t.Fatal(err)
	}
	if math.Signbit(r.Fs[1]) || math.Signbit(*r.F) || string(r.Meta) != `{"a":1}` {
		t.Errorf("prepared %v %v %s", r.Fs, *r.F, r.Meta)
	}
	if !math.Signbit(fs[1]) || !math.Signbit(*f) || string(meta) != `{ "a": 1 }` {
		t.Errorf("Prepare wrote into the caller's memory: %v %v %s", fs, *f, meta)
	}
}

// TestNoRoundTrip: without the round-trip rule Prepare keeps −0, empty lists and JSON as
// given, and still normalizes times and checks values.
func TestNoRoundTrip(t *testing.T) {
	type rec struct {
		ID            string
		F             *float64
		Ss            []string
		Meta          json.RawMessage
		At            time.Time
		E             *string `record:",enum=a"`
		RecordVersion string
	}
	d := recordtest.MustNew[rec]("Rec", recordtest.NoRoundTrip())
	at := time.Date(2025, 1, 2, 3, 4, 5, 6789, berlin)
	r := rec{ID: "a", F: new(math.Copysign(0, -1)), Ss: []string{}, Meta: json.RawMessage(`{ }`), At: at}
	if err := d.Prepare(&r); err != nil {
		t.Fatal(err)
	}
	if !math.Signbit(*r.F) || r.Ss == nil || string(r.Meta) != `{ }` {
		t.Errorf("NoRoundTrip changed %v %#v %s", *r.F, r.Ss, r.Meta)
	}
	if r.At.Location() != time.UTC || !r.At.Equal(at.Truncate(time.Microsecond)) {
		t.Errorf("At = %v, want UTC at microsecond precision", r.At)
	}
	r.E = new("b")
	var fe *record.FieldError
	if err := d.Prepare(&r); !errors.As(err, &fe) || fe.Field != "e" {
		t.Errorf("NoRoundTrip Prepare of an unknown enum member: %v", err)
	}
}

func TestSnakeNames(t *testing.T) {
	type names struct {
		ID            string
		ProdID        string
		SKU           string
		HTTPServer    string
		Value2Max     string
		RecordVersion string
	}
	d := recordtest.MustNew[names]("APIKey")
	var got []string
	for _, f := range d.Fields {
		got = append(got, f.Name)
	}
	want := []string{"id", "prod_id", "sku", "http_server", "value2_max"}
	if !reflect.DeepEqual(got, want) || d.Table != "api_key" {
		t.Errorf("names %q (table %q), want %q", got, d.Table, want)
	}
}
