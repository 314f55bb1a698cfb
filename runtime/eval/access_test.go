package eval_test

import (
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/eval"
	"github.com/repokit/repokit/runtime/record"
)

func checkLayouts[T any](t *testing.T, d *record.Desc[T]) {
	t.Helper()
	for i, f := range d.Fields {
		if !eval.DirectLayout(d, i) {
			t.Errorf("%s.%s (%s, optional=%v): generated layout not recognized; it would be read through its accessor", d.Name, f.Name, f.Kind, f.Optional)
		}
	}
}

// TestGeneratedLayouts checks that every field of generated records is read at its offset.
func TestGeneratedLayouts(t *testing.T) {
	checkLayouts(t, things.ThingSchema)
	checkLayouts(t, things.OtherSchema)
	checkLayouts(t, things.KeywordSchema)
}

// TestLayoutOffsets checks that the offsets found through Addr read the same values as
// the accessors.
func TestLayoutOffsets(t *testing.T) {
	d := things.ThingSchema
	kind := things.ThingKindB
	r := things.Thing{ID: "x", Name: "n", Kind: &kind, Ratio: 2.5, Tags: []string{"a"}, Levels: []things.ThingLevel{"mid"}}
	for i, f := range d.Fields {
		switch {
		case f.List && f.Strs != nil:
			got := eval.OffsetStrs(d, i, &r)
			if want := f.Strs(&r); len(got) != len(want) || (len(got) > 0 && got[0] != want[0]) {
				t.Errorf("%s: offset read %v, accessor %v", f.Name, got, want)
			}
		case !f.List && f.Str != nil:
			gv, gok := eval.OffsetStr(d, i, &r)
			wv, wok := f.Str(&r)
			if gv != wv || gok != wok {
				t.Errorf("%s: offset read %q %v, accessor %q %v", f.Name, gv, gok, wv, wok)
			}
		case !f.List && f.Float != nil:
			gv, gok := eval.OffsetFloat(d, i, &r)
			wv, wok := f.Float(&r)
			if gv != wv || gok != wok {
				t.Errorf("%s: offset read %v %v, accessor %v %v", f.Name, gv, gok, wv, wok)
			}
		}
	}
}
