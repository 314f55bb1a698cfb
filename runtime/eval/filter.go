package eval

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// Pred is a compiled filter: it reports whether a record matches. It is safe for
// concurrent use and never modifies the record.
type Pred[T any] func(*T) bool

// Compile compiles filter e for records described by d. The result follows the semantics
// documented in package query. Errors wrap query.ErrBadQuery (unknown field, operator not
// applicable to the field, wrong operand count or type) or query.ErrBadValue (a NaN or
// infinite float operand).
func Compile[T any](d *record.Desc[T], e query.Expr) (Pred[T], error) {
	c := compiler[T]{d: d}
	return c.expr(e)
}

type compiler[T any] struct {
	d *record.Desc[T]
}

func always[T any](*T) bool { return true }
func never[T any](*T) bool  { return false }

func (c *compiler[T]) expr(e query.Expr) (Pred[T], error) {
	switch e.Op {
	case query.OpAll:
		return always[T], nil
	case query.OpAnd, query.OpOr:
		ps := make([]Pred[T], 0, len(e.Sub))
		for _, s := range e.Sub {
			p, err := c.expr(s)
			if err != nil {
				return nil, err
			}
			ps = append(ps, p)
		}
		if e.Op == query.OpAnd {
			return and(ps), nil
		}
		return or(ps), nil
	case query.OpNot:
		if len(e.Sub) != 1 {
			return nil, fmt.Errorf("%w: NOT takes exactly one condition, got %d", query.ErrBadQuery, len(e.Sub))
		}
		p, err := c.expr(e.Sub[0])
		if err != nil {
			return nil, err
		}
		return func(r *T) bool { return !p(r) }, nil
	case query.OpInvalid:
		return nil, fmt.Errorf("%w: invalid operator", query.ErrBadQuery)
	}
	if len(e.Sub) != 0 {
		return nil, fmt.Errorf("%w: %s on field %s has sub-conditions", query.ErrBadQuery, e.Op, e.Field)
	}
	i, ok := c.d.Field(e.Field)
	if !ok {
		_, err := c.d.Lookup(e.Field)
		return nil, err
	}
	return atom(c.d, i, e)
}

func and[T any](ps []Pred[T]) Pred[T] {
	switch len(ps) {
	case 0:
		return always[T]
	case 1:
		return ps[0]
	case 2:
		a, b := ps[0], ps[1]
		return func(r *T) bool { return a(r) && b(r) }
	case 3:
		a, b, c := ps[0], ps[1], ps[2]
		return func(r *T) bool { return a(r) && b(r) && c(r) }
	}
	return func(r *T) bool {
		for _, p := range ps {
			if !p(r) {
				return false
			}
		}
		return true
	}
}

func or[T any](ps []Pred[T]) Pred[T] {
	switch len(ps) {
	case 0:
		return never[T]
	case 1:
		return ps[0]
	case 2:
		a, b := ps[0], ps[1]
		return func(r *T) bool { return a(r) || b(r) }
	}
	return func(r *T) bool {
		for _, p := range ps {
			if p(r) {
				return true
			}
		}
		return false
	}
}

// kindName names a field's kind for error messages, e.g. "list<string>".
func kindName[T any](f *record.Field[T]) string {
	if f.List {
		return "list<" + f.Kind.String() + ">"
	}
	return f.Kind.String()
}

func badAtom[T any](f *record.Field[T], e query.Expr, why string) error {
	return fmt.Errorf("%w: %s on %s field %s: %s", query.ErrBadQuery, e.Op, kindName(f), f.Name, why)
}

// arity returns the number of operands op takes, or -1 for any number (IN, NOT_IN).
func arity(op query.Op) int {
	switch op {
	case query.OpExists, query.OpNotExists:
		return 0
	case query.OpBetween, query.OpNotBetween:
		return 2
	case query.OpIN, query.OpNotIn:
		return -1
	}
	return 1
}

