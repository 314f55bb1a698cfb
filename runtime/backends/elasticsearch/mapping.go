package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// Reserved names in every document. Schema fields may not use them.
const (
	// MetaField is the object holding repokit's derived values: the microsecond form of time
	// fields (MetaField.us.<field>) and the names of present json fields (MetaField.has).
	MetaField = "_rk"
	// KeywordSub is the keyword subfield of text fields, used for exact filters and sorting.
	KeywordSub = "kw"
)

// kv is one member of an ordered JSON object.
type kv struct {
	k string
	v any
}

// obj is a JSON object that keeps its member order.
type obj []kv

// MarshalJSON implements json.Marshaler.
func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(m.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Mapping returns the index mapping for records described by desc, as indented JSON:
//
//   - string, uuid, enum (and the id): keyword, with no ignore_above, so a value is indexed
//     whole or the write is rejected (Lucene's term limit is 32766 bytes);
//   - text: text with a keyword subfield "kw" used for exact filters, patterns and sorting;
//   - int: long; float: double; bool: boolean;
//   - time: the readable RFC 3339 value (microseconds, UTC) as a date, plus its exact
//     microseconds since the Unix epoch as a long in _rk.us.<field>, which filters and sorts
//     use (date keeps only milliseconds);
//   - bytes: binary with doc values (base64 in the document), so EXISTS works;
//   - json: an object with enabled: false (stored, not indexed; any JSON value), plus the
//     field's name in the keyword _rk.has when present, for EXISTS;
//   - lists: arrays of the element's mapping.
//
// Unknown fields are rejected (dynamic: strict).
func Mapping[T any](desc *record.Desc[T]) []byte {
	fields := make([]FieldSpec, len(desc.Fields))
	for i := range desc.Fields {
		fields[i] = FieldSpec{JSON: desc.Fields[i].JSON, Kind: desc.Fields[i].Kind}
	}
	return MappingFor(fields)
}

// FieldSpec is what the mapping needs to know of a field: its JSON name and its (element)
// kind. Lists map like their elements.
type FieldSpec struct {
	JSON string
	Kind query.Kind
}

// MappingFor returns the mapping of a record with the given fields (see Mapping); the
// generator uses it to emit the mapping constants.
func MappingFor(fields []FieldSpec) []byte {
	b, _ := json.MarshalIndent(mappingObj(fields), "", "  ")
	return b
}

func mappingObj(fields []FieldSpec) obj {
	props := obj{}
	var us obj
	for _, f := range fields {
		props = append(props, kv{f.JSON, fieldMapping(f.Kind)})
		if f.Kind == query.KindTime {
			us = append(us, kv{f.JSON, obj{{"type", "long"}}})
		}
	}
	meta := obj{}
	if len(us) > 0 {
		meta = append(meta, kv{"us", obj{{"properties", us}}})
	}
	meta = append(meta, kv{"has", obj{{"type", "keyword"}}})
	props = append(props, kv{MetaField, obj{{"properties", meta}}})
	return obj{{"dynamic", "strict"}, {"properties", props}}
}

func fieldMapping(k query.Kind) obj {
	switch k {
	case query.KindText:
		return obj{{"type", "text"}, {"fields", obj{{KeywordSub, obj{{"type", "keyword"}}}}}}
	case query.KindInt:
		return obj{{"type", "long"}}
	case query.KindFloat:
		return obj{{"type", "double"}}
	case query.KindBool:
		return obj{{"type", "boolean"}}
	case query.KindTime:
		return obj{{"type", "date"}, {"format", "strict_date_optional_time"}}
	case query.KindBytes:
		return obj{{"type", "binary"}, {"doc_values", true}}
	case query.KindJSON:
		return obj{{"type", "object"}, {"enabled", false}}
	}
	return obj{{"type", "keyword"}}
}

// checkDesc reports field names the backend cannot store.
func checkDesc[T any](desc *record.Desc[T]) error {
	for i := range desc.Fields {
		j := desc.Fields[i].JSON
		switch {
		case j == "":
			return fmt.Errorf("elasticsearch: record %s field %s has no JSON name", desc.Name, desc.Fields[i].Name)
		case j == MetaField || strings.HasPrefix(j, "_"):
			return fmt.Errorf("elasticsearch: record %s field %s: JSON name %q is reserved (names starting with _ are)", desc.Name, desc.Fields[i].Name, j)
		case strings.Contains(j, "."):
			return fmt.Errorf("elasticsearch: record %s field %s: JSON name %q contains a dot, which Elasticsearch reads as an object path", desc.Name, desc.Fields[i].Name, j)
		}
	}
	return nil
}

// DriftError lists the differences between an existing index's mapping and the schema.
type DriftError struct {
	Index       string
	Differences []string // one line per difference, sorted
}

func (e *DriftError) Error() string {
	return fmt.Sprintf("elasticsearch: index %q does not match the schema (%d difference(s)); migrate or recreate the index:\n  %s",
		e.Index, len(e.Differences), strings.Join(e.Differences, "\n  "))
}

// Unwrap returns ErrMappingDrift.
func (e *DriftError) Unwrap() error { return ErrMappingDrift }

// EnsureIndex creates index with mapping (JSON as returned by Mapping) and the given number
// of shards and replicas when it does not exist; when it exists, it compares the live
// mapping with mapping and returns a *DriftError (wrapping ErrMappingDrift, kind
// repo.ErrInvalidInput) listing every difference.
func EnsureIndex(ctx context.Context, c *Client, index string, mapping []byte, shards, replicas int) error {
	_, err := ensureIndex(ctx, c, index, mapping, shards, replicas)
	return err
}

// ensureIndex is EnsureIndex that also reports whether this call created the index.
func ensureIndex(ctx context.Context, c *Client, index string, mapping []byte, shards, replicas int) (created bool, err error) {
	var m any
	if err := json.Unmarshal(mapping, &m); err != nil {
		return false, fmt.Errorf("elasticsearch: mapping is not JSON: %w", err)
	}
	body, _ := json.Marshal(map[string]any{
		"settings": map[string]any{"number_of_shards": shards, "number_of_replicas": replicas},
		"mappings": m,
	})
	res, err := esapi.IndicesCreateRequest{Index: index, Body: bytes.NewReader(body)}.Do(ctx, c.ES)
	if err != nil {
		return false, transportError(ctx, err)
	}
	if res.StatusCode == http.StatusOK {
		closeBody(res)
		return true, nil
	}
	raw, _ := io.ReadAll(res.Body)
	closeBody(res)
	se := parseError(res.StatusCode, raw)
	if se.Type != "resource_already_exists_exception" {
		return false, repo.E(kindOf(res.StatusCode, nil), se)
	}
	live, err := liveMapping(ctx, c, index)
	if err != nil {
		return false, err
	}
	if diffs := diffMapping(m, live); len(diffs) > 0 {
		return false, repo.E(repo.ErrInvalidInput, &DriftError{Index: index, Differences: diffs})
	}
	return false, nil
}

func liveMapping(ctx context.Context, c *Client, index string) (any, error) {
	res, err := esapi.IndicesGetMappingRequest{Index: []string{index}}.Do(ctx, c.ES)
	if err != nil {
		return nil, transportError(ctx, err)
	}
	defer closeBody(res)
	if res.IsError() {
		return nil, responseError(res, nil)
	}
	var out map[string]struct {
		Mappings any `json:"mappings"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return nil, repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: reading the mapping of %s: %w", index, err))
	}
	for _, v := range out { // the index, or the concrete index behind an alias
		return v.Mappings, nil
	}
	return nil, fmt.Errorf("elasticsearch: no mapping returned for %s", index)
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

func diffMapping(want, live any) []string {
	w, l := map[string]string{}, map[string]string{}
	wm, _ := want.(map[string]any)
	lm, _ := live.(map[string]any)
	flatten("", wm, w)
	flatten("", lm, l)
	var diffs []string
	for p, wa := range w {
		la, ok := l[p]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: missing in the index (schema: %s)", p, wa))
		case la != wa:
			diffs = append(diffs, fmt.Sprintf("%s: index has %s, schema wants %s", p, la, wa))
		}
	}
	for p, la := range l {
		if _, ok := w[p]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: in the index (%s) but not in the schema", p, la))
		}
	}
	sort.Strings(diffs)
	return diffs
}
