package eval

import (
	"reflect"
	"time"
	"unsafe"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// Reading a field through its accessor closure costs an indirect call per record. When
// the descriptor's Addr shows that a field is stored the standard way (a V for a required
// value, a *V for an optional one, a []V for a list) the compiled closures read it at its
// byte offset instead, which the compiler inlines. The layout is checked with reflection
// once, when a query is compiled; any field that does not match exactly is read through
// its accessor, so the result is the same either way.

// acc reads a single value of type V from a record: through get, or at offset off (as a
// *V when ptr, nil meaning missing).
type acc[T any, V any] struct {
	get func(*T) (V, bool)
	off uintptr
	ptr bool
}

func (a acc[T, V]) load(r *T) (V, bool) {
	if a.get != nil {
		return a.get(r)
	}
	return a.at(r)
}

func unsafePtr[T any](r *T, off uintptr) unsafe.Pointer { return unsafe.Add(unsafe.Pointer(r), off) }

// listAcc reads a list field of element type V.
type listAcc[T any, V any] struct {
	get func(*T) []V
	off uintptr
}

func (a listAcc[T, V]) load(r *T) []V {
	if a.get != nil {
		return a.get(r)
	}
	return *(*[]V)(unsafe.Add(unsafe.Pointer(r), a.off))
}

var timeType = reflect.TypeFor[time.Time]()

// layout returns the byte offset and type of field i of T, using d.Addr on a zero record.
func layout[T any](d *record.Desc[T], i int) (uintptr, reflect.Type, bool) {
	if d.Addr == nil {
		return 0, nil, false
	}
	zero := new(T)
	a := d.Addr(zero, i)
	if a == nil {
		return 0, nil, false
	}
	v := reflect.ValueOf(a)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return 0, nil, false
	}
	base, p := uintptr(unsafe.Pointer(zero)), v.Pointer()
	typ := v.Type().Elem()
	size := unsafe.Sizeof(*zero)
	if p < base || p-base+typ.Size() > size {
		return 0, nil, false
	}
	return p - base, typ, true
}

// matches reports whether typ holds values of kind k the way the evaluator reads them:
// strings (including named string types such as enums), int64, float64, bool, time.Time.
func matches(typ reflect.Type, k query.Kind) bool {
	switch {
	case k.IsString():
		return typ.Kind() == reflect.String
	case k == query.KindInt:
		return typ.Kind() == reflect.Int64
	case k == query.KindFloat:
		return typ.Kind() == reflect.Float64
	case k == query.KindBool:
		return typ.Kind() == reflect.Bool
	case k == query.KindTime:
		return typ == timeType
	case k == query.KindBytes || k == query.KindJSON:
		return typ.Kind() == reflect.Slice && typ.Elem().Kind() == reflect.Uint8
	}
	return false
}

// direct returns the offset of scalar field i and whether it is stored as a pointer, when
// its layout is the standard one for its kind and optionality.
func direct[T any](d *record.Desc[T], i int) (off uintptr, ptr, ok bool) {
	f := &d.Fields[i]
	if f.List {
		return 0, false, false
	}
	off, typ, ok := layout(d, i)
	if !ok {
		return 0, false, false
	}
	if f.Kind == query.KindBytes || f.Kind == query.KindJSON {
		return off, false, matches(typ, f.Kind)
	}
	if !f.Optional {
		return off, false, matches(typ, f.Kind)
	}
	if typ.Kind() == reflect.Pointer && matches(typ.Elem(), f.Kind) {
		return off, true, true
	}
	return 0, false, false
}

// directList returns the offset of list field i when it is a plain slice of its kind.
func directList[T any](d *record.Desc[T], i int) (uintptr, bool) {
	f := &d.Fields[i]
	if !f.List {
		return 0, false
	}
	off, typ, ok := layout(d, i)
	if !ok || typ.Kind() != reflect.Slice || !matches(typ.Elem(), f.Kind) {
		return 0, false
	}
	return off, true
}

func scalarAcc[T any, V any](d *record.Desc[T], i int, get func(*T) (V, bool)) acc[T, V] {
	if off, ptr, ok := direct(d, i); ok {
		return acc[T, V]{off: off, ptr: ptr}
	}
	return acc[T, V]{get: get}
}

func listAccOf[T any, V any](d *record.Desc[T], i int, get func(*T) []V) listAcc[T, V] {
	if off, ok := directList(d, i); ok {
		return listAcc[T, V]{off: off}
	}
	return listAcc[T, V]{get: get}
}

// boolAcc reads a bool field as 0 or 1, so that booleans share the ordered code paths.
func boolAcc[T any](d *record.Desc[T], i int) acc[T, int64] {
	get := d.Fields[i].Bool
	if off, ptr, ok := direct(d, i); ok {
		a := acc[T, bool]{off: off, ptr: ptr}
		return acc[T, int64]{get: func(r *T) (int64, bool) { b, ok := a.load(r); return b2i(b), ok }}
	}
	return acc[T, int64]{get: func(r *T) (int64, bool) { b, ok := get(r); return b2i(b), ok }}
}
