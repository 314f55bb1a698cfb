// Package eval compiles repokit's backend-neutral queries into Go functions over typed
// records: a filter (query.Expr) becomes a predicate func(*T) bool, sort keys become a
// comparator, and a whole query.Spec becomes a Plan that also applies offset, limit and
// projection.
//
// The compiled functions read records through the record.Desc's typed accessors, never
// through reflection or boxed values, and each operator on each kind gets its own closure,
// so evaluating a record allocates nothing. The semantics are exactly those documented in
// package query (two-valued logic, missing values, LIKE, REGEX, byte-order strings, times
// as instants); the in-memory backend and the S3 backend both evaluate queries here.
//
// Compile functions validate what they are given (unknown fields, operators that do not
// apply to a field's kind, operands of the wrong type) and report problems as errors
// wrapping query.ErrBadQuery; they never panic on a malformed expression.
package eval