func isRange(op query.Op) bool {
	switch op {
	case query.OpGT, query.OpGTE, query.OpLT, query.OpLTE, query.OpBetween, query.OpNotBetween:
		return true
	}
	return false
}

func isPattern(op query.Op) bool {
	switch op {
	case query.OpLike, query.OpNotLike, query.OpRegex, query.OpStartsWith:
		return true
	}
	return false
}

func known(op query.Op) bool {
	switch op {
	case query.OpEQ, query.OpNEQ, query.OpGT, query.OpGTE, query.OpLT, query.OpLTE,
		query.OpIN, query.OpNotIn, query.OpLike, query.OpNotLike, query.OpRegex,
		query.OpStartsWith, query.OpExists, query.OpNotExists, query.OpBetween, query.OpNotBetween:
		return true
	}
	return false
}

// atom compiles a comparison on field i.
func atom[T any](d *record.Desc[T], i int, e query.Expr) (Pred[T], error) {
	f := &d.Fields[i]
	op := e.Op
	if op.IsSearch() {
		return searchAtom(d, i, e)
	}
	if !known(op) {
		return nil, badAtom(f, e, "unknown operator")
	}
	if n := arity(op); n >= 0 && len(e.Args) != n {
		return nil, badAtom(f, e, fmt.Sprintf("takes %d operand(s), got %d", n, len(e.Args)))
	}
	if isRange(op) && (f.List || !f.Kind.Ordered()) {
		return nil, badAtom(f, e, "the field is not ordered")
	}
	if isPattern(op) && (f.List || !f.Kind.IsString() || f.Kind == query.KindEnum) {
		return nil, badAtom(f, e, "pattern operators apply to string, text and uuid fields")
	}
	if f.Kind == query.KindBytes || f.Kind == query.KindJSON {
		if f.Bytes == nil {
			return nil, badAtom(f, e, "the field has no accessor")
		}
		if op != query.OpExists && op != query.OpNotExists {
			return nil, badAtom(f, e, "bytes and json fields can only be tested with EXISTS and NOT_EXISTS")
		}
		a, neg := scalarAcc(d, i, f.Bytes), op == query.OpNotExists
		return func(r *T) bool { b, ok := a.load(r); return (ok && len(b) > 0) != neg }, nil
	}
	if f.List {
		return listAtom(d, i, e)
	}
	switch {
	case f.Kind.IsString() && f.Str != nil:
		if isPattern(op) {
			return patternAtom(scalarAcc(d, i, f.Str), f, e)
		}
		args, err := operands[string](f, e, nil)
		if err != nil {
			return nil, err
		}
		return scalarAtom(scalarAcc(d, i, f.Str), op, args), nil
	case f.Kind == query.KindInt && f.Int != nil:
		args, err := operands[int64](f, e, nil)
		if err != nil {
			return nil, err
		}
		return scalarAtom(scalarAcc(d, i, f.Int), op, args), nil
	case f.Kind == query.KindFloat && f.Float != nil:
		args, err := operands(f, e, checkFloat)
		if err != nil {
			return nil, err
		}
		return scalarAtom(scalarAcc(d, i, f.Float), op, args), nil
	case f.Kind == query.KindBool && f.Bool != nil:
		bs, err := operands[bool](f, e, nil)
		if err != nil {
			return nil, err
		}
		args := make([]int64, len(bs))
		for i, b := range bs {
			args[i] = b2i(b)
		}
		return scalarAtom(boolAcc(d, i), op, args), nil
	case f.Kind == query.KindTime && f.Time != nil:
		args, err := operands[time.Time](f, e, nil)
		if err != nil {
			return nil, err
		}
		for i := range args {
			args[i] = query.NormalizeTime(args[i])
		}
		return timeAtom(scalarAcc(d, i, f.Time), op, args), nil
	}
	return nil, badAtom(f, e, "the field has no accessor for its kind")
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func checkFloat(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%w: float %v is not a finite number", query.ErrBadValue, v)
	}
	return nil
}

