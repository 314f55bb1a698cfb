package recordtest

import "reflect"

// sharesMemory reports whether a value of type t, copied, shares memory with the original.
func sharesMemory(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return true
	case reflect.Array:
		return sharesMemory(t.Elem())
	}
	return false
}

// deepCopy returns a copy of v that shares no pointer, slice or map with it (nil stays nil,
// an empty slice stays an empty slice). Struct values are copied as they are (a time.Time's
// location is shared, as in generated code).
func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return reflect.Zero(v.Type())
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(deepCopy(v.Elem()))
		return p
	case reflect.Slice:
		if v.IsNil() {
			return reflect.Zero(v.Type())
		}
		s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		if !sharesMemory(v.Type().Elem()) {
			reflect.Copy(s, v)
			return s
		}
		for i := range v.Len() {
			s.Index(i).Set(deepCopy(v.Index(i)))
		}
		return s
	case reflect.Map:
		if v.IsNil() {
			return reflect.Zero(v.Type())
		}
		m := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			m.SetMapIndex(it.Key(), deepCopy(it.Value()))
		}
		return m
	case reflect.Array:
		a := reflect.New(v.Type()).Elem()
		for i := range v.Len() {
			a.Index(i).Set(deepCopy(v.Index(i)))
		}
		return a
	}
	return v
}

// cloneFunc returns Clone: a copy of the record with every exported field that holds a
// pointer, slice or map copied deeply (New refuses unexported ones).
func cloneFunc[T any]() func(*T) T {
	var deep [][]int
	for _, sf := range reflect.VisibleFields(reflect.TypeFor[T]()) {
		if sf.IsExported() && !sf.Anonymous && sharesMemory(sf.Type) {
			deep = append(deep, sf.Index)
		}
	}
	return func(r *T) T {
		c := *r
		for _, idx := range deep {
			f := at(&c, idx)
			f.Set(deepCopy(f))
		}
		return c
	}
}
