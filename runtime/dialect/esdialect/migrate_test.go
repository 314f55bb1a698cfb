package esdialect_test

import (
	"encoding/json"
	"testing"

	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/query"
)

// TestRecordMappingCompat checks that compat fields are listed in _meta and that
// StripCompat removes exactly them, so that Diff reports no drift for them.
func TestRecordMappingCompat(t *testing.T) {
	r := &migrate.Record{Name: "Item", ID: migrate.ID{Name: "id", Type: "string"},
		Fields: []migrate.Field{{Name: "title", Type: "string"}, {Name: "at", Type: "time"}}}
	for _, tc := range []struct {
		name   string
		compat []esdialect.FieldSpec
	}{
		{"none", nil},
		{"renamed string", []esdialect.FieldSpec{{JSON: "label", Kind: query.KindString}}},
		{"renamed time", []esdialect.FieldSpec{{JSON: "when", Kind: query.KindTime}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var live, want any
			if err := json.Unmarshal(esdialect.RecordMappingCompat(r, tc.compat), &live); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(esdialect.RecordMapping(r), &want); err != nil {
				t.Fatal(err)
			}
			if d := esdialect.Diff(want, live); (len(d) > 0) != (tc.compat != nil) {
				t.Errorf("before StripCompat: %d differences %v", len(d), d)
			}
			if d := esdialect.Diff(want, esdialect.StripCompat(live)); len(d) != 0 {
				t.Errorf("after StripCompat: %v", d)
			}
		})
	}
}

func TestSameFieldMapping(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		same     bool
	}{
		{"enum", "string", true},
		{"int", "float", false},
		{"string", "text", false},
	} {
		if got := esdialect.SameFieldMapping(tc.from, tc.to); got != tc.same {
			t.Errorf("SameFieldMapping(%s, %s) = %v, want %v", tc.from, tc.to, got, tc.same)
		}
	}
	if query.KindOf("float") != query.KindFloat || query.KindOf("nope") != query.KindInvalid {
		t.Error("KindOf")
	}
}