// operands converts e's operands to V, checking each with check when it is non-nil.
func operands[V any, T any](f *record.Field[T], e query.Expr, check func(V) error) ([]V, error) {
	out := make([]V, len(e.Args))
	for i, a := range e.Args {
		v, ok := a.(V)
		if !ok {
			return nil, badAtom(f, e, fmt.Sprintf("operand %v of type %T", a, a))
		}
		if check != nil {
			if err := check(v); err != nil {
				return nil, fmt.Errorf("%s on field %s: %w", e.Op, f.Name, err)
			}
		}
		out[i] = v
	}
	return out, nil
}

type ordered interface {
	~string | ~int64 | ~float64
}

// setLimit is the IN-list size from which a map replaces a linear scan.
const setLimit = 8

func inSet[V comparable](args []V) func(V) bool {
	if len(args) <= setLimit {
		return func(v V) bool {
			for _, a := range args {
				if v == a {
					return true
				}
			}
			return false
		}
	}
	m := make(map[V]struct{}, len(args))
	for _, a := range args {
		m[a] = struct{}{}
	}
	return func(v V) bool { _, ok := m[v]; return ok }
}

// scalarAtom compiles op on a single-valued field read by get. Every positive operator is
// false for a missing value; negative operators are computed as "positive != neg".
func scalarAtom[T any, V ordered](get acc[T, V], op query.Op, args []V) Pred[T] {
	pos, neg := op, false
	if p, ok := op.Positive(); ok {
		pos, neg = p, true
	}
	switch pos {
	case query.OpExists:
		return func(r *T) bool { _, ok := get.load(r); return ok != neg }
	case query.OpEQ:
		x := args[0]
		return func(r *T) bool { v, ok := get.load(r); return (ok && v == x) != neg }
	case query.OpGT:
		x := args[0]
		return func(r *T) bool { v, ok := get.load(r); return ok && v > x }
	case query.OpGTE:
		x := args[0]
		return func(r *T) bool { v, ok := get.load(r); return ok && v >= x }
	case query.OpLT:
		x := args[0]
		return func(r *T) bool { v, ok := get.load(r); return ok && v < x }
	case query.OpLTE:
		x := args[0]
		return func(r *T) bool { v, ok := get.load(r); return ok && v <= x }
	case query.OpBetween:
		lo, hi := args[0], args[1]
		return func(r *T) bool { v, ok := get.load(r); return (ok && v >= lo && v <= hi) != neg }
	case query.OpIN:
		switch len(args) {
		case 0:
			if neg {
				return always[T]
			}
			return never[T]
		case 1:
			x := args[0]
			return func(r *T) bool { v, ok := get.load(r); return (ok && v == x) != neg }
		}
		in := inSet(args)
		return func(r *T) bool { v, ok := get.load(r); return (ok && in(v)) != neg }
	}
	panic("eval: unhandled operator " + op.String()) // unreachable: atom checked op
}

// timeKey is an exact, comparable form of an instant.
type timeKey struct {
	sec  int64
	nsec int
}

func keyOf(t time.Time) timeKey { return timeKey{t.Unix(), t.Nanosecond()} }

