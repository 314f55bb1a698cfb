package postgres

import (
	"database/sql"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// newVersion returns a fresh version: a random positive 63-bit number, so that a version
// is never predictable and practically never repeats, also across deletes.
func newVersion() int64 { return rand.Int64N(1<<63-1) + 1 }

// args returns the column values of rec (fields in order, then version).
func (d *Driver[T]) args(rec *T, version int64, dst []any) []any {
	for i := range d.desc.Fields {
		dst = append(dst, fieldValue(&d.desc.Fields[i], rec))
	}
	return append(dst, version)
}

// fieldValue returns the value of f in r for pgx, nil when missing (an empty list or empty
// bytes are missing too).
func fieldValue[T any](f *record.Field[T], r *T) any {
	if f.List {
		switch {
		case f.Strs != nil:
			if v := f.Strs(r); len(v) > 0 {
				return v
			}
		case f.Ints != nil:
			if v := f.Ints(r); len(v) > 0 {
				return v
			}
		case f.Floats != nil:
			if v := f.Floats(r); len(v) > 0 {
				return v
			}
		case f.Bools != nil:
			if v := f.Bools(r); len(v) > 0 {
				return v
			}
		case f.Times != nil:
			if v := f.Times(r); len(v) > 0 {
				return v
			}
		}
		return nil
	}
	switch {
	case f.Str != nil:
		if v, ok := f.Str(r); ok {
			return v
		}
	case f.Int != nil:
		if v, ok := f.Int(r); ok {
			return v
		}
	case f.Float != nil:
		if v, ok := f.Float(r); ok {
			return v
		}
	case f.Bool != nil:
		if v, ok := f.Bool(r); ok {
			return v
		}
	case f.Time != nil:
		if v, ok := f.Time(r); ok {
			return v
		}
	case f.Bytes != nil:
		if v, ok := f.Bytes(r); ok && len(v) > 0 {
			return v
		}
	}
	return nil
}

// scanner holds the scan targets of one row shape.
type scanner[T any] struct {
	desc    *record.Desc[T]
	fields  []int // descriptor indexes of the selected fields (the id first)
	times   []int // the time fields among them
	rec     T
	version int64
	targets []any
}

func newScanner[T any](desc *record.Desc[T], fields []int) *scanner[T] {
	s := &scanner[T]{desc: desc, fields: fields, targets: make([]any, 0, len(fields)+1)}
	for _, i := range fields {
		s.targets = append(s.targets, scanTarget(desc.Addr(&s.rec, i)))
		if desc.Fields[i].Kind == query.KindTime {
			s.times = append(s.times, i)
		}
	}
	s.targets = append(s.targets, &s.version)
	return s
}

var (
	stringType = reflect.TypeFor[string]()
	rawType    = reflect.TypeFor[json.RawMessage]()
	sqlScanner = reflect.TypeFor[sql.Scanner]()
)

// scanTarget returns p, a pointer to a record field, as a pointer of the type pgx scans
// without reflection when the field's type is a named type with the same memory layout: an
// enum's string type (Status, *Status, []Status) as *string, **string or *[]string, and
// json.RawMessage as *[]byte (whose bytes pgx copies as they are, where it would run
// json.Unmarshal, which only checks and copies them). pgx scans such named types through
// reflection, about half of the client's time reading a batch of rows with enum lists. A type
// with its own Scan method (sql.Scanner) is left as it is.
func scanTarget(p any) any {
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return p
	}
	t := v.Type().Elem()
	named := func(e reflect.Type) bool {
		return e.Kind() == reflect.String && e != stringType && !reflect.PointerTo(e).Implements(sqlScanner)
	}
	if reflect.PointerTo(t).Implements(sqlScanner) {
		return p
	}
	up := v.UnsafePointer()
	switch {
	case named(t):
		return (*string)(up)
	case t.Kind() == reflect.Pointer && named(t.Elem()):
		return (**string)(up)
	case t.Kind() == reflect.Slice && named(t.Elem()):
		return (*[]string)(up)
	case t == rawType:
		return (*[]byte)(up)
	}
	return p
}

// scan reads one row into a new record.
func (s *scanner[T]) scan(row pgx.Row) (T, error) {
	var zero T
	s.rec = zero
	if err := row.Scan(s.targets...); err != nil {
		return zero, err
	}
	for _, i := range s.times {
		switch p := s.desc.Addr(&s.rec, i).(type) {
		case *time.Time:
			*p = p.UTC()
		case **time.Time:
			if *p != nil {
				**p = (*p).UTC()
			}
		case *[]time.Time:
			for j := range *p {
				(*p)[j] = (*p)[j].UTC()
			}
		}
	}
	s.desc.SetVersion(&s.rec, strconv.FormatInt(s.version, 10))
	return s.rec, nil
}

func (d *Driver[T]) allFields() []int {
	out := make([]int, len(d.desc.Fields))
	for i := range out {
		out[i] = i
	}
	return out
}

func (d *Driver[T]) writeArgs(rec *T, v int64) []any {
	args := make([]any, 0, len(d.cols)+1)
	return d.args(rec, v, args)
}
