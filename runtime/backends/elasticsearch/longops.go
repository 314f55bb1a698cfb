package elasticsearch

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/repokit/repokit/runtime/eval"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// maxAutomatonBytes is the longest string operand a range, prefix or wildcard query is
// given. Lucene turns those operands into automata and refuses one of 1,000 states or more
// ("input automaton is too large"), so a range operand of 1,000 bytes failed with HTTP 400,
// and with it the second page of a Page ordered by a string field whose boundary value was
// that long. Term queries (EQ, IN) have no such limit.
const maxAutomatonBytes = 900

// resolveLong rewrites the conditions of e whose string operand is longer than
// maxAutomatonBytes (GT, GTE, LT, LTE, BETWEEN, STARTS_WITH, LIKE and their negations) into
// conditions Elasticsearch can run, with the same meaning. With p the operand cut to at most
// maxAutomatonBytes (at a character boundary), the records that may match and are not decided
// by a short range all have a value starting with p: the driver reads those candidates (with
// a prefix query on p, projected to the field), evaluates the condition on each with package
// eval, as the memory backend does, and the condition becomes "short range, or id IN the
// candidates that matched":
//
//	x >  s  ⇔  (x > p ∧ ¬ x starts with p) ∨ id ∈ {candidates with x > s}
//	x <  s  ⇔  x < p ∨ id ∈ {candidates with x < s}
//	x starts with s, x LIKE l  ⇔  id ∈ {candidates that match}
//
// (GTE and LTE alike; BETWEEN is GTE ∧ LTE). A LIKE whose literal start is empty reads every
// record with the field. Few records share a prefix of 900 bytes with an operand, so this
// costs one small search per long operand.
func (d *Driver[T]) resolveLong(ctx context.Context, e query.Expr) (query.Expr, error) {
	r, _, err := d.resolveOp(ctx, e)
	return r, err
}

// resolveOp is resolveLong that also reports whether it changed e.
func (d *Driver[T]) resolveOp(ctx context.Context, e query.Expr) (query.Expr, bool, error) {
	switch e.Op {
	case query.OpAll:
		return e, false, nil
	case query.OpAnd, query.OpOr, query.OpNot:
		var out []query.Expr
		for i, s := range e.Sub {
			r, changed, err := d.resolveOp(ctx, s)
			if err != nil {
				return e, false, err
			}
			if changed && out == nil {
				out = append(make([]query.Expr, 0, len(e.Sub)), e.Sub[:i]...)
			}
			if out != nil {
				out = append(out, r)
			}
		}
		if out == nil {
			return e, false, nil
		}
		e.Sub = out
		return e, true, nil
	}
	if pos, ok := e.Op.Positive(); ok {
		p := e
		p.Op = pos
		r, changed, err := d.resolveOp(ctx, p)
		if err != nil || !changed {
			return e, false, err
		}
		return query.NotExpr(r), true, nil
	}
	f, err := d.desc.Lookup(e.Field)
	if err != nil || !f.Kind.IsString() {
		return e, false, nil // compile reports a bad field
	}
	str := func(i int) string {
		if i < len(e.Args) {
			s, _ := e.Args[i].(string)
			return s
		}
		return ""
	}
	field := func(op query.Op, s string) query.Expr { return query.Expr{Op: op, Field: e.Field, Args: []any{s}} }
	switch e.Op {
	case query.OpBetween:
		if len(str(0)) <= maxAutomatonBytes && len(str(1)) <= maxAutomatonBytes {
			return e, false, nil
		}
		lo, _, err := d.resolveOp(ctx, field(query.OpGTE, str(0)))
		if err != nil {
			return e, false, err
		}
		hi, _, err := d.resolveOp(ctx, field(query.OpLTE, str(1)))
		return query.AndExpr(lo, hi), true, err
	case query.OpGT, query.OpGTE, query.OpLT, query.OpLTE, query.OpStartsWith:
		s := str(0)
		if len(s) <= maxAutomatonBytes {
			return e, false, nil
		}
		p := cut(s)
		ids, err := d.matchingIDs(ctx, e, field(query.OpStartsWith, p))
		if err != nil {
			return e, false, err
		}
		switch e.Op {
		case query.OpGT, query.OpGTE:
			return query.OrExpr(query.AndExpr(field(query.OpGT, p), query.NotExpr(field(query.OpStartsWith, p))), ids), true, nil
		case query.OpLT, query.OpLTE:
			return query.OrExpr(field(query.OpLT, p), ids), true, nil
		}
		return ids, true, nil
	case query.OpLike:
		l, ok := e.Args[0].(query.Like)
		if !ok || likeBytes(l) <= maxAutomatonBytes {
			return e, false, nil
		}
		cand := query.Expr{Op: query.OpExists, Field: e.Field}
		if parts := l.Parts(); len(parts) > 0 && parts[0].Kind == query.LikeLiteral {
			cand = field(query.OpStartsWith, cut(parts[0].Text))
		}
		ids, err := d.matchingIDs(ctx, e, cand)
		return ids, err == nil, err
	}
	return e, false, nil
}

// matchingIDs returns the condition "id IN the records matching cand that match e", e
// evaluated by package eval on the records read with cand.
func (d *Driver[T]) matchingIDs(ctx context.Context, e, cand query.Expr) (query.Expr, error) {
	pred, err := eval.Compile(d.desc, e)
	if err != nil {
		return e, repo.E(repo.ErrInvalidInput, err)
	}
	id := d.desc.ID()
	spec := &query.Spec{Filter: cand, Sort: []query.SortKey{{Field: id.Name}}, Fields: []string{id.Name, e.Field}}
	ids := []any{}
	for rec, err := range d.Query(ctx, spec) {
		if err != nil {
			return e, err
		}
		if pred(&rec) {
			ids = append(ids, d.desc.GetID(&rec))
		}
	}
	return query.Expr{Op: query.OpIN, Field: id.Name, Args: ids}, nil
}

// cut returns the longest prefix of s of at most maxAutomatonBytes bytes that ends at a
// character boundary.
func cut(s string) string {
	if len(s) <= maxAutomatonBytes {
		return s
	}
	n := maxAutomatonBytes
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// likeBytes is the length of the wildcard query likeQuery renders for l (a pure literal is
// a term query, which has no limit).
func likeBytes(l query.Like) int {
	parts := l.Parts()
	if len(parts) == 1 && parts[0].Kind == query.LikeLiteral {
		return 0
	}
	n := 0
	for _, p := range parts {
		if p.Kind == query.LikeLiteral {
			n += len(p.Text) + strings.Count(p.Text, "*") + strings.Count(p.Text, "?") + strings.Count(p.Text, "\\")
		} else {
			n++
		}
	}
	return n
}
