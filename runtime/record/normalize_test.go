package record

import (
	"math"
	"testing"
)

func TestNormalizeFloat(t *testing.T) {
	negZero := math.Copysign(0, -1)
	if v := NormalizeFloat(negZero); v != 0 || math.Signbit(v) {
		t.Errorf("NormalizeFloat(-0) = %v (sign bit %v), want +0", v, math.Signbit(v))
	}
	for _, v := range []float64{0, 1.5, -2, math.MaxFloat64, -math.SmallestNonzeroFloat64} {
		if got := NormalizeFloat(v); got != v || math.Signbit(got) != math.Signbit(v) {
			t.Errorf("NormalizeFloat(%v) = %v", v, got)
		}
	}
	p := &negZero
	q := NormalizeFloatPtr(p)
	if q == p || *q != 0 || math.Signbit(*q) || !math.Signbit(*p) {
		t.Errorf("NormalizeFloatPtr(&-0) = %p -> %v; the caller's value is now %v", q, *q, *p)
	}
	one := 1.0
	if NormalizeFloatPtr(&one) != &one || NormalizeFloatPtr(nil) != nil {
		t.Errorf("NormalizeFloatPtr changed a pointer it should keep")
	}
	in := []float64{1, negZero, 2, negZero}
	out := NormalizeFloats(in)
	for i, v := range out {
		if math.Signbit(v) {
			t.Errorf("NormalizeFloats: element %d is %v", i, v)
		}
	}
	if !math.Signbit(in[1]) || !math.Signbit(in[3]) {
		t.Errorf("NormalizeFloats wrote into the caller's slice: %v", in)
	}
	keep := []float64{1, 0, -3}
	if got := NormalizeFloats(keep); &got[0] != &keep[0] {
		t.Errorf("NormalizeFloats copied a slice without −0")
	}
}

func TestCompactJSON(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{`{"a":1}`, `{"a":1}`},
		{" {\n\t\"b\" : [ 1 , 2 ],\r\n \"a\" : \"x y\" } ", `{"b":[1,2],"a":"x y"}`},
		{`"two  spaces"`, `"two  spaces"`},
		{`{"h":"<&>\u2028","e":"\u00e9"}`, `{"h":"<&>\u2028","e":"\u00e9"}`},
		{"[ 1.50 , -0 , 1e2 ]", "[1.50,-0,1e2]"},
	} {
		in := []byte(c.in)
		orig := string(in)
		got := CompactJSON(in)
		if string(got) != c.want {
			t.Errorf("CompactJSON(%q) = %q, want %q", c.in, got, c.want)
		}
		if string(in) != orig {
			t.Errorf("CompactJSON(%q) wrote into its argument: %q", c.in, in)
		}
		if c.in == c.want && len(in) > 0 && &got[0] != &in[0] {
			t.Errorf("CompactJSON(%q) copied a compact document", c.in)
		}
	}
	if CompactJSON([]byte{}) != nil {
		t.Errorf("CompactJSON(empty) is not nil")
	}
}