// timeAtom is scalarAtom for times, compared as instants.
func timeAtom[T any](get acc[T, time.Time], op query.Op, args []time.Time) Pred[T] {
	pos, neg := op, false
	if p, ok := op.Positive(); ok {
		pos, neg = p, true
	}
	switch pos {
	case query.OpExists:
		return func(r *T) bool { _, ok := get.load(r); return ok != neg }
	case query.OpEQ:
		x := args[0]
		return func(r *T) bool { v, ok := get.load(r); return (ok && v.Equal(x)) != neg }
	case query.OpGT:
		x := args[0]
		return func(r *T) bool { v, ok := get.load(r); return ok && v.After(x) }
	case query.OpGTE:
		x := args[0]
		return func(r *T) bool { v, ok := get.load(r); return ok && !v.Before(x) }
	case query.OpLT:
		x := args[0]
		return func(r *T) bool { v, ok := get.load(r); return ok && v.Before(x) }
	case query.OpLTE:
		x := args[0]
		return func(r *T) bool { v, ok := get.load(r); return ok && !v.After(x) }
	case query.OpBetween:
		lo, hi := args[0], args[1]
		return func(r *T) bool { v, ok := get.load(r); return (ok && !v.Before(lo) && !v.After(hi)) != neg }
	case query.OpIN:
		if len(args) == 0 {
			if neg {
				return always[T]
			}
			return never[T]
		}
		in := timeSet(args)
		return func(r *T) bool { v, ok := get.load(r); return (ok && in(v)) != neg }
	}
	panic("eval: unhandled operator " + op.String())
}

func timeSet(args []time.Time) func(time.Time) bool {
	keys := make([]timeKey, len(args))
	for i, a := range args {
		keys[i] = keyOf(a)
	}
	in := inSet(keys)
	return func(t time.Time) bool { return in(keyOf(t)) }
}

// listAtom compiles EQ/NEQ (contains), IN/NOT_IN (contains any) and EXISTS/NOT_EXISTS
// (non-empty) on a list field.
func listAtom[T any](d *record.Desc[T], i int, e query.Expr) (Pred[T], error) {
	f := &d.Fields[i]
	switch e.Op {
	case query.OpEQ, query.OpNEQ, query.OpIN, query.OpNotIn, query.OpExists, query.OpNotExists:
	default:
		return nil, badAtom(f, e, "list fields support EQ, NEQ, IN, NOT_IN, EXISTS and NOT_EXISTS")
	}
	switch {
	case f.Kind.IsString() && f.Strs != nil:
		args, err := operands[string](f, e, nil)
		if err != nil {
			return nil, err
		}
		return listOf(listAccOf(d, i, f.Strs), e.Op, args), nil
	case f.Kind == query.KindInt && f.Ints != nil:
		args, err := operands[int64](f, e, nil)
		if err != nil {
			return nil, err
		}
		return listOf(listAccOf(d, i, f.Ints), e.Op, args), nil
	case f.Kind == query.KindFloat && f.Floats != nil:
		args, err := operands(f, e, checkFloat)
		if err != nil {
			return nil, err
		}
		return listOf(listAccOf(d, i, f.Floats), e.Op, args), nil
	case f.Kind == query.KindBool && f.Bools != nil:
		args, err := operands[bool](f, e, nil)
		if err != nil {
			return nil, err
		}
		return listOf(listAccOf(d, i, f.Bools), e.Op, args), nil
	case f.Kind == query.KindTime && f.Times != nil:
		args, err := operands[time.Time](f, e, nil)
		if err != nil {
			return nil, err
		}
		keys := make([]timeKey, len(args))
		for i, a := range args {
			keys[i] = keyOf(query.NormalizeTime(a))
		}
		get := listAccOf(d, i, f.Times)
		pos, neg := e.Op, false
		if p, ok := e.Op.Positive(); ok {
			pos, neg = p, true
		}
		if pos == query.OpExists {
			return func(r *T) bool { return (len(get.load(r)) > 0) != neg }, nil
		}
		if len(keys) == 0 {
			return constant[T](neg), nil
		}
		in := inSet(keys)
		return func(r *T) bool {
			for _, t := range get.load(r) {
				if in(keyOf(t)) {
					return !neg
				}
			}
			return neg
		}, nil
	}
	return nil, badAtom(f, e, "the field has no accessor for its kind")
}

func constant[T any](v bool) Pred[T] {
	if v {
		return always[T]
	}
	return never[T]
}

