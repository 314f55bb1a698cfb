package recordtest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/recordtest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/record"
)

// thingDesc describes the generated things.Thing by reflection; its json tags give the
// names, the options the kinds reflection cannot see.
var thingDesc = recordtest.MustNew[things.Thing]("Thing",
	recordtest.Tag("Body", ",text"), recordtest.Tag("Code", ",uuid"),
	recordtest.Tag("Kind", ",enum=a|b|c"), recordtest.Tag("Levels", ",enum=low|mid|high"))

var (
	memberDesc = recordtest.MustNew[things.Member]("Member",
		recordtest.Tag("Email", ",unique"), recordtest.Tag("Nick", ",unique"), recordtest.Tag("Seat", ",unique"))
	docDesc = recordtest.MustNew[things.Doc]("Doc",
		recordtest.Tag("Body", ",search=english"), recordtest.Tag("Title", ",search=simple"), recordtest.Tag("Note", ",text"))
)

// meta is a record.Field without its accessors, and which accessor is set.
type meta struct {
	Name, GoName, Column, JSON, Search string
	Kind                               string
	List, Optional, Unique, Indexed    bool
	Enum                               []string
	Accessor                           string
}

func metaOf[T any](f *record.Field[T]) meta {
	m := meta{Name: f.Name, GoName: f.GoName, Column: f.Column, JSON: f.JSON, Search: f.Search, Kind: f.Kind.String(),
		List: f.List, Optional: f.Optional, Unique: f.Unique, Indexed: f.Indexed, Enum: f.Enum}
	v := reflect.ValueOf(*f)
	for i := range v.NumField() {
		if v.Field(i).Kind() == reflect.Func && !v.Field(i).IsNil() {
			m.Accessor += v.Type().Field(i).Name
		}
	}
	return m
}

// sameSchema fails t unless got describes what want does (names, fields, accessors set).
func sameSchema[T any](t *testing.T, got, want *record.Desc[T]) {
	t.Helper()
	if got.Name != want.Name || got.Table != want.Table || got.Index != want.Index || got.Prefix != want.Prefix || got.IDGenerated != want.IDGenerated {
		t.Errorf("descriptor\n%s want\n%s", recordtest.String(got), recordtest.String(want))
	}
	if len(got.Fields) != len(want.Fields) {
		t.Fatalf("%d fields, want %d:\n%s", len(got.Fields), len(want.Fields), recordtest.String(got))
	}
	for i := range want.Fields {
		if g, w := metaOf(&got.Fields[i]), metaOf(&want.Fields[i]); !reflect.DeepEqual(g, w) {
			t.Errorf("field %d: %+v, want %+v", i, g, w)
		}
	}
}

func TestSchemaAsGenerated(t *testing.T) {
	sameSchema(t, thingDesc, things.ThingSchema)
	sameSchema(t, memberDesc, things.MemberSchema)
	sameSchema(t, docDesc, things.DocSchema)
}

func ptr[V any](v V) *V { return &v }

var berlin = time.FixedZone("CEST", 2*3600)

