package eval

import "github.com/repokit/repokit/runtime/record"

// The internals the layout tests (access_test.go, package eval_test) check. They live in an
// external test package because the generated records they use (drivertest/things) import
// the backends, and the Elasticsearch backend imports eval.

// DirectLayout reports whether field i of d is read at its offset rather than through its
// accessor.
func DirectLayout[T any](d *record.Desc[T], i int) bool {
	if d.Fields[i].List {
		_, ok := directList(d, i)
		return ok
	}
	_, _, ok := direct(d, i)
	return ok
}

// OffsetStrs reads the string list field i of r as a filter does.
func OffsetStrs[T any](d *record.Desc[T], i int, r *T) []string {
	return listAccOf(d, i, d.Fields[i].Strs).load(r)
}

// OffsetStr reads the string field i of r at its offset, never through its accessor.
func OffsetStr[T any](d *record.Desc[T], i int, r *T) (string, bool) {
	a := scalarAcc(d, i, d.Fields[i].Str)
	a.get = nil
	return a.load(r)
}

// OffsetFloat reads the number field i of r as a filter does.
func OffsetFloat[T any](d *record.Desc[T], i int, r *T) (float64, bool) {
	return scalarAcc(d, i, d.Fields[i].Float).load(r)
}
