package repo

import "iter"

// ErrorSeq returns a sequence that yields err once: what a Driver's Query returns when it
// cannot run the spec (a filter it cannot compile is ErrInvalidInput).
func ErrorSeq[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, err)
	}
}
