package pool

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// A small value tree shared by the YAML and the map decoders, so both report the same errors.

type nodeKind int

const (
	kNull nodeKind = iota
	kBool
	kInt
	kFloat
	kStr
	kDuration
	kMap
	kSeq
)

type node struct {
	kind  nodeKind
	line  int
	b     bool
	i     int64
	f     float64
	s     string
	d     time.Duration
	keys  []string
	klns  []int
	vals  []*node
	items []*node
}

// field is a value with the key path and line it came from.
type field struct {
	key  string // last path element
	path string
	line int
	v    *node
}

func childPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

type decoder struct {
	file string
	errs []error
}

func (d *decoder) fail(f field, format string, args ...any) {
	d.errs = append(d.errs, &ConfigError{File: d.file, Line: f.line, Key: f.path, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) err() error {
	switch len(d.errs) {
	case 0:
		return nil
	case 1:
		return d.errs[0]
	}
	return joinConfigErrors(d.errs)
}

// configErrors joins several ConfigErrors, one per line.
type configErrors []error

func (c configErrors) Error() string {
	parts := make([]string, len(c))
	for i, e := range c {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}
func (c configErrors) Unwrap() []error { return c }

func joinConfigErrors(errs []error) error { return configErrors(append([]error(nil), errs...)) }

// describe renders a value for "got ..." in messages; secrets are described by kind only.
func describe(n *node, secret bool) string {
	switch n.kind {
	case kNull:
		return "null"
	case kMap:
		return "a mapping"
	case kSeq:
		return "a list"
	}
	if secret {
		switch n.kind {
		case kBool:
			return "a boolean"
		case kInt:
			return "an integer"
		case kFloat:
			return "a number"
		case kDuration:
			return "a duration"
		}
		return "a string"
	}
	switch n.kind {
	case kBool:
		return strconv.FormatBool(n.b)
	case kInt:
		return strconv.FormatInt(n.i, 10)
	case kFloat:
		return strconv.FormatFloat(n.f, 'g', -1, 64)
	case kDuration:
		return n.d.String()
	}
	s := n.s
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return strconv.Quote(s)
}

func (d *decoder) str(f field, secret bool) (string, bool) {
	if f.v.kind != kStr {
		d.fail(f, "expected a string, got %s", describe(f.v, secret))
		return "", false
	}
	return f.v.s, true
}

func (d *decoder) integer(f field) (int64, bool) {
	switch f.v.kind {
	case kInt:
		return f.v.i, true
	case kFloat:
		if f.v.f == math.Trunc(f.v.f) && math.Abs(f.v.f) < 1<<53 {
			return int64(f.v.f), true
		}
	}
	d.fail(f, "expected an integer, got %s", describe(f.v, false))
	return 0, false
}

func (d *decoder) intIn(f field, lo, hi int64) (int, bool) {
	v, ok := d.integer(f)
	if !ok {
		return 0, false
	}
	if v < lo || v > hi {
		if hi == math.MaxInt32 {
			d.fail(f, "must be at least %d, got %d", lo, v)
		} else {
			d.fail(f, "must be between %d and %d, got %d", lo, hi, v)
		}
		return 0, false
	}
	return int(v), true
}

func (d *decoder) boolean(f field) (bool, bool) {
	if f.v.kind != kBool {
		d.fail(f, "expected a boolean, got %s", describe(f.v, false))
		return false, false
	}
	return f.v.b, true
}

// duration accepts a number of seconds (the seed's unit) or a Go duration string like "30s".
func (d *decoder) duration(f field) (time.Duration, bool) {
	var v time.Duration
	switch f.v.kind {
	case kDuration:
		v = f.v.d
	case kInt:
		if f.v.i > math.MaxInt64/int64(time.Second) || f.v.i < math.MinInt64/int64(time.Second) {
			d.fail(f, "duration out of range, got %d", f.v.i)
			return 0, false
		}
		v = time.Duration(f.v.i) * time.Second
	case kFloat:
		if math.IsNaN(f.v.f) || math.Abs(f.v.f) > float64(math.MaxInt64/int64(time.Second)) {
			d.fail(f, "duration out of range, got %s", describe(f.v, false))
			return 0, false
		}
		v = time.Duration(f.v.f * float64(time.Second))
	case kStr:
		p, err := time.ParseDuration(f.v.s)
		if err != nil {
			d.fail(f, `expected a duration (seconds, or a string like "30s"), got %s`, describe(f.v, false))
			return 0, false
		}
		v = p
	default:
		d.fail(f, `expected a duration (seconds, or a string like "30s"), got %s`, describe(f.v, false))
		return 0, false
	}
	if v < 0 {
		d.fail(f, "must not be negative, got %s", v)
		return 0, false
	}
	return v, true
}

func (d *decoder) strList(f field) ([]string, bool) {
	if f.v.kind != kSeq {
		d.fail(f, "expected a list of strings, got %s", describe(f.v, false))
		return nil, false
	}
	out := make([]string, 0, len(f.v.items))
	ok := true
	for i, it := range f.v.items {
		s, good := d.str(field{key: f.key, path: fmt.Sprintf("%s[%d]", f.path, i), line: it.line, v: it}, false)
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

func (d *decoder) entries(f field) ([]field, bool) {
	if f.v.kind != kMap {
		d.fail(f, "expected a mapping, got %s", describe(f.v, false))
		return nil, false
	}
	out := make([]field, len(f.v.keys))
	for i, k := range f.v.keys {
		out[i] = field{key: k, path: childPath(f.path, k), line: f.v.klns[i], v: f.v.vals[i]}
	}
	return out, true
}

func (d *decoder) unknown(f field, known []string, hints map[string]string) {
	if h, ok := hints[f.key]; ok {
		d.fail(f, "unknown key (use %s)", h)
		return
	}
	best, bestD := "", 3
	for _, k := range known {
		if dist := editDistance(f.key, k); dist < bestD {
			best, bestD = k, dist
		}
	}
	if best == "" {
		bestP := 0
		for _, k := range known {
			if p := commonPrefix(f.key, k); p >= 4 && 2*p >= len(f.key) && p > bestP {
				best, bestP = k, p
			}
		}
	}
	if best != "" {
		d.fail(f, "unknown key (did you mean %s?)", best)
		return
	}
	d.fail(f, "unknown key")
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// seen tracks where each setting came from, to report duplicates and to place validation
// errors on the right key and line.
type seen struct {
	section field
	at      map[string]field
}

func newSeen(section field) *seen { return &seen{section: section, at: map[string]field{}} }

// set records canonical setting name; it reports false (with an error) for a second setting.
func (s *seen) set(d *decoder, name string, f field) bool {
	if prev, ok := s.at[name]; ok {
		if prev.line > 0 {
			d.fail(f, "%s is already set by %s (line %d)", name, prev.path, prev.line)
		} else {
			d.fail(f, "%s is already set by %s", name, prev.path)
		}
		return false
	}
	s.at[name] = f
	return true
}

// where returns the field a problem about canonical setting name should point at.
func (s *seen) where(name string) field {
	if f, ok := s.at[name]; ok {
		return f
	}
	return field{key: name, path: childPath(s.section.path, name), line: s.section.line}
}

// problem is a validation failure about one canonical setting.
type problem struct {
	name string
	msg  string
}

func (d *decoder) report(s *seen, probs []problem) {
	for _, p := range probs {
		d.fail(s.where(p.name), "%s", p.msg)
	}
}

// problemsError turns problems into ConfigErrors without position (for Validate methods).
func problemsError(probs []problem) error {
	if len(probs) == 0 {
		return nil
	}
	d := &decoder{}
	for _, p := range probs {
		d.fail(field{path: p.name}, "%s", p.msg)
	}
	return d.err()
}

// fromYAML converts a yaml.v3 node; duplicate keys and unsupported tags are errors.
func (d *decoder) fromYAML(n *yaml.Node, path string) *node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	out := &node{line: n.Line}
	here := field{path: path, line: n.Line}
	switch n.Kind {
	case 0: // empty input
		out.kind = kNull
		return out
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			out.kind = kNull
			return out
		}
		return d.fromYAML(n.Content[0], path)
	case yaml.MappingNode:
		out.kind = kMap
		firstAt := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			if kn.Kind == yaml.ScalarNode && kn.Tag == "!!merge" {
				d.fail(field{path: path, line: kn.Line}, "merge keys (<<) are not supported")
				continue
			}
			if kn.Kind != yaml.ScalarNode {
				d.fail(field{path: path, line: kn.Line}, "keys must be strings")
				continue
			}
			k := kn.Value
			if line, dup := firstAt[k]; dup {
				d.fail(field{path: childPath(path, k), line: kn.Line}, "duplicate key (first at line %d)", line)
				continue
			}
			firstAt[k] = kn.Line
			out.keys = append(out.keys, k)
			out.klns = append(out.klns, kn.Line)
			out.vals = append(out.vals, d.fromYAML(vn, childPath(path, k)))
		}
	case yaml.SequenceNode:
		out.kind = kSeq
		for i, c := range n.Content {
			out.items = append(out.items, d.fromYAML(c, fmt.Sprintf("%s[%d]", path, i)))
		}
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			out.kind = kNull
		case "!!bool":
			out.kind = kBool
			if err := n.Decode(&out.b); err != nil {
				d.fail(here, "invalid boolean %q", n.Value)
			}
		case "!!int":
			out.kind = kInt
			if err := n.Decode(&out.i); err != nil {
				d.fail(here, "integer out of range: %s", n.Value)
			}
		case "!!float":
			out.kind = kFloat
			if err := n.Decode(&out.f); err != nil {
				d.fail(here, "invalid number %q", n.Value)
			}
		case "!!str":
			out.kind, out.s = kStr, n.Value
		default:
			d.fail(here, "unsupported YAML tag %s", n.ShortTag())
			out.kind, out.s = kStr, n.Value
		}
	default:
		d.fail(here, "unsupported YAML node")
		out.kind = kNull
	}
	return out
}

// fromGo converts a map[string]any style value (the seed's from_dict input).
func (d *decoder) fromGo(v any, path string) *node {
	n := &node{}
	switch x := v.(type) {
	case nil:
		n.kind = kNull
	case bool:
		n.kind, n.b = kBool, x
	case int:
		n.kind, n.i = kInt, int64(x)
	case int8:
		n.kind, n.i = kInt, int64(x)
	case int16:
		n.kind, n.i = kInt, int64(x)
	case int32:
		n.kind, n.i = kInt, int64(x)
	case int64:
		n.kind, n.i = kInt, x
	case uint8:
		n.kind, n.i = kInt, int64(x)
	case uint16:
		n.kind, n.i = kInt, int64(x)
	case uint32:
		n.kind, n.i = kInt, int64(x)
	case uint:
		if uint64(x) > math.MaxInt64 {
			n.kind, n.f = kFloat, float64(x)
		} else {
			n.kind, n.i = kInt, int64(x)
		}
	case uint64:
		if x > math.MaxInt64 {
			n.kind, n.f = kFloat, float64(x)
		} else {
			n.kind, n.i = kInt, int64(x)
		}
	case float32:
		n.kind, n.f = kFloat, float64(x)
	case float64:
		n.kind, n.f = kFloat, x
	case string:
		n.kind, n.s = kStr, x
	case time.Duration:
		n.kind, n.d = kDuration, x
	case []string:
		n.kind = kSeq
		for _, s := range x {
			n.items = append(n.items, &node{kind: kStr, s: s})
		}
	case []any:
		n.kind = kSeq
		for i, it := range x {
			n.items = append(n.items, d.fromGo(it, fmt.Sprintf("%s[%d]", path, i)))
		}
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[k] = v
		}
		return d.fromGo(m, path)
	case map[string]any:
		n.kind = kMap
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			n.keys = append(n.keys, k)
			n.klns = append(n.klns, 0)
			n.vals = append(n.vals, d.fromGo(x[k], childPath(path, k)))
		}
	default:
		d.fail(field{path: path}, "unsupported value of Go type %T", v)
		n.kind = kNull
	}
	return n
}

// envLookup reads one environment variable for an integer or duration setting.
type envReader struct {
	lookup func(string) (string, bool)
	d      *decoder
}

func (r envReader) field(name string) (field, bool) {
	v, ok := r.lookup(name)
	if !ok {
		return field{}, false
	}
	return field{key: name, path: "$" + name, v: &node{kind: kStr, s: v}}, true
}

func (r envReader) intIn(name string, lo, hi int64, dst *int) {
	f, ok := r.field(name)
	if !ok {
		return
	}
	v, err := strconv.ParseInt(strings.TrimSpace(f.v.s), 10, 64)
	if err != nil {
		r.d.fail(f, "expected an integer, got %s", describe(f.v, false))
		return
	}
	f.v = &node{kind: kInt, i: v}
	if n, ok := r.d.intIn(f, lo, hi); ok {
		*dst = n
	}
}

func (r envReader) duration(name string, dst *time.Duration) {
	f, ok := r.field(name)
	if !ok {
		return
	}
	s := strings.TrimSpace(f.v.s)
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		f.v = &node{kind: kFloat, f: secs}
	}
	if v, ok := r.d.duration(f); ok {
		*dst = v
	}
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
