package eval

import (
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// Scanning many records with a per-record predicate is latency-bound: every record costs
// a chain of indirect calls, which keeps the processor from overlapping the memory loads
// of consecutive records. A Filter therefore evaluates one conjunct of the filter over a
// whole block of records in a tight loop with inlined field reads, and applies the other
// conjuncts, through the predicate, to the (usually few) survivors only.

// batchFn appends to dst the records of recs that match.
type batchFn[T any] func(dst, recs []*T) []*T

// Filter is a compiled filter for scanning blocks of records. The zero Filter, and a nil
// *Filter, match every record. A Filter is immutable and safe for concurrent use.
type Filter[T any] struct {
	all   bool
	first batchFn[T] // the conjunct evaluated over whole blocks
	rest  Pred[T]    // the other conjuncts; nil when there are none
	pred  Pred[T]    // the whole filter, one record at a time
}

// CompileFilter compiles e like Compile and returns a Filter for block scans.
func CompileFilter[T any](d *record.Desc[T], e query.Expr) (*Filter[T], error) {
	if e.IsAll() {
		return &Filter[T]{all: true, pred: always[T]}, nil
	}
	c := compiler[T]{d: d}
	pred, err := c.expr(e)
	if err != nil {
		return nil, err
	}
	f := &Filter[T]{pred: pred}
	conj := []query.Expr{e}
	if e.Op == query.OpAnd {
		conj = e.Sub
	}
	for i, x := range conj {
		b := c.batch(x)
		if b == nil {
			continue
		}
		f.first = b
		others := make([]query.Expr, 0, len(conj)-1)
		others = append(others, conj[:i]...)
		others = append(others, conj[i+1:]...)
		if len(others) > 0 {
			if f.rest, err = c.expr(query.Expr{Op: query.OpAnd, Sub: others}); err != nil {
				return nil, err
			}
		}
		return f, nil
	}
	p := pred
	f.first = func(dst, recs []*T) []*T {
		for _, r := range recs {
			if p(r) {
				dst = append(dst, r)
			}
		}
		return dst
	}
	return f, nil
}

// MatchesAll reports whether the filter matches every record without looking at it.
func (f *Filter[T]) MatchesAll() bool { return f == nil || f.all || f.pred == nil }

// Match reports whether one record matches.
func (f *Filter[T]) Match(r *T) bool { return f.MatchesAll() || f.pred(r) }

// Append appends to dst the records of recs that match, in their order.
func (f *Filter[T]) Append(dst, recs []*T) []*T {
	if f.MatchesAll() {
		return append(dst, recs...)
	}
	start := len(dst)
	dst = f.first(dst, recs)
	if f.rest == nil {
		return dst
	}
	kept := dst[:start]
	for _, r := range dst[start:] {
		if f.rest(r) {
			kept = append(kept, r)
		}
	}
	clear(dst[len(kept):])
	return kept
}

// batch returns the block form of a comparison on a field read at a fixed offset, or nil
// when there is none (the caller then uses the predicate).
func (c *compiler[T]) batch(e query.Expr) batchFn[T] {
	i, ok := c.d.Field(e.Field)
	if !ok || !known(e.Op) || len(e.Sub) != 0 {
		return nil
	}
	f := &c.d.Fields[i]
	if n := arity(e.Op); n >= 0 && len(e.Args) != n {
		return nil
	}
	if isPattern(e.Op) || isRange(e.Op) && (f.List || !f.Kind.Ordered()) {
		return nil
	}
	if f.List {
		if !f.Kind.IsString() || (e.Op != query.OpEQ && e.Op != query.OpIN) {
			return nil
		}
		off, ok := directList(c.d, i)
		if !ok {
			return nil
		}
		args, err := operands[string](f, e, nil)
		if err != nil {
			return nil
		}
		return batchContains(listAcc[T, string]{off: off}, args)
	}
	off, ptr, ok := direct(c.d, i)
	if !ok {
		return nil
	}
	switch {
	case f.Kind.IsString():
		args, err := operands[string](f, e, nil)
		if err != nil {
			return nil
		}
		return batchScalar(acc[T, string]{off: off, ptr: ptr}, e.Op, args)
	case f.Kind == query.KindInt:
		args, err := operands[int64](f, e, nil)
		if err != nil {
			return nil
		}
		return batchScalar(acc[T, int64]{off: off, ptr: ptr}, e.Op, args)
	case f.Kind == query.KindFloat:
		args, err := operands(f, e, checkFloat)
		if err != nil {
			return nil
		}
		return batchScalar(acc[T, float64]{off: off, ptr: ptr}, e.Op, args)
	}
	return nil
}

// at reads a field at its offset; a.get must be nil.
func (a acc[T, V]) at(r *T) (V, bool) {
	p := unsafePtr(r, a.off)
	if a.ptr {
		vp := *(**V)(p)
		if vp == nil {
			var zero V
			return zero, false
		}
		return *vp, true
	}
	return *(*V)(p), true
}

// batchScalar is scalarAtom as a block loop: one loop per operator, so that the loop body
// has no call.
func batchScalar[T any, V ordered](a acc[T, V], op query.Op, args []V) batchFn[T] {
	pos, neg := op, false
	if p, ok := op.Positive(); ok {
		pos, neg = p, true
	}
	switch pos {
	case query.OpEQ:
		x := args[0]
		return func(dst, recs []*T) []*T {
			for _, r := range recs {
				if v, ok := a.at(r); (ok && v == x) != neg {
					dst = append(dst, r)
				}
			}
			return dst
		}
	case query.OpGT:
		x := args[0]
		return func(dst, recs []*T) []*T {
			for _, r := range recs {
				if v, ok := a.at(r); ok && v > x {
					dst = append(dst, r)
				}
			}
			return dst
		}
	case query.OpGTE:
		x := args[0]
		return func(dst, recs []*T) []*T {
			for _, r := range recs {
				if v, ok := a.at(r); ok && v >= x {
					dst = append(dst, r)
				}
			}
			return dst
		}
	case query.OpLT:
		x := args[0]
		return func(dst, recs []*T) []*T {
			for _, r := range recs {
				if v, ok := a.at(r); ok && v < x {
					dst = append(dst, r)
				}
			}
			return dst
		}
	case query.OpLTE:
		x := args[0]
		return func(dst, recs []*T) []*T {
			for _, r := range recs {
				if v, ok := a.at(r); ok && v <= x {
					dst = append(dst, r)
				}
			}
			return dst
		}
	case query.OpBetween:
		lo, hi := args[0], args[1]
		return func(dst, recs []*T) []*T {
			for _, r := range recs {
				if v, ok := a.at(r); (ok && v >= lo && v <= hi) != neg {
					dst = append(dst, r)
				}
			}
			return dst
		}
	case query.OpIN:
		in := inSet(args)
		if len(args) == 0 {
			in = func(V) bool { return false }
		}
		return func(dst, recs []*T) []*T {
			for _, r := range recs {
				if v, ok := a.at(r); (ok && in(v)) != neg {
					dst = append(dst, r)
				}
			}
			return dst
		}
	case query.OpExists:
		return func(dst, recs []*T) []*T {
			for _, r := range recs {
				if _, ok := a.at(r); ok != neg {
					dst = append(dst, r)
				}
			}
			return dst
		}
	}
	return nil
}

// batchContains is the block form of EQ and IN on a list of strings.
func batchContains[T any](a listAcc[T, string], args []string) batchFn[T] {
	in := inSet(args)
	return func(dst, recs []*T) []*T {
		for _, r := range recs {
			for _, v := range *(*[]string)(unsafePtr(r, a.off)) {
				if in(v) {
					dst = append(dst, r)
					break
				}
			}
		}
		return dst
	}
}