// thingCases are records to prepare, valid and not, covering every field of Thing.
func thingCases() []struct {
	name string
	rec  things.Thing
} {
	at := time.Date(2025, 6, 7, 8, 9, 10, 123456789, berlin)
	full := things.Thing{
		ID: "full", Name: "n", Title: ptr("t"), Body: ptr("b"), Code: ptr("0190a0a0-0000-7000-8000-000000000001"),
		Kind: ptr(things.ThingKindB), Rank: ptr(int64(-3)), Count: 7, Score: ptr(math.Copysign(0, -1)), Ratio: math.Copysign(0, -1),
		Flag: ptr(false), Active: true, At: &at, Created: at, Tags: []string{"x", "y"}, Nums: []int64{1, 2},
		Levels: []things.ThingLevel{things.ThingLevelLow, things.ThingLevelHigh}, Blob: []byte{0, 1},
		Meta: json.RawMessage(` { "a" : [1, 2] } `), RecordVersion: "v1",
	}
	with := func(f func(*things.Thing)) things.Thing {
		r := things.ThingSchema.Clone(&full)
		f(&r)
		return r
	}
	return []struct {
		name string
		rec  things.Thing
	}{
		{"zero", things.Thing{}},
		{"id only", things.Thing{ID: "a"}},
		{"full", full},
		{"empty lists", things.Thing{ID: "e", Tags: []string{}, Nums: []int64{}, Levels: []things.ThingLevel{}, Blob: []byte{}, Meta: json.RawMessage{}}},
		{"compact JSON", with(func(r *things.Thing) { r.Meta = json.RawMessage(`{"a":1}`) })},
		{"id NUL", with(func(r *things.Thing) { r.ID = "a\x00" })},
		{"id invalid UTF-8", with(func(r *things.Thing) { r.ID = "a\xff" })},
		{"name NUL", with(func(r *things.Thing) { r.Name = "\x00" })},
		{"title invalid UTF-8", with(func(r *things.Thing) { r.Title = ptr("\xc3") })},
		{"body NUL", with(func(r *things.Thing) { r.Body = ptr("long enough to scan words\x00") })},
		{"code upper case", with(func(r *things.Thing) { r.Code = ptr("0190A0A0-0000-7000-8000-000000000001") })},
		{"code junk", with(func(r *things.Thing) { r.Code = ptr("junk") })},
		{"kind unknown", with(func(r *things.Thing) { r.Kind = ptr(things.ThingKind("z")) })},
		{"score NaN", with(func(r *things.Thing) { r.Score = ptr(math.NaN()) })},
		{"ratio infinite", with(func(r *things.Thing) { r.Ratio = math.Inf(-1) })},
		{"tags NUL", with(func(r *things.Thing) { r.Tags = []string{"ok", "\x00"} })},
		{"levels unknown", with(func(r *things.Thing) { r.Levels = []things.ThingLevel{"low", "top"} })},
		{"meta invalid", with(func(r *things.Thing) { r.Meta = json.RawMessage(`{"a":`) })},
		{"meta invalid UTF-8", with(func(r *things.Thing) { r.Meta = json.RawMessage("\"\xff\"") })},
		{"first error wins", with(func(r *things.Thing) { r.Name, r.Ratio = "\x00", math.NaN() })},
	}
}

// TestPrepareAsGenerated prepares copies of every case with both descriptors: the same
// error (type, record, field and text) and the same record afterwards, and neither
// writes into the caller's memory.
func TestPrepareAsGenerated(t *testing.T) {
	for _, c := range thingCases() {
		t.Run(c.name, func(t *testing.T) {
			orig := things.ThingSchema.Clone(&c.rec)
			got, want := c.rec, c.rec // shallow copies: share the caller's pointers and slices
			gErr, wErr := thingDesc.Prepare(&got), things.ThingSchema.Prepare(&want)
			if (gErr == nil) != (wErr == nil) {
				t.Fatalf("Prepare = %v, generated %v", gErr, wErr)
			}
			if wErr != nil {
				var gfe, wfe *record.FieldError
				if !errors.As(gErr, &gfe) || !errors.As(wErr, &wfe) || gfe.Record != wfe.Record || gfe.Field != wfe.Field || gErr.Error() != wErr.Error() {
					t.Errorf("Prepare = %#v (%v), generated %#v (%v)", gErr, gErr, wErr, wErr)
				}
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("prepared\n%+v\ngenerated\n%+v", got, want)
			}
			if got.At != nil && (got.At.Location() != time.UTC || got.At.Nanosecond()%1000 != 0) {
				t.Errorf("At = %v, want UTC at microsecond precision", got.At)
			}
			if !reflect.DeepEqual(c.rec, orig) {
				t.Errorf("Prepare wrote into the caller's memory:\n%+v\nwas\n%+v", c.rec, orig)
			}
		})
	}
}

