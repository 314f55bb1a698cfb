// Package recordtest builds record descriptors for test records by reflection, so that
// tests need not write out the accessor closures that the generator writes for generated
// records (see runtime/backends/drivertest/things).
//
// New[T] reads the exported fields of the struct T in order (promoted fields of embedded
// structs included). The first one is the id; a string field named RecordVersion, or one
// tagged `record:",version"`, holds the version token; every other field is a schema field
// unless it is tagged `record:"-"` or `json:"-"`. A field's `record` tag is
//
//	record:"name,word,word,..."
//
// where name is the schema name (default: the field's encoding/json name, else its Go name
// in snake_case) and each word is one of
//
//   - a kind: string, text, uuid, enum, int, float, bool, time, bytes, json (default: from
//     the Go type: string types are string, int64 int, float64 float, bool bool, time.Time
//     time, []byte bytes, json.RawMessage json; a slice of any of the scalar ones is a list);
//   - optional or required (default: pointers and slices are optional, other fields
//     required; a required scalar cannot be a pointer nor an optional one a value). As in
//     generated code, a list, bytes or json field is Optional in the descriptor even when
//     required (it is missing when empty); Prepare refuses a required one empty;
//   - unique, indexed, version;
//   - enum=a|b|c (the values of an enum; implies the kind enum), search=language (a
//     searchable text field; implies the kind text), json=key and column=name (default: the
//     schema name), default=value (applied by Prepare to a missing optional scalar).
//
// The descriptor's functions do what generated ones do: Clone copies deeply, Project copies
// the id and the listed fields without sharing memory, Addr returns a pointer to the struct
// field, and Prepare applies defaults, normalizes times to UTC at microsecond precision,
// checks strings (UTF-8 without NUL), UUIDs, enum members, finite floats and JSON, and
// applies the round-trip rule (−0 as +0, empty lists and bytes as nil, JSON compacted),
// returning a *record.FieldError. Options change the names, the id generation and Prepare.
package recordtest
