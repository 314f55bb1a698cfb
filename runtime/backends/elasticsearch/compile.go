package elasticsearch

import (
	"fmt"
	"strings"
	"time"

	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// M is a JSON object of the query DSL.
type M = map[string]any

var (
	matchAll  = M{"match_all": M{}}
	matchNone = M{"match_none": M{}}
)

// compiler turns filters and sort keys of record type T into query DSL.
type compiler[T any] struct {
	desc *record.Desc[T]
}

// path returns the document path a field is filtered and sorted on: the keyword subfield of
// text fields, the microsecond long of time fields, the field itself otherwise.
func path[T any](f *record.Field[T]) string {
	switch f.Kind {
	case query.KindText:
		return f.JSON + "." + esdialect.KeywordSub
	case query.KindTime:
		return esdialect.MetaField + ".us." + f.JSON
	}
	return f.JSON
}

// operand converts a query operand to its indexed form: times to microseconds, -0 to 0.
func operand(a any) any {
	switch v := a.(type) {
	case time.Time:
		return micros(v)
	case float64:
		if v == 0 {
			return 0.0
		}
		return v
	}
	return a
}

// compile returns the DSL query for e, with exactly the meaning of package eval: a positive
// atom requires the field to be present; negations are bool must_not of the positive; an
// empty IN or OR matches nothing.
func (c *compiler[T]) compile(e query.Expr) (M, error) {
	switch e.Op {
	case query.OpAll:
		return matchAll, nil
	case query.OpAnd:
		if len(e.Sub) == 0 {
			return matchAll, nil
		}
		subs, err := c.compileAll(e.Sub)
		if err != nil {
			return nil, err
		}
		return nest("filter", subs), nil
	case query.OpOr:
		if len(e.Sub) == 0 {
			return matchNone, nil
		}
		subs, err := c.compileAll(e.Sub)
		if err != nil {
			return nil, err
		}
		if len(subs) == 1 {
			return subs[0].(M), nil
		}
		return nest("should", subs), nil
	case query.OpNot:
		if len(e.Sub) != 1 {
			return nil, fmt.Errorf("%w: NOT takes exactly one condition, got %d", query.ErrBadQuery, len(e.Sub))
		}
		sub, err := c.compile(e.Sub[0])
		if err != nil {
			return nil, err
		}
		return not(sub), nil
	}
	if pos, ok := e.Op.Positive(); ok {
		p := e
		p.Op = pos
		sub, err := c.compile(p)
		if err != nil {
			return nil, err
		}
		return not(sub), nil
	}
	f, err := c.desc.Lookup(e.Field)
	if err != nil {
		return nil, err
	}
	if e.Op.IsSearch() {
		return search(f, e)
	}
	p := path(f)
	arg := func(i int) any { return operand(e.Args[i]) }
	switch e.Op {
	case query.OpExists:
		if f.Kind == query.KindJSON {
			return M{"term": M{esdialect.MetaField + ".has": f.JSON}}, nil
		}
		return M{"exists": M{"field": p}}, nil
	case query.OpEQ:
		return M{"term": M{p: arg(0)}}, nil
	case query.OpIN:
		if len(e.Args) == 0 {
			return matchNone, nil
		}
		vals := make([]any, len(e.Args))
		for i := range e.Args {
			vals[i] = arg(i)
		}
		if len(vals) <= maxTerms {
			return M{"terms": M{p: vals}}, nil
		}
		var chunks []any
		for len(vals) > 0 {
			n := min(len(vals), maxTerms)
			chunks = append(chunks, M{"terms": M{p: vals[:n]}})
			vals = vals[n:]
		}
		return nest("should", chunks), nil
	case query.OpGT:
		return M{"range": M{p: M{"gt": arg(0)}}}, nil
	case query.OpGTE:
		return M{"range": M{p: M{"gte": arg(0)}}}, nil
	case query.OpLT:
		return M{"range": M{p: M{"lt": arg(0)}}}, nil
	case query.OpLTE:
		return M{"range": M{p: M{"lte": arg(0)}}}, nil
	case query.OpBetween:
		return M{"range": M{p: M{"gte": arg(0), "lte": arg(1)}}}, nil
	case query.OpStartsWith:
		s, _ := e.Args[0].(string)
		if s == "" {
			return M{"exists": M{"field": p}}, nil
		}
		return M{"prefix": M{p: M{"value": s}}}, nil
	case query.OpLike:
		l, ok := e.Args[0].(query.Like)
		if !ok {
			return nil, fmt.Errorf("%w: LIKE on %s takes a query.Like, got %T", query.ErrBadQuery, f.Name, e.Args[0])
		}
		return likeQuery(p, l), nil
	case query.OpRegex:
		re, ok := e.Args[0].(*query.Regex)
		if !ok || re == nil {
			return nil, fmt.Errorf("%w: REGEX on %s takes a *query.Regex, got %T", query.ErrBadQuery, f.Name, e.Args[0])
		}
		return M{"regexp": M{p: M{"value": re.LucenePattern(), "flags": "ALL", "max_determinized_states": 10000}}}, nil
	}
	return nil, fmt.Errorf("%w: operator %s on %s", query.ErrBadQuery, e.Op, f.Name)
}

// Elasticsearch's limits on one query that repokit lifts: maxClauses clauses in one bool
// query (indices.query.bool.max_clause_count) and maxTerms values in one terms query
// (index.max_terms_count), both defaults.
const (
	maxClauses = 1024
	maxTerms   = 65536
)

// nest returns the bool query with subs as its occur ("filter": all match, "should": one
// does) clauses, nested in bool queries of that occur of at most maxClauses clauses each when
// there are more (the limit is per bool query), so that a filter of repo.MaxFilterConditions
// conditions, or an IN of any number of values, is one query.
func nest(occur string, subs []any) M {
	for len(subs) > maxClauses {
		var up []any
		for len(subs) > 0 {
			n := min(len(subs), maxClauses)
			up = append(up, boolOf(occur, subs[:n]))
			subs = subs[n:]
		}
		subs = up
	}
	return boolOf(occur, subs)
}

func boolOf(occur string, subs []any) M {
	if occur == "should" {
		return M{"bool": M{"should": subs, "minimum_should_match": 1}}
	}
	return M{"bool": M{occur: subs}}
}

func (c *compiler[T]) compileAll(es []query.Expr) ([]any, error) {
	out := make([]any, len(es))
	for i, s := range es {
		q, err := c.compile(s)
		if err != nil {
			return nil, err
		}
		out[i] = q
	}
	return out, nil
}

func not(q M) M {
	if _, ok := q["match_all"]; ok {
		return matchNone
	}
	if _, ok := q["match_none"]; ok {
		return matchAll
	}
	return M{"bool": M{"must_not": []any{q}}}
}

// likeQuery renders a LIKE pattern: a pure literal as a term, literal% as a prefix, anything
// else as a case-sensitive wildcard query (% → *, _ → ?, one code point; the wildcard
// characters * ? and \ of the literal parts escaped with \).
func likeQuery(p string, l query.Like) M {
	parts := l.Parts()
	switch {
	case len(parts) == 0:
		return M{"term": M{p: ""}}
	case len(parts) == 1 && parts[0].Kind == query.LikeLiteral:
		return M{"term": M{p: parts[0].Text}}
	case len(parts) == 1 && parts[0].Kind == query.LikeAny:
		return M{"exists": M{"field": p}}
	case len(parts) == 2 && parts[0].Kind == query.LikeLiteral && parts[1].Kind == query.LikeAny:
		return M{"prefix": M{p: M{"value": parts[0].Text}}}
	}
	var b strings.Builder
	for _, part := range parts {
		switch part.Kind {
		case query.LikeAny:
			b.WriteByte('*')
		case query.LikeOne:
			b.WriteByte('?')
		case query.LikeLiteral:
			for i := 0; i < len(part.Text); i++ {
				switch ch := part.Text[i]; ch {
				case '*', '?', '\\':
					b.WriteByte('\\')
					b.WriteByte(ch)
				default:
					b.WriteByte(ch)
				}
			}
		}
	}
	return M{"wildcard": M{p: M{"value": b.String()}}}
}

// sortClause returns the DSL sort for spec's keys: missing values last in both directions
// (an optional int key takes two sort clauses, see below).
func (c *compiler[T]) sortClause(keys []query.SortKey) ([]any, error) {
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		if k.Relevance {
			out = append(out, M{"_score": M{"order": "desc"}})
			continue
		}
		f, err := c.desc.Lookup(k.Field)
		if err != nil {
			return nil, err
		}
		order := "asc"
		if k.Desc {
			order = "desc"
		}
		s := M{"order": order, "missing": "_last"}
		switch f.Kind {
		case query.KindInt, query.KindTime:
			s["unmapped_type"] = "long"
		case query.KindFloat:
			s["unmapped_type"] = "double"
		case query.KindBool:
			s["unmapped_type"] = "boolean"
		default:
			s["unmapped_type"] = "keyword"
		}
		out = append(out, M{path(f): s})
		if f.Kind == query.KindInt && f.Optional {
			// Elasticsearch sorts a missing long as Long.MAX_VALUE (ascending) or
			// Long.MIN_VALUE (descending), so a missing value tied with a stored
			// math.MaxInt64 or math.MinInt64 and the next key decided. The same field in
			// the other direction, missing again last, puts the stored value first among
			// such ties and leaves every other order as it is.
			rev := "desc"
			if k.Desc {
				rev = "asc"
			}
			out = append(out, M{path(f): M{"order": rev, "missing": "_last", "unmapped_type": "long"}})
		}
	}
	return out, nil
}
