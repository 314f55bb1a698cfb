package migrate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
)

// Schema is the backend-neutral state of a schema set: what a migration leads to. It holds
// exactly what storage depends on (names, types, requiredness, defaults, enum values,
// indexes), not documentation or Go names.
type Schema struct {
	Records []Record `json:"records"`
}

// Record is the stored shape of one record type.
type Record struct {
	Name   string  `json:"name"`   // the record name as written in the schema
	Table  string  `json:"table"`  // PostgreSQL table
	Index  string  `json:"index"`  // Elasticsearch index (the alias name once migrations manage it)
	Prefix string  `json:"prefix"` // S3 key prefix
	ID     ID      `json:"id"`
	Fields []Field `json:"fields"` // in declaration order, without the id

	// RenamedFrom is the record's previous name. Only a desired schema (built from schema
	// files) has it; a migration's recorded state never does.
	RenamedFrom string `json:"-"`
}

// ID is a record's id field.
type ID struct {
	Name      string `json:"name"`
	Type      string `json:"type"` // "string" or "uuid"
	Generated bool   `json:"generated,omitempty"`
}

// Field is one stored field.
type Field struct {
	Name     string `json:"name"`
	Type     string `json:"type"` // the value type; for lists, the element type
	List     bool   `json:"list,omitempty"`
	Required bool   `json:"required,omitempty"`
	// Default is the field's default: a string (string, text, uuid, enum, time as RFC 3339),
	// int64 (int), float64 (float) or bool; nil if none.
	Default any      `json:"default,omitempty"`
	Values  []string `json:"values,omitempty"` // enum values
	Unique  bool     `json:"unique,omitempty"`
	Indexed bool     `json:"indexed,omitempty"`
	Search  string   `json:"search,omitempty"` // full-text language of a searchable text field

	// OldName is the field's name before a rename that code of the previous version may
	// still use: PostgreSQL keeps a column of that name in step with the field's own until a
	// later migration drops it (drop_old_name; see docs/migrations-postgres.md). It is
	// recorded in a migration's state, and kept for as long as the schema still says
	// renamed_from: OldName.
	OldName string `json:"old_name,omitempty"`

	// RenamedFrom is the field's previous name; only in a desired schema.
	RenamedFrom string `json:"-"`
}

// TypeString returns the type as a schema writes it: "int" or "list<int>".
func (f *Field) TypeString() string {
	if f.List {
		return "list<" + f.Type + ">"
	}
	return f.Type
}

// Record returns the record named name, or nil.
func (s *Schema) Record(name string) *Record {
	for i := range s.Records {
		if s.Records[i].Name == name {
			return &s.Records[i]
		}
	}
	return nil
}

// Field returns the field named name, or nil.
func (r *Record) Field(name string) *Field {
	for i := range r.Fields {
		if r.Fields[i].Name == name {
			return &r.Fields[i]
		}
	}
	return nil
}

// Clone returns a deep copy of s.
func (s Schema) Clone() Schema {
	out := Schema{Records: make([]Record, len(s.Records))}
	for i, r := range s.Records {
		r.Fields = slices.Clone(r.Fields)
		for j := range r.Fields {
			r.Fields[j].Values = slices.Clone(r.Fields[j].Values)
		}
		out.Records[i] = r
	}
	return out
}

// Digest returns a short, stable digest of s (hex of the first 12 bytes of the SHA-256 of
// its canonical JSON). A migration records its parent's digest, so that two migrations
// planned from one state on two branches are told apart.
func (s *Schema) Digest() string {
	b, err := json.Marshal(s)
	if err != nil { // only unsupported default types, which normalize rejects
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// normalize converts defaults decoded from JSON (json.Number) to the Go type of their
// field and checks every name, type and default.
func (s *Schema) normalize() error {
	seen := map[string]bool{}
	for i := range s.Records {
		r := &s.Records[i]
		if r.Name == "" || seen[r.Name] {
			return fmt.Errorf("record #%d: empty or duplicate record name %q", i+1, r.Name)
		}
		seen[r.Name] = true
		if r.Table == "" || r.Index == "" || r.Prefix == "" || r.ID.Name == "" || (r.ID.Type != "string" && r.ID.Type != "uuid") {
			return fmt.Errorf("record %s: missing table, index, prefix or id", r.Name)
		}
		names := map[string]bool{r.ID.Name: true}
		for j := range r.Fields {
			f := &r.Fields[j]
			if f.Name == "" || names[f.Name] {
				return fmt.Errorf("record %s: empty or duplicate field name %q", r.Name, f.Name)
			}
			names[f.Name] = true
			if !knownType(f.Type) {
				return fmt.Errorf("record %s, field %s: unknown type %q", r.Name, f.Name, f.Type)
			}
			d, err := normalizeDefault(f.Type, f.Default)
			if err != nil {
				return fmt.Errorf("record %s, field %s: default: %w", r.Name, f.Name, err)
			}
			f.Default = d
		}
		for _, f := range r.Fields {
			if f.OldName != "" && names[f.OldName] {
				return fmt.Errorf("record %s, field %s: old name %q is the name of a field", r.Name, f.Name, f.OldName)
			}
		}
	}
	return nil
}

var types = []string{"string", "text", "uuid", "int", "float", "bool", "time", "bytes", "json", "enum"}

func knownType(t string) bool { return slices.Contains(types, t) }

// normalizeDefault returns v as the Go type defaults of type t have.
func normalizeDefault(t string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t {
	case "int":
		switch x := v.(type) {
		case int64:
			return x, nil
		case json.Number:
			n, err := x.Int64()
			if err != nil {
				return nil, fmt.Errorf("%s is not an int", x)
			}
			return n, nil
		}
	case "float":
		switch x := v.(type) {
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("%v is not finite", x)
			}
			return x, nil
		case int64:
			return float64(x), nil
		case json.Number:
			f, err := x.Float64()
			if err != nil {
				return nil, fmt.Errorf("%s is not a float", x)
			}
			return f, nil
		}
	case "bool":
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case "string", "text", "uuid", "enum", "time":
		if s, ok := v.(string); ok {
			return s, nil
		}
	}
	return nil, fmt.Errorf("a %s field cannot have the default %#v", t, v)
}

// decodeJSON decodes data into v with numbers kept exact (json.Number) and unknown keys
// rejected.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("data after the JSON document")
	}
	return nil
}