func listOf[T any, V comparable](get listAcc[T, V], op query.Op, args []V) Pred[T] {
	pos, neg := op, false
	if p, ok := op.Positive(); ok {
		pos, neg = p, true
	}
	if pos == query.OpExists {
		return func(r *T) bool { return (len(get.load(r)) > 0) != neg }
	}
	// EQ has one operand, IN any number: both mean "some element is in args".
	switch len(args) {
	case 0:
		return constant[T](neg)
	case 1:
		x := args[0]
		return func(r *T) bool {
			for _, v := range get.load(r) {
				if v == x {
					return !neg
				}
			}
			return neg
		}
	}
	in := inSet(args)
	return func(r *T) bool {
		for _, v := range get.load(r) {
			if in(v) {
				return !neg
			}
		}
		return neg
	}
}

// patternAtom compiles LIKE, NOT_LIKE, REGEX and STARTS_WITH on a string field.
func patternAtom[T any](get acc[T, string], f *record.Field[T], e query.Expr) (Pred[T], error) {
	var match func(string) bool
	neg := false
	switch e.Op {
	case query.OpLike, query.OpNotLike:
		l, ok := e.Args[0].(query.Like)
		if !ok {
			return nil, badAtom(f, e, fmt.Sprintf("operand of type %T", e.Args[0]))
		}
		match = LikeMatcher(l)
		neg = e.Op == query.OpNotLike
	case query.OpRegex:
		re, ok := e.Args[0].(*query.Regex)
		if !ok || re == nil {
			return nil, badAtom(f, e, fmt.Sprintf("operand of type %T", e.Args[0]))
		}
		match = re.Match
	case query.OpStartsWith:
		p, ok := e.Args[0].(string)
		if !ok {
			return nil, badAtom(f, e, fmt.Sprintf("operand of type %T", e.Args[0]))
		}
		return func(r *T) bool { v, ok := get.load(r); return ok && strings.HasPrefix(v, p) }, nil
	}
	return func(r *T) bool { v, ok := get.load(r); return (ok && match(v)) != neg }, nil
}

// LikeMatcher returns a function reporting whether a whole string matches l, specialized
// for the common shapes (exact, prefix, suffix, contains, only wildcards).
func LikeMatcher(l query.Like) func(string) bool {
	parts := l.Parts()
	lit := func(i int) (string, bool) {
		if i < len(parts) && parts[i].Kind == query.LikeLiteral {
			return parts[i].Text, true
		}
		return "", false
	}
	isAny := func(i int) bool { return i < len(parts) && parts[i].Kind == query.LikeAny }
	switch len(parts) {
	case 0:
		return func(s string) bool { return s == "" }
	case 1:
		if x, ok := lit(0); ok {
			return func(s string) bool { return s == x }
		}
	case 2:
		if x, ok := lit(0); ok && isAny(1) {
			return func(s string) bool { return strings.HasPrefix(s, x) }
		}
		if x, ok := lit(1); ok && isAny(0) {
			return func(s string) bool { return strings.HasSuffix(s, x) }
		}
	case 3:
		if x, ok := lit(1); ok && isAny(0) && isAny(2) {
			return func(s string) bool { return strings.Contains(s, x) }
		}
		a, ok1 := lit(0)
		b, ok2 := lit(2)
		if ok1 && ok2 && isAny(1) {
			return func(s string) bool {
				return len(s) >= len(a)+len(b) && strings.HasPrefix(s, a) && strings.HasSuffix(s, b)
			}
		}
	}
	// Only wildcards: a condition on the number of characters.
	ones, anys := 0, false
	for _, p := range parts {
		switch p.Kind {
		case query.LikeOne:
			ones++
		case query.LikeAny:
			anys = true
		default:
			return l.Match
		}
	}
	if anys {
		if ones == 0 {
			return func(string) bool { return true }
		}
		return func(s string) bool { return len(s) >= ones && utf8.RuneCountInString(s) >= ones }
	}
	return func(s string) bool { return utf8.RuneCountInString(s) == ones }
}
