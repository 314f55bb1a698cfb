package recordtest

import (
	"errors"
	"math"
	"reflect"
	"time"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// prepareFunc returns the Prepare that generated code has for the record: the id checked,
// then each field in order: its default applied, times normalized, a required list, bytes or
// JSON value checked for emptiness, every value checked, and the round-trip rule applied
// (unless roundTrip is false: see NoRoundTrip).
// It never writes through a pointer or into a slice it received. Its errors are
// *record.FieldError values naming the record and the field.
func prepareFunc[T any](name string, fields []spec, roundTrip bool) func(*T) error {
	return func(r *T) error {
		for i := range fields {
			s := &fields[i]
			if err := prepareField(at(r, s.index), s, i == 0, roundTrip); err != nil {
				return &record.FieldError{Record: name, Field: s.name, Err: err}
			}
		}
		return nil
	}
}

var (
	errEmpty       = errors.New("required value is empty")
	errInvalidJSON = errors.New("invalid JSON")
)

func prepareField(f reflect.Value, s *spec, id, rt bool) error {
	if id {
		return checkValue(s, f)
	}
	if s.ptr && s.def.IsValid() && f.IsNil() {
		p := reflect.New(s.elem)
		p.Elem().Set(s.def)
		f.Set(p)
	}
	if s.kind == query.KindTime {
		switch {
		case s.list:
			f.Set(reflect.ValueOf(record.NormalizeTimes(f.Interface().([]time.Time))))
		case s.ptr:
			if !f.IsNil() {
				t := record.NormalizeTime(f.Elem().Interface().(time.Time))
				f.Set(reflect.ValueOf(&t))
			}
		default:
			f.Set(reflect.ValueOf(record.NormalizeTime(f.Interface().(time.Time))))
		}
	}
	if s.required && f.Len() == 0 {
		return errEmpty
	}
	switch {
	case s.kind == query.KindJSON:
		if f.Len() > 0 && !record.ValidJSON(f.Bytes()) {
			return errInvalidJSON
		}
	case s.list:
		for i := range f.Len() {
			if err := checkValue(s, f.Index(i)); err != nil {
				return err
			}
		}
	case s.ptr:
		if !f.IsNil() {
			if err := checkValue(s, f.Elem()); err != nil {
				return err
			}
		}
	default:
		if err := checkValue(s, f); err != nil {
			return err
		}
	}
	if rt {
		roundTrip(f, s)
	}
	return nil
}

// checkValue checks one value of the field s as generated code does.
func checkValue(s *spec, v reflect.Value) error {
	switch s.kind {
	case query.KindString, query.KindText:
		return record.CheckString(v.String())
	case query.KindUUID:
		return record.CheckUUID(v.String())
	case query.KindEnum:
		return record.CheckEnum(v.String(), s.enum)
	case query.KindFloat:
		return record.CheckFloat(v.Float())
	}
	return nil
}

// roundTrip applies the round-trip rule of docs/semantics.md to the checked field f: JSON
// compacted, an empty list or bytes value nil, −0 as +0; it copies rather than writes into
// what f points to.
func roundTrip(f reflect.Value, s *spec) {
	switch {
	case s.kind == query.KindJSON:
		f.SetBytes(record.CompactJSON(f.Bytes()))
	case (s.list || s.kind == query.KindBytes) && f.Len() == 0:
		f.Set(reflect.Zero(f.Type()))
	}
	if s.kind != query.KindFloat {
		return
	}
	negZero := func(v reflect.Value) bool { return v.Float() == 0 && math.Signbit(v.Float()) }
	switch {
	case s.list:
		for i := range f.Len() {
			if negZero(f.Index(i)) {
				c := deepCopy(f)
				for j := i; j < c.Len(); j++ {
					c.Index(j).SetFloat(record.NormalizeFloat(c.Index(j).Float()))
				}
				f.Set(c)
				return
			}
		}
	case s.ptr:
		if !f.IsNil() && negZero(f.Elem()) {
			f.Set(reflect.New(s.elem))
		}
	default:
		f.SetFloat(record.NormalizeFloat(f.Float()))
	}
}
