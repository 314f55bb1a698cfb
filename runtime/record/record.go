// Package record describes generated record types to the runtime: their fields, names per
// backend and typed accessors. Generated packages build one Desc per record; backends and
// the query evaluator use it instead of reflection.
package record

import (
	"errors"
	"fmt"
	"time"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/textsearch"
)

// Desc describes record type T. Build it with New; it is immutable afterwards and safe for
// concurrent use.
type Desc[T any] struct {
	Name   string // record name as written in the schema, e.g. "Product"
	Table  string // PostgreSQL table name
	Index  string // Elasticsearch index name
	Prefix string // S3 key prefix (without a trailing slash)

	// Fields lists every field in schema order. Fields[0] is the id field.
	Fields []Field[T]

	// IDGenerated tells whether Create assigns a new UUID (version 7) when the id is empty.
	IDGenerated bool

	GetID      func(*T) string                 // returns the id
	SetID      func(*T, string)                // sets the id
	GetVersion func(*T) string                 // returns the opaque version token (RecordVersion)
	SetVersion func(*T, string)                // sets the version token
	Clone      func(*T) T                      // deep copy: shares no pointer, slice or map with *T
	Prepare    func(*T) error                  // validates for writing and normalizes in place (see below)
	Project    func(dst, src *T, fields []int) // copies the listed fields (indexes into Fields) from src; the id is always copied
	Addr       func(r *T, field int) any       // pointer to the struct field Fields[field] (e.g. *string, **int64, *[]string), for decoders and row scanners

	byName map[string]int
}

// Prepare, in generated code, applies schema defaults to missing optional fields, converts
// times to UTC at microsecond precision and checks every value: enum members, finite
// floats, UTF-8 strings without NUL, well-formed UUIDs. Its error is a *FieldError.

// Field describes one field of T. Exactly one accessor, the one matching Kind and List, is set.
type Field[T any] struct {
	Name     string     // schema name; the name used in queries
	GoName   string     // Go struct field name
	Kind     query.Kind // value kind (element kind for lists)
	List     bool       // a list of Kind values
	Optional bool       // may be missing
	Unique   bool       // unique across records
	Indexed  bool       // has a secondary index where the backend supports one
	Column   string     // PostgreSQL column name
	JSON     string     // JSON key (Elasticsearch, S3)
	Enum     []string   // allowed values, for KindEnum
	Search   string     // full-text language of a searchable text field ("english", "simple"; see package textsearch); "" if not searchable

	Str   func(*T) (string, bool)    // string, text, uuid, enum
	Int   func(*T) (int64, bool)     // int
	Float func(*T) (float64, bool)   // float
	Bool  func(*T) (bool, bool)      // bool
	Time  func(*T) (time.Time, bool) // time
	Bytes func(*T) ([]byte, bool)    // bytes, json (raw JSON text)

	Strs   func(*T) []string    // list of string, text, uuid or enum
	Ints   func(*T) []int64     // list of int
	Floats func(*T) []float64   // list of float
	Bools  func(*T) []bool      // list of bool
	Times  func(*T) []time.Time // list of time
}

// New checks d and returns it ready for use. Generated code calls MustNew.
func New[T any](d *Desc[T]) (*Desc[T], error) {
	if d.Name == "" {
		return nil, errors.New("record: descriptor without a name")
	}
	if len(d.Fields) == 0 || !d.Fields[0].Kind.IsString() || d.Fields[0].List || d.Fields[0].Optional {
		return nil, fmt.Errorf("record %s: Fields[0] must be the required string id field", d.Name)
	}
	if d.GetID == nil || d.SetID == nil || d.GetVersion == nil || d.SetVersion == nil || d.Clone == nil || d.Prepare == nil || d.Project == nil || d.Addr == nil {
		return nil, fmt.Errorf("record %s: descriptor is missing a function", d.Name)
	}
	d.byName = make(map[string]int, len(d.Fields))
	for i := range d.Fields {
		f := &d.Fields[i]
		if _, dup := d.byName[f.Name]; dup {
			return nil, fmt.Errorf("record %s: duplicate field %q", d.Name, f.Name)
		}
		if f.Search != "" && (f.Kind != query.KindText || f.List || !textsearch.Valid(f.Search)) {
			return nil, fmt.Errorf("record %s: field %q: search %q needs a text field and a known language", d.Name, f.Name, f.Search)
		}
		if !f.hasAccessor() {
			return nil, fmt.Errorf("record %s: field %q has no accessor for kind %s (list=%v)", d.Name, f.Name, f.Kind, f.List)
		}
		d.byName[f.Name] = i
	}
	return d, nil
}

