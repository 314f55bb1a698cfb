package drivertest

import (
	"slices"

	"github.com/repokit/repokit/runtime/record"
)

// WithoutUnique returns a copy of desc in which no field is unique: the same records as a
// schema without unique fields describes them. A backend's own tests write records with it
// that no unique check sees (as a writer would before the field became unique), and its
// benchmarks measure what unique fields cost against it.
func WithoutUnique[T any](desc *record.Desc[T]) *record.Desc[T] {
	return withFields(desc, func(f *record.Field[T]) { f.Unique = false })
}

// WithoutSearch returns a copy of desc in which no field is searchable: the descriptor of
// code from before a migration made text fields searchable.
func WithoutSearch[T any](desc *record.Desc[T]) *record.Desc[T] {
	return withFields(desc, func(f *record.Field[T]) { f.Search = "" })
}

// withFields returns a copy of desc with change applied to each of its fields.
func withFields[T any](desc *record.Desc[T], change func(*record.Field[T])) *record.Desc[T] {
	d := *desc
	d.Fields = slices.Clone(desc.Fields)
	for i := range d.Fields {
		change(&d.Fields[i])
	}
	return record.MustNew(&d)
}
