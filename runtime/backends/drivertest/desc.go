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
	d := *desc
	d.Fields = slices.Clone(desc.Fields)
	for i := range d.Fields {
		d.Fields[i].Unique = false
	}
	return record.MustNew(&d)
}
