package recordtest

import (
	"fmt"
	"reflect"
	"time"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// New returns the descriptor of the struct type T under the record name name (see the
// package documentation for the tags), checked by record.New. Its errors wrap ErrBadStruct
// or are record.New's.
func New[T any](name string, opts ...Option) (*record.Desc[T], error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	l, err := readStruct(reflect.TypeFor[T](), &c)
	if err != nil {
		return nil, err
	}
	def := snake(name)
	d := &record.Desc[T]{
		Name: name, Table: def, Index: def, Prefix: def,
		IDGenerated: c.idGenerated,
	}
	if c.tableSet {
		d.Table = c.table
	}
	if c.indexSet {
		d.Index = c.index
	}
	if c.prefixSet {
		d.Prefix = c.prefix
	}
	for i := range l.fields {
		d.Fields = append(d.Fields, field[T](&l.fields[i]))
	}
	id, ver := l.fields[0].index, l.version
	d.GetID = func(r *T) string { return at(r, id).String() }
	d.SetID = func(r *T, v string) { at(r, id).SetString(v) }
	d.GetVersion = func(r *T) string { return at(r, ver).String() }
	d.SetVersion = func(r *T, v string) { at(r, ver).SetString(v) }
	d.Clone = cloneFunc[T]()
	d.Project = projectFunc[T](l.fields)
	d.Addr = addrFunc[T](l.fields)
	switch {
	case c.noPrepare:
		d.Prepare = func(*T) error { return nil }
	case c.prepare != nil:
		p, ok := c.prepare.(func(*T) error)
		if !ok {
			return nil, badf("Prepare option of type %T for a record of type %s", c.prepare, reflect.TypeFor[T]())
		}
		d.Prepare = p
	default:
		d.Prepare = prepareFunc[T](name, l.fields, !c.noRoundTrip)
	}
	return record.New(d)
}

// MustNew is New that panics on error, for package-level descriptors.
func MustNew[T any](name string, opts ...Option) *record.Desc[T] {
	d, err := New[T](name, opts...)
	if err != nil {
		panic(err)
	}
	return d
}

// at returns the (settable) struct field of *r at the index path idx.
func at[T any](r *T, idx []int) reflect.Value {
	return reflect.ValueOf(r).Elem().FieldByIndex(idx)
}

// field returns the record.Field of s with its one accessor.
func field[T any](s *spec) record.Field[T] {
	f := record.Field[T]{
		Name: s.name, GoName: s.goName, Kind: s.kind, List: s.list, Optional: s.optional,
		Unique: s.unique, Indexed: s.indexed, Column: s.column, JSON: s.json, Enum: s.enum, Search: s.search,
	}
	idx := s.index
	if s.list {
		setListAccessor(&f, s)
		return f
	}
	// scalar returns the value of a scalar field and whether it is present.
	scalar := func(r *T) (reflect.Value, bool) {
		v := at(r, idx)
		if s.ptr {
			if v.IsNil() {
				return v, false
			}
			return v.Elem(), true
		}
		return v, true
	}
	switch s.kind {
	case query.KindString, query.KindText, query.KindUUID, query.KindEnum:
		f.Str = func(r *T) (string, bool) {
			if v, ok := scalar(r); ok {
				return v.String(), true
			}
			return "", false
		}
	case query.KindInt:
		f.Int = func(r *T) (int64, bool) {
			if v, ok := scalar(r); ok {
				return v.Int(), true
			}
			return 0, false
		}
	case query.KindFloat:
		f.Float = func(r *T) (float64, bool) {
			if v, ok := scalar(r); ok {
				return v.Float(), true
			}
			return 0, false
		}
	case query.KindBool:
		f.Bool = func(r *T) (bool, bool) {
			if v, ok := scalar(r); ok {
				return v.Bool(), true
			}
			return false, false
		}
	case query.KindTime:
		f.Time = func(r *T) (time.Time, bool) {
			if v, ok := scalar(r); ok {
				return v.Interface().(time.Time), true
			}
			return time.Time{}, false
		}
	case query.KindBytes, query.KindJSON:
		f.Bytes = func(r *T) ([]byte, bool) {
			b := at(r, idx).Bytes()
			return b, len(b) > 0
		}
	}
	return f
}

// setListAccessor sets the list accessor of f: the slice itself when its type is the
// accessor's, else (a slice of a named type) a converted copy, nil when empty, as
// generated code does.
func setListAccessor[T any](f *record.Field[T], s *spec) {
	idx := s.index
	switch s.kind {
	case query.KindString, query.KindText, query.KindUUID, query.KindEnum:
		f.Strs = listOf[T, string](idx, s.typ, reflect.Value.String)
	case query.KindInt:
		f.Ints = listOf[T, int64](idx, s.typ, reflect.Value.Int)
	case query.KindFloat:
		f.Floats = listOf[T, float64](idx, s.typ, reflect.Value.Float)
	case query.KindBool:
		f.Bools = listOf[T, bool](idx, s.typ, reflect.Value.Bool)
	case query.KindTime:
		f.Times = listOf[T, time.Time](idx, s.typ, func(v reflect.Value) time.Time { return v.Interface().(time.Time) })
	}
}

func listOf[T, E any](idx []int, typ reflect.Type, conv func(reflect.Value) E) func(*T) []E {
	if typ == reflect.TypeFor[[]E]() {
		return func(r *T) []E { return at(r, idx).Interface().([]E) }
	}
	return func(r *T) []E {
		v := at(r, idx)
		if v.Len() == 0 {
			return nil
		}
		out := make([]E, v.Len())
		for i := range out {
			out[i] = conv(v.Index(i))
		}
		return out
	}
}

// projectFunc returns Project: the id and the listed fields copied, sharing no memory.
func projectFunc[T any](fields []spec) func(dst, src *T, idx []int) {
	return func(dst, src *T, idx []int) {
		id := fields[0].index
		at(dst, id).Set(at(src, id))
		for _, i := range idx {
			if i <= 0 || i >= len(fields) {
				continue
			}
			at(dst, fields[i].index).Set(deepCopy(at(src, fields[i].index)))
		}
	}
}

// addrFunc returns Addr: a pointer to the struct field of a descriptor index, or nil.
func addrFunc[T any](fields []spec) func(r *T, i int) any {
	return func(r *T, i int) any {
		if i < 0 || i >= len(fields) {
			return nil
		}
		return at(r, fields[i].index).Addr().Interface()
	}
}

// String describes a descriptor's fields, one line each, for test failure messages.
func String[T any](d *record.Desc[T]) string {
	out := fmt.Sprintf("%s (table %q, index %q, prefix %q, id generated %v)\n", d.Name, d.Table, d.Index, d.Prefix, d.IDGenerated)
	for _, f := range d.Fields {
		out += fmt.Sprintf("  %s %s list=%v optional=%v unique=%v indexed=%v column=%q json=%q enum=%q search=%q\n",
			f.Name, f.Kind, f.List, f.Optional, f.Unique, f.Indexed, f.Column, f.JSON, f.Enum, f.Search)
	}
	return out
}
