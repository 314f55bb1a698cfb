package record

import (
	"math"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/query"
)

// uv is a record with one value of every kind unique supports, and two it does not.
type uv struct {
	s    *string
	i    *int64
	f    *float64
	b    *bool
	t    *time.Time
	list []string
	raw  []byte
}

func get[V any](p *V) (V, bool) {
	if p == nil {
		var zero V
		return zero, false
	}
	return *p, true
}

var uvFields = []Field[uv]{
	{Name: "s", Kind: query.KindString, Str: func(r *uv) (string, bool) { return get(r.s) }},
	{Name: "i", Kind: query.KindInt, Int: func(r *uv) (int64, bool) { return get(r.i) }},
	{Name: "f", Kind: query.KindFloat, Float: func(r *uv) (float64, bool) { return get(r.f) }},
	{Name: "b", Kind: query.KindBool, Bool: func(r *uv) (bool, bool) { return get(r.b) }},
	{Name: "t", Kind: query.KindTime, Time: func(r *uv) (time.Time, bool) { return get(r.t) }},
	{Name: "list", Kind: query.KindString, List: true, Strs: func(r *uv) []string { return r.list }},
	{Name: "raw", Kind: query.KindBytes, Bytes: func(r *uv) ([]byte, bool) { return r.raw, r.raw != nil }},
}

func p[V any](v V) *V { return &v }

// UniqueValue gives two values one text exactly when a PostgreSQL unique index holds them
// equal: -0 is 0, every NaN is one value, an instant is one value whatever its zone and
// below the microsecond.
func TestUniqueValue(t *testing.T) {
	at := time.Date(2025, 6, 7, 8, 9, 10, 123456789, time.UTC)
	before1970 := time.Date(1969, 12, 31, 23, 59, 59, 999999500, time.UTC)
	nan1, nan2 := math.NaN(), math.Float64frombits(0x7ff8000000000001|1<<63) // two NaN payloads, one negative
	for _, tc := range []struct {
		name  string
		field int
		a, b  uv
		same  bool
	}{
		{"strings", 0, uv{s: p("a")}, uv{s: p("a")}, true},
		{"strings differ by case", 0, uv{s: p("a")}, uv{s: p("A")}, false},
		{"empty string is a value", 0, uv{s: p("")}, uv{s: p("")}, true},
		{"ints", 1, uv{i: p(int64(-5))}, uv{i: p(int64(-5))}, true},
		{"other ints", 1, uv{i: p(int64(5))}, uv{i: p(int64(-5))}, false},
		{"-0 is 0", 2, uv{f: p(math.Copysign(0, -1))}, uv{f: p(0.0)}, true},
		{"NaN is NaN", 2, uv{f: p(nan1)}, uv{f: p(nan2)}, true},
		{"NaN is no number", 2, uv{f: p(nan1)}, uv{f: p(0.0)}, false},
		{"+Inf", 2, uv{f: p(math.Inf(1))}, uv{f: p(math.Inf(1))}, true},
		{"+Inf is not -Inf", 2, uv{f: p(math.Inf(1))}, uv{f: p(math.Inf(-1))}, false},
		{"close floats", 2, uv{f: p(0.1)}, uv{f: p(math.Nextafter(0.1, 1))}, false},
		{"bools", 3, uv{b: p(false)}, uv{b: p(false)}, true},
		{"other bools", 3, uv{b: p(false)}, uv{b: p(true)}, false},
		{"one instant, two zones", 4, uv{t: p(at)}, uv{t: p(at.In(time.FixedZone("X", 3600)))}, true},
		{"below the microsecond", 4, uv{t: p(at)}, uv{t: p(at.Truncate(time.Microsecond))}, true},
		{"next microsecond", 4, uv{t: p(at)}, uv{t: p(at.Add(time.Microsecond))}, false},
		{"before 1970 toward the past", 4, uv{t: p(before1970)}, uv{t: p(before1970.Add(-400 * time.Nanosecond))}, true},
	} {
		f := &uvFields[tc.field]
		va, oka := f.UniqueValue(&tc.a)
		vb, okb := f.UniqueValue(&tc.b)
		if !oka || !okb {
			t.Errorf("%s: a present value reported missing", tc.name)
		}
		if (va == vb) != tc.same {
			t.Errorf("%s: %q and %q, want same=%v", tc.name, va, vb, tc.same)
		}
	}
	for i := range 5 {
		if v, ok := uvFields[i].UniqueValue(&uv{}); ok || v != "" {
			t.Errorf("missing %s: %q, %v; want no value", uvFields[i].Name, v, ok)
		}
		if !uvFields[i].UniqueSupported() {
			t.Errorf("%s: unique not supported", uvFields[i].Name)
		}
	}
	full := uv{list: []string{"a"}, raw: []byte("a")}
	for _, i := range []int{5, 6} {
		if uvFields[i].UniqueSupported() {
			t.Errorf("%s: unique supported", uvFields[i].Name)
		}
		if v, ok := uvFields[i].UniqueValue(&full); ok {
			t.Errorf("%s: value %q, want none", uvFields[i].Name, v)
		}
	}
}
