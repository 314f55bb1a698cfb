package esdialect_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/query"
)

func TestMappingFor(t *testing.T) {
	got := esdialect.MappingFor([]esdialect.FieldSpec{
		{JSON: "id", Kind: query.KindString},
		{JSON: "title", Kind: query.KindText},
		{JSON: "at", Kind: query.KindTime},
		{JSON: "raw", Kind: query.KindBytes},
		{JSON: "doc", Kind: query.KindJSON},
	})
	var compact bytes.Buffer
	if err := json.Compact(&compact, got); err != nil {
		t.Fatal(err)
	}
	want := `{"dynamic":"strict","properties":{` +
		`"id":{"type":"keyword"},` +
		`"title":{"type":"text","fields":{"kw":{"type":"keyword"}}},` +
		`"at":{"type":"date","format":"strict_date_optional_time"},` +
		`"raw":{"type":"binary","doc_values":true},` +
		`"doc":{"type":"object","enabled":false},` +
		`"_rk":{"properties":{"us":{"properties":{"at":{"type":"long"}}},"has":{"type":"keyword"},"w":{"type":"keyword","index":false,"doc_values":false}}}}}`
	if compact.String() != want {
		t.Errorf("MappingFor =\n%s\nwant\n%s", compact.String(), want)
	}
	if !strings.Contains(string(got), "\n  \"properties\": {") {
		t.Errorf("mapping is not indented by two spaces:\n%s", got)
	}
}

func TestDiff(t *testing.T) {
	decode := func(s string) any {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	want := decode(string(esdialect.MappingFor([]esdialect.FieldSpec{{JSON: "a", Kind: query.KindInt}, {JSON: "b", Kind: query.KindText}})))
	if d := esdialect.Diff(want, want); d != nil {
		t.Errorf("Diff of equal mappings = %v", d)
	}
	live := decode(`{"properties":{"a":{"type":"keyword"},"x":{"type":"long"},"_rk":{"properties":{"has":{"type":"keyword"}}}}}`)
	var got []string
	for _, d := range esdialect.Diff(want, live) {
		got = append(got, d.String())
	}
	exp := []string{
		`(root): index has {"dynamic":"true"}, schema wants {"dynamic":"strict"}`,
		`_rk.w: missing in the index (schema: {"doc_values":false,"index":false,"type":"keyword"})`,
		`a: index has {"type":"keyword"}, schema wants {"type":"long"}`,
		`b.kw: missing in the index (schema: {"type":"keyword"})`,
		`b: missing in the index (schema: {"type":"text"})`,
		`x: in the index ({"type":"long"}) but not in the schema`,
	}
	if !slices.Equal(got, exp) {
		t.Errorf("Diff =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(exp, "\n"))
	}
	// The write token missing in an index made before it existed is added, not drift.
	added, rest := esdialect.SplitAdded(esdialect.Diff(want, live))
	if len(added) != 1 || added[0].Path != "_rk.w" || len(rest) != len(exp)-1 {
		t.Errorf("SplitAdded = %v, %v", added, rest)
	}
	var upd map[string]any
	if err := json.Unmarshal(esdialect.AddedMeta(), &upd); err != nil {
		t.Fatal(err)
	}
	live2 := decode(`{"dynamic":"strict","properties":{"a":{"type":"long"},"b":{"type":"text","fields":{"kw":{"type":"keyword"}}},` +
		`"_rk":{"properties":{"has":{"type":"keyword"},"w":{"type":"keyword","index":false,"doc_values":false}}}}}`)
	if d := esdialect.Diff(want, live2); d != nil {
		t.Errorf("Diff with the added meta field = %v", d)
	}
	if p, _ := upd["properties"].(map[string]any)["_rk"].(map[string]any)["properties"].(map[string]any)["w"]; p == nil {
		t.Errorf("AddedMeta = %s, no _rk.w", esdialect.AddedMeta())
	}
}