// MustNew is New that panics on error.
func MustNew[T any](d *Desc[T]) *Desc[T] {
	d, err := New(d)
	if err != nil {
		panic(err)
	}
	return d
}

// ID returns the id field.
func (d *Desc[T]) ID() *Field[T] { return &d.Fields[0] }

// Field returns the index of the named field.
func (d *Desc[T]) Field(name string) (int, bool) {
	i, ok := d.byName[name]
	return i, ok
}

// Lookup returns the named field or a query.ErrBadQuery error naming the record.
func (d *Desc[T]) Lookup(name string) (*Field[T], error) {
	i, ok := d.byName[name]
	if !ok {
		return nil, fmt.Errorf("%w: record %s has no field %q", query.ErrBadQuery, d.Name, name)
	}
	return &d.Fields[i], nil
}

func (f *Field[T]) hasAccessor() bool {
	if f.List {
		switch {
		case f.Kind.IsString():
			return f.Strs != nil
		case f.Kind == query.KindInt:
			return f.Ints != nil
		case f.Kind == query.KindFloat:
			return f.Floats != nil
		case f.Kind == query.KindBool:
			return f.Bools != nil
		case f.Kind == query.KindTime:
			return f.Times != nil
		}
		return false
	}
	switch {
	case f.Kind.IsString():
		return f.Str != nil
	case f.Kind == query.KindInt:
		return f.Int != nil
	case f.Kind == query.KindFloat:
		return f.Float != nil
	case f.Kind == query.KindBool:
		return f.Bool != nil
	case f.Kind == query.KindTime:
		return f.Time != nil
	case f.Kind == query.KindBytes || f.Kind == query.KindJSON:
		return f.Bytes != nil
	}
	return false
}

// Value returns the field's value in r boxed in the query model's operand types (string,
// int64, float64, bool, time.Time, []byte, or a slice of them for lists) and whether it is
// present. It allocates; hot paths use the typed accessors.
func (f *Field[T]) Value(r *T) (any, bool) {
	if f.List {
		var v any
		var n int
		switch {
		case f.Strs != nil:
			x := f.Strs(r)
			v, n = x, len(x)
		case f.Ints != nil:
			x := f.Ints(r)
			v, n = x, len(x)
		case f.Floats != nil:
			x := f.Floats(r)
			v, n = x, len(x)
		case f.Bools != nil:
			x := f.Bools(r)
			v, n = x, len(x)
		case f.Times != nil:
			x := f.Times(r)
			v, n = x, len(x)
		}
		return v, n > 0
	}
	switch {
	case f.Str != nil:
		return box(f.Str(r))
	case f.Int != nil:
		return box(f.Int(r))
	case f.Float != nil:
		return box(f.Float(r))
	case f.Bool != nil:
		return box(f.Bool(r))
	case f.Time != nil:
		return box(f.Time(r))
	case f.Bytes != nil:
		return box(f.Bytes(r))
	}
	return nil, false
}

func box[V any](v V, ok bool) (any, bool) {
	if !ok {
		return nil, false
	}
	return v, true
}

// FieldError reports an invalid value in one field of a record.
type FieldError struct {
	Record string // record name
	Field  string // schema field name
	Err    error  // what is wrong
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s.%s: %v", e.Record, e.Field, e.Err)
}

// Unwrap returns the cause.
func (e *FieldError) Unwrap() error { return e.Err }