// TestAccessorsAsGenerated compares every field's accessor on every case, before and after
// Prepare.
func TestAccessorsAsGenerated(t *testing.T) {
	for _, c := range thingCases() {
		recs := []things.Thing{c.rec}
		if p := c.rec; things.ThingSchema.Prepare(&p) == nil {
			recs = append(recs, p)
		}
		for _, r := range recs {
			if g, w := thingDesc.GetID(&r), things.ThingSchema.GetID(&r); g != w {
				t.Errorf("%s: GetID = %q, generated %q", c.name, g, w)
			}
			if g, w := thingDesc.GetVersion(&r), things.ThingSchema.GetVersion(&r); g != w {
				t.Errorf("%s: GetVersion = %q, generated %q", c.name, g, w)
			}
			for i := range thingDesc.Fields {
				gv, gok := thingDesc.Fields[i].Value(&r)
				wv, wok := things.ThingSchema.Fields[i].Value(&r)
				if gok != wok || fmt.Sprintf("%#v", gv) != fmt.Sprintf("%#v", wv) { // NaN is not DeepEqual to itself
					t.Errorf("%s: field %s = %#v, %v; generated %#v, %v", c.name, thingDesc.Fields[i].Name, gv, gok, wv, wok)
				}
				gu, guok := thingDesc.Fields[i].UniqueValue(&r)
				wu, wuok := things.ThingSchema.Fields[i].UniqueValue(&r)
				if gu != wu || guok != wuok {
					t.Errorf("%s: field %s unique value %q, %v; generated %q, %v", c.name, thingDesc.Fields[i].Name, gu, guok, wu, wuok)
				}
			}
		}
	}
	var r things.Thing
	thingDesc.SetID(&r, "x")
	thingDesc.SetVersion(&r, "v")
	if r.ID != "x" || r.RecordVersion != "v" {
		t.Errorf("SetID, SetVersion gave %+v", r)
	}
}

// mutate changes every pointed-to value and slice element of r in place.
func mutate(r *things.Thing) {
	*r.Title, *r.Body, *r.Code, *r.Kind = "changed", "changed", "changed", "c"
	*r.Rank, *r.Score, *r.Flag = 99, 99, true
	*r.At = r.At.Add(time.Hour)
	r.Tags[0], r.Nums[0], r.Levels[0], r.Blob[0], r.Meta[0] = "changed", 99, "mid", 99, '['
}

func TestCloneAsGenerated(t *testing.T) {
	full := thingCases()[2].rec
	src := things.ThingSchema.Clone(&full)
	got, want := thingDesc.Clone(&src), things.ThingSchema.Clone(&src)
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(got, src) {
		t.Fatalf("Clone = %+v, generated %+v", got, want)
	}
	mutate(&src)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Clone shares memory with its source: %+v, generated clone %+v", got, want)
	}
	for _, r := range []things.Thing{{}, {ID: "e", Tags: []string{}, Blob: []byte{}}} {
		if g, w := thingDesc.Clone(&r), things.ThingSchema.Clone(&r); !reflect.DeepEqual(g, w) {
			t.Errorf("Clone(%+v) = %+v, generated %+v", r, g, w)
		}
	}
}

func TestProjectAsGenerated(t *testing.T) {
	full := thingCases()[2].rec
	for i := range len(thingDesc.Fields) + 1 { // one past the end: ignored
		src := things.ThingSchema.Clone(&full)
		base := things.Thing{Name: "kept", Rank: ptr(int64(1)), Tags: []string{"kept"}}
		got, want := things.ThingSchema.Clone(&base), things.ThingSchema.Clone(&base)
		thingDesc.Project(&got, &src, []int{i})
		things.ThingSchema.Project(&want, &src, []int{i})
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Project field %d = %+v, generated %+v", i, got, want)
		}
		mutate(&src)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Project field %d shares memory with its source", i)
		}
	}
}

func TestAddrAsGenerated(t *testing.T) {
	var r things.Thing
	for i := -1; i <= len(thingDesc.Fields); i++ {
		g, w := thingDesc.Addr(&r, i), things.ThingSchema.Addr(&r, i)
		if reflect.TypeOf(g) != reflect.TypeOf(w) || g != w {
			t.Errorf("Addr(%d) = %T %v, generated %T %v", i, g, g, w, w)
		}
	}
}
