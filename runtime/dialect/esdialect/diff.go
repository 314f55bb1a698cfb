package esdialect

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Difference is one path where a live mapping differs from the wanted one. A path is a
// field's dotted name ("title", "title.kw", "_rk.us.created") or "(root)" for the mapping's
// own attributes; the attributes are the path's settings other than properties and fields,
// as JSON with sorted keys (e.g. {"type":"keyword"}).
type Difference struct {
	Path string
	Live string // the index's attributes; "" when the path is missing in the index
	Want string // the schema's attributes; "" when the path is not in the schema
}

// String describes the difference in one line, e.g.
// `title: index has {"type":"keyword"}, schema wants {"type":"text"}`.
func (d Difference) String() string {
	switch {
	case d.Live == "":
		return fmt.Sprintf("%s: missing in the index (schema: %s)", d.Path, d.Want)
	case d.Want == "":
		return fmt.Sprintf("%s: in the index (%s) but not in the schema", d.Path, d.Live)
	}
	return fmt.Sprintf("%s: index has %s, schema wants %s", d.Path, d.Live, d.Want)
}

// Diff compares a wanted mapping with a live one, both decoded from JSON (a mapping as
// Mapping renders it, and the "mappings" object of an index), and returns every path whose
// attributes differ, ordered by String. A live mapping without "dynamic" counts as dynamic
// "true", Elasticsearch's default.
func Diff(want, live any) []Difference {
	w, l := map[string]string{}, map[string]string{}
	wm, _ := want.(map[string]any)
	lm, _ := live.(map[string]any)
	flatten("", wm, w)
	flatten("", lm, l)
	var diffs []Difference
	for p, wa := range w {
		if la := l[p]; la != wa {
			diffs = append(diffs, Difference{Path: p, Live: la, Want: wa})
		}
	}
	for p, la := range l {
		if _, ok := w[p]; !ok {
			diffs = append(diffs, Difference{Path: p, Live: la})
		}
	}
	sort.Slice(diffs, func(i, j int) bool { return diffs[i].String() < diffs[j].String() })
	return diffs
}

// flatten turns a mapping into path → attributes (without properties/fields, which become
// paths of their own).
func flatten(prefix string, m map[string]any, out map[string]string) {
	attrs := map[string]any{}
	for k, v := range m {
		switch k {
		case "properties", "fields":
			sub, _ := v.(map[string]any)
			for name, sv := range sub {
				sm, _ := sv.(map[string]any)
				p := name
				if prefix != "" {
					p = prefix + "." + name
				}
				flatten(p, sm, out)
			}
		default:
			attrs[k] = v
		}
	}
	if prefix == "" {
		if attrs["dynamic"] == nil {
			attrs["dynamic"] = "true"
		}
		prefix = "(root)"
	}
	if len(attrs) > 0 {
		b, _ := json.Marshal(attrs) // sorted keys
		out[prefix] = string(b)
	}
}

// OlderCodeDiffs returns the differences of Diff(want, live) that keep code whose mapping
// is want from working on a live index that a newer version of the schema made: a field
// it uses that is missing or has other attributes, except a long widened to double (a
// fractional value written by newer code then fails its read). Fields only the index has
// are newer code's and are left out, and so is the write token (added on open).
func OlderCodeDiffs(diffs []Difference) []Difference {
	var out []Difference
	for _, d := range diffs {
		switch {
		case d.Want == "":
		case d.Path == MetaField+"."+WriteToken && d.Live == "":
		case d.Want == `{"type":"long"}` && d.Live == `{"type":"double"}`:
		default:
			out = append(out, d)
		}
	}
	return out
}
