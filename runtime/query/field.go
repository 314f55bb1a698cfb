package query

import (
	"errors"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrBadValue is wrapped by errors for operands a backend cannot store or compare
// portably (NaN or infinite floats, invalid UTF-8, NUL characters).
var ErrBadValue = errors.New("query: bad value")

// Field is a typed handle on one field of record type R; Select takes Fields.
type Field[R any] interface {
	// Name returns the field's name in the schema.
	Name() string
}

// Cond is a condition on records of type R. Build it with field handles and combine it with
// And, Or and Not. An invalid operand (a bad LIKE or REGEX pattern, a NaN) is kept in the
// Cond and reported by Query.Err and by every repository call that receives it.
type Cond[R any] struct {
	e   Expr
	err error
}

// Expr returns the untyped filter.
func (c Cond[R]) Expr() Expr { return c.e }

// Err returns the first error met while building the condition.
func (c Cond[R]) Err() error { return c.err }

// String renders the condition.
func (c Cond[R]) String() string { return c.e.String() }

// And is true when every condition is true; And() is true for every record.
func And[R any](conds ...Cond[R]) Cond[R] {
	es, err := exprs(conds)
	return Cond[R]{e: AndExpr(es...), err: err}
}

// Or is true when some condition is true; Or() is true for no record.
func Or[R any](conds ...Cond[R]) Cond[R] {
	es, err := exprs(conds)
	return Cond[R]{e: OrExpr(es...), err: err}
}

// Not is true exactly when c is false.
func Not[R any](c Cond[R]) Cond[R] { return Cond[R]{e: NotExpr(c.e), err: c.err} }

func exprs[R any](conds []Cond[R]) ([]Expr, error) {
	es := make([]Expr, len(conds))
	var err error
	for i, c := range conds {
		es[i] = c.e
		if err == nil {
			err = c.err
		}
	}
	return es, err
}

// Sort is a sort key on a field of record type R.
type Sort[R any] struct{ key SortKey }

// Key returns the untyped sort key.
func (s Sort[R]) Key() SortKey { return s.key }

// valueField holds what every comparable field handle has.
type valueField[R any, V any] struct {
	name string
	norm func(V) (any, error)
}

// Name returns the field's name in the schema.
func (f valueField[R, V]) Name() string { return f.name }

func (f valueField[R, V]) cond(op Op, vs ...V) Cond[R] {
	args := make([]any, len(vs))
	for i, v := range vs {
		a, err := f.norm(v)
		if err != nil {
			return Cond[R]{e: Expr{Op: op, Field: f.name}, err: fieldErr(f.name, op, err)}
		}
		args[i] = a
	}
	return Cond[R]{e: Expr{Op: op, Field: f.name, Args: args}}
}

// EQ is true when the field is present and equal to v.
func (f valueField[R, V]) EQ(v V) Cond[R] { return f.cond(OpEQ, v) }

// NEQ is NOT EQ: true when the field is missing or differs from v.
func (f valueField[R, V]) NEQ(v V) Cond[R] { return f.cond(OpNEQ, v) }

// IN is true when the field is present and equal to one of vs; IN() matches nothing.
func (f valueField[R, V]) IN(vs ...V) Cond[R] { return f.cond(OpIN, vs...) }

// NotIn is NOT IN: true when the field is missing or equal to none of vs.
func (f valueField[R, V]) NotIn(vs ...V) Cond[R] { return f.cond(OpNotIn, vs...) }

// Exists is true when the field has a value.
func (f valueField[R, V]) Exists() Cond[R] { return Cond[R]{e: Expr{Op: OpExists, Field: f.name}} }

// NotExists is true when the field has no value.
func (f valueField[R, V]) NotExists() Cond[R] {
	return Cond[R]{e: Expr{Op: OpNotExists, Field: f.name}}
}

// Asc sorts by the field, smallest first; missing values last.
func (f valueField[R, V]) Asc() Sort[R] { return Sort[R]{key: SortKey{Field: f.name}} }

// Desc sorts by the field, largest first; missing values last.
func (f valueField[R, V]) Desc() Sort[R] { return Sort[R]{key: SortKey{Field: f.name, Desc: true}} }

// orderedField adds range comparisons to valueField.
type orderedField[R any, V any] struct{ valueField[R, V] }

// GT is true when the field is present and greater than v.
func (f orderedField[R, V]) GT(v V) Cond[R] { return f.cond(OpGT, v) }

// GTE is true when the field is present and greater than or equal to v.
func (f orderedField[R, V]) GTE(v V) Cond[R] { return f.cond(OpGTE, v) }

// LT is true when the field is present and less than v.
func (f orderedField[R, V]) LT(v V) Cond[R] { return f.cond(OpLT, v) }

// LTE is true when the field is present and less than or equal to v.
func (f orderedField[R, V]) LTE(v V) Cond[R] { return f.cond(OpLTE, v) }

// Between is true when the field is present and lo <= value <= hi.
func (f orderedField[R, V]) Between(lo, hi V) Cond[R] { return f.cond(OpBetween, lo, hi) }

// NotBetween is NOT Between: true when the field is missing or outside [lo, hi].
func (f orderedField[R, V]) NotBetween(lo, hi V) Cond[R] { return f.cond(OpNotBetween, lo, hi) }

// StringField is a handle on a string, text or uuid field.
type StringField[R any] struct{ orderedField[R, string] }

// NewStringField returns the handle for the named field; generated code calls it.
func NewStringField[R any](name string) StringField[R] {
	return StringField[R]{orderedField[R, string]{valueField[R, string]{name, normString}}}
}

// Like is true when the field is present and matches the LIKE pattern (see the package
// documentation).
func (f StringField[R]) Like(pattern string) Cond[R] { return f.like(OpLike, pattern) }

// NotLike is NOT Like.
func (f StringField[R]) NotLike(pattern string) Cond[R] { return f.like(OpNotLike, pattern) }

func (f StringField[R]) like(op Op, pattern string) Cond[R] {
	l, err := ParseLike(pattern)
	if err != nil {
		return Cond[R]{e: Expr{Op: op, Field: f.name}, err: fieldErr(f.name, op, err)}
	}
	return Cond[R]{e: Expr{Op: op, Field: f.name, Args: []any{l}}}
}

// StartsWith is true when the field is present and starts with prefix (taken literally).
func (f StringField[R]) StartsWith(prefix string) Cond[R] {
	if _, err := normString(prefix); err != nil {
		return Cond[R]{e: Expr{Op: OpStartsWith, Field: f.name}, err: fieldErr(f.name, OpStartsWith, err)}
	}
	return Cond[R]{e: Expr{Op: OpStartsWith, Field: f.name, Args: []any{prefix}}}
}

// Regex is true when the whole field value matches pattern, in the portable subset
// described at CompileRegex. A pattern outside it makes the condition invalid.
func (f StringField[R]) Regex(pattern string) Cond[R] {
	re, err := CompileRegex(pattern)
	if err != nil {
		return Cond[R]{e: Expr{Op: OpRegex, Field: f.name}, err: fieldErr(f.name, OpRegex, err)}
	}
	return f.Matches(re)
}

// Matches is Regex with a pattern compiled in advance by CompileRegex.
func (f StringField[R]) Matches(re *Regex) Cond[R] {
	return Cond[R]{e: Expr{Op: OpRegex, Field: f.name, Args: []any{re}}}
}

// IntField is a handle on an int (int64) field.
type IntField[R any] struct{ orderedField[R, int64] }

// NewIntField returns the handle for the named field; generated code calls it.
func NewIntField[R any](name string) IntField[R] {
	return IntField[R]{orderedField[R, int64]{valueField[R, int64]{name, normInt}}}
}

// FloatField is a handle on a float (float64) field.
type FloatField[R any] struct{ orderedField[R, float64] }

// NewFloatField returns the handle for the named field; generated code calls it.
func NewFloatField[R any](name string) FloatField[R] {
	return FloatField[R]{orderedField[R, float64]{valueField[R, float64]{name, normFloat}}}
}

// TimeField is a handle on a time field. Operands are converted to UTC and truncated to
// microseconds, the precision repokit stores.
type TimeField[R any] struct{ orderedField[R, time.Time] }

// NewTimeField returns the handle for the named field; generated code calls it.
func NewTimeField[R any](name string) TimeField[R] {
	return TimeField[R]{orderedField[R, time.Time]{valueField[R, time.Time]{name, normTime}}}
}

// BoolField is a handle on a bool field.
type BoolField[R any] struct{ valueField[R, bool] }

// NewBoolField returns the handle for the named field; generated code calls it.
func NewBoolField[R any](name string) BoolField[R] {
	return BoolField[R]{valueField[R, bool]{name, normBool}}
}

// EnumField is a handle on an enum field whose generated Go type is E.
type EnumField[R any, E ~string] struct{ valueField[R, E] }

// NewEnumField returns the handle for the named field; generated code calls it.
func NewEnumField[R any, E ~string](name string) EnumField[R, E] {
	return EnumField[R, E]{valueField[R, E]{name, normEnum[E]}}
}

// PresenceField is a handle on a bytes or json field, which can only be tested for presence.
type PresenceField[R any] struct{ name string }

// NewPresenceField returns the handle for the named field; generated code calls it.
func NewPresenceField[R any](name string) PresenceField[R] { return PresenceField[R]{name} }

// Name returns the field's name in the schema.
func (f PresenceField[R]) Name() string { return f.name }

// Exists is true when the field has a value.
func (f PresenceField[R]) Exists() Cond[R] { return Cond[R]{e: Expr{Op: OpExists, Field: f.name}} }

// NotExists is true when the field has no value.
func (f PresenceField[R]) NotExists() Cond[R] {
	return Cond[R]{e: Expr{Op: OpNotExists, Field: f.name}}
}

// ListField is a handle on a list field with elements of type E.
type ListField[R any, E any] struct{ v valueField[R, E] }

func newList[R any, E any](name string, norm func(E) (any, error)) ListField[R, E] {
	return ListField[R, E]{valueField[R, E]{name, norm}}
}

// NewStringListField returns the handle for a list of strings; generated code calls it.
func NewStringListField[R any](name string) ListField[R, string] {
	return newList[R](name, normString)
}

// NewIntListField returns the handle for a list of ints.
func NewIntListField[R any](name string) ListField[R, int64] { return newList[R](name, normInt) }

// NewFloatListField returns the handle for a list of floats.
func NewFloatListField[R any](name string) ListField[R, float64] {
	return newList[R](name, normFloat)
}

// NewBoolListField returns the handle for a list of bools.
func NewBoolListField[R any](name string) ListField[R, bool] { return newList[R](name, normBool) }

// NewTimeListField returns the handle for a list of times.
func NewTimeListField[R any](name string) ListField[R, time.Time] {
	return newList[R](name, normTime)
}

// NewEnumListField returns the handle for a list of enum values of type E.
func NewEnumListField[R any, E ~string](name string) ListField[R, E] {
	return newList[R](name, normEnum[E])
}

// Name returns the field's name in the schema.
func (f ListField[R, E]) Name() string { return f.v.name }

// Contains is true when some element equals v.
func (f ListField[R, E]) Contains(v E) Cond[R] { return f.v.EQ(v) }

// NotContains is NOT Contains: true when no element equals v (also for an empty list).
func (f ListField[R, E]) NotContains(v E) Cond[R] { return f.v.NEQ(v) }

// ContainsAny is true when some element is one of vs; ContainsAny() matches nothing.
func (f ListField[R, E]) ContainsAny(vs ...E) Cond[R] { return f.v.IN(vs...) }

// ContainsNone is NOT ContainsAny.
func (f ListField[R, E]) ContainsNone(vs ...E) Cond[R] { return f.v.NotIn(vs...) }

// Exists is true when the list has at least one element.
func (f ListField[R, E]) Exists() Cond[R] { return f.v.Exists() }

// NotExists is true when the list is empty or missing.
func (f ListField[R, E]) NotExists() Cond[R] { return f.v.NotExists() }

func fieldErr(field string, op Op, err error) error {
	return &FieldError{Field: field, Op: op, Err: err}
}

// FieldError is a bad operand in a condition on one field.
type FieldError struct {
	Field string
	Op    Op
	Err   error
}

func (e *FieldError) Error() string {
	return "query: field " + e.Field + " " + e.Op.String() + ": " + trimPrefix(e.Err.Error())
}

// Unwrap returns the cause (wrapping ErrBadPattern or ErrBadValue).
func (e *FieldError) Unwrap() error { return e.Err }

func trimPrefix(s string) string {
	const p = "query: "
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

func normString(s string) (any, error) {
	if err := CheckString(s); err != nil {
		return nil, err
	}
	return s, nil
}

func normEnum[E ~string](v E) (any, error) { return normString(string(v)) }

func normInt(v int64) (any, error) { return v, nil }

func normBool(v bool) (any, error) { return v, nil }

func normFloat(v float64) (any, error) {
	if err := CheckFloat(v); err != nil {
		return nil, err
	}
	return v, nil
}

func normTime(t time.Time) (any, error) { return NormalizeTime(t), nil }

// NormalizeTime converts t to UTC at microsecond precision, the form repokit stores and
// compares on every backend.
func NormalizeTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// CheckString reports an error for a string no backend can store unchanged: invalid UTF-8
// or a NUL character (PostgreSQL text cannot hold NUL).
func CheckString(s string) error {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return errorf(ErrBadValue, "string contains a NUL character at byte %d", i)
	}
	if !utf8.ValidString(s) {
		return errorf(ErrBadValue, "string is not valid UTF-8")
	}
	return nil
}

// CheckFloat reports an error for NaN and infinities, which JSON cannot carry and
// backends order differently.
func CheckFloat(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return errorf(ErrBadValue, "float %v is not a finite number", v)
	}
	return nil
}
