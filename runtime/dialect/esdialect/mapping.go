package esdialect

import (
	"bytes"
	"encoding/json"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// Reserved names in every document. Schema fields may not use them.
const (
	// MetaField is the object holding repokit's derived values: the microsecond form of time
	// fields (MetaField.us.<field>), the names of present json fields (MetaField.has) and
	// the token of the write that stored the document (MetaField.w, see WriteToken).
	MetaField = "_rk"
	// WriteToken is the member of MetaField holding a random token each write puts in the
	// document it stores: when a write is answered 409 (already exists, version conflict),
	// reading the token back tells whether an earlier attempt of the same request (resent
	// after a lost answer, e.g. during a primary failover) stored it. It is a keyword that
	// is neither indexed nor has doc values, so no query can see it.
	WriteToken = "w"
	// KeywordSub is the keyword subfield of text fields, used for exact filters and sorting.
	KeywordSub = "kw"
)

// FieldSpec is what the mapping needs to know of a field: its JSON name and its (element)
// kind. Lists map like their elements.
type FieldSpec struct {
	JSON   string
	Kind   query.Kind
	Search string // full-text language of a searchable text field; "" if not searchable
}

// Mapping returns the index mapping for records described by desc, as indented JSON:
//
//   - string, uuid, enum (and the id): keyword, with no ignore_above, so a value is indexed
//     whole or the write is rejected (Lucene's term limit is 32766 bytes, which is also the
//     portable limit repo.MaxStringBytes, checked before a write reaches the server);
//   - text: text with a keyword subfield "kw" used for exact filters, patterns and sorting;
//     a searchable field's analysed terms are a text field _rk.s.<field> (see SearchPath);
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
		fields[i] = FieldSpec{JSON: desc.Fields[i].JSON, Kind: desc.Fields[i].Kind, Search: desc.Fields[i].Search}
	}
	return MappingFor(fields)
}

// MappingFor returns the mapping of a record with the given fields (see Mapping); the
// generator uses it to emit the mapping constants.
func MappingFor(fields []FieldSpec) []byte {
	b, _ := json.MarshalIndent(mappingObj(fields), "", "  ")
	return b
}

func mappingObj(fields []FieldSpec) obj {
	props := obj{}
	var us, search obj
	for _, f := range fields {
		props = append(props, kv{f.JSON, fieldMapping(f.Kind)})
		if f.Search != "" && f.Kind == query.KindText {
			search = append(search, kv{f.JSON, searchMapping()})
		}
		if f.Kind == query.KindTime {
			us = append(us, kv{f.JSON, obj{{"type", "long"}}})
		}
	}
	meta := obj{}
	if len(us) > 0 {
		meta = append(meta, kv{"us", obj{{"properties", us}}})
	}
	if len(search) > 0 {
		meta = append(meta, kv{SearchMeta, obj{{"properties", search}}})
	}
	meta = append(meta, kv{"has", obj{{"type", "keyword"}}})
	meta = append(meta, kv{WriteToken, writeTokenMapping()})
	props = append(props, kv{MetaField, obj{{"properties", meta}}})
	return obj{{"dynamic", "strict"}, {"properties", props}}
}

// writeTokenMapping is the mapping of MetaField.WriteToken: stored in _source only.
func writeTokenMapping() obj {
	return obj{{"type", "keyword"}, {"index", false}, {"doc_values", false}}
}

// AddedMeta returns the mapping members of MetaField added after indices were first created
// with it, as a mapping update (JSON) that adds them to such an index: an older index lacks
// them, and a write carrying them would be refused by its dynamic: strict.
func AddedMeta() []byte {
	b, _ := json.Marshal(obj{{"properties", obj{{MetaField, obj{{"properties", obj{{WriteToken, writeTokenMapping()}}}}}}}})
	return b
}

// SplitAdded splits the differences of Diff into added, the members of MetaField missing in
// an index created before they were (see AddedMeta; no drift: opening the index adds them),
// and rest, every other difference.
func SplitAdded(diffs []Difference) (added, rest []Difference) {
	for _, d := range diffs {
		if d.Path == MetaField+"."+WriteToken && d.Live == "" {
			added = append(added, d)
			continue
		}
		rest = append(rest, d)
	}
	return added, rest
}

// fieldMapping returns the mapping of one field of kind k (see Mapping).
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
