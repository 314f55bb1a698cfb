package query

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrBadQuery is wrapped by errors for malformed queries (negative limit or offset, a
// field that does not exist or does not support the operator).
var ErrBadQuery = errors.New("query: bad query")

// SortKey is one untyped sort key.
type SortKey struct {
	Field string // schema field name; "" for the relevance key
	Desc  bool
	// Relevance marks the relevance key (Query.OrderByRelevance): the records that match the
	// filter's ranked search conditions best come first (Desc is true, Field is empty).
	Relevance bool
}

// RelevanceKey returns the relevance sort key (see Query.OrderByRelevance).
func RelevanceKey() SortKey { return SortKey{Desc: true, Relevance: true} }

// Spec is the untyped form of a Query that backends compile.
type Spec struct {
	Filter Expr      // All when there is no filter
	Sort   []SortKey // in order; backends append the id as the final tiebreaker
	Limit  int       // maximum number of records; 0 means no limit
	Offset int       // records to skip after sorting
	Fields []string  // projection: the fields to load (the id always is); nil loads all
}

// String renders the spec for logs and errors.
func (s Spec) String() string {
	var b strings.Builder
	b.WriteString("WHERE ")
	b.WriteString(s.Filter.String())
	if len(s.Sort) > 0 {
		b.WriteString(" ORDER BY ")
		for i, k := range s.Sort {
			if i > 0 {
				b.WriteString(", ")
			}
			if k.Relevance {
				b.WriteString("RELEVANCE")
				continue
			}
			b.WriteString(k.Field)
			if k.Desc {
				b.WriteString(" DESC")
			}
		}
	}
	if s.Limit > 0 {
		fmt.Fprintf(&b, " LIMIT %d", s.Limit)
	}
	if s.Offset > 0 {
		fmt.Fprintf(&b, " OFFSET %d", s.Offset)
	}
	if s.Fields != nil {
		fmt.Fprintf(&b, " SELECT %s", strings.Join(s.Fields, ", "))
	}
	return b.String()
}

// Query is an immutable query on records of type R: every method returns a new Query and
// leaves its receiver unchanged, so a Query can be shared and extended safely.
type Query[R any] struct {
	spec Spec
	err  error
}

// New returns the query that matches every record of type R, in id order.
func New[R any]() Query[R] { return Query[R]{spec: Spec{Filter: All()}} }

// Where adds conditions; all of them (and those added before) must hold.
func (q Query[R]) Where(conds ...Cond[R]) Query[R] {
	es := make([]Expr, 0, len(conds)+1)
	es = append(es, q.spec.Filter)
	for _, c := range conds {
		es = append(es, c.e)
		if q.err == nil && c.err != nil {
			q.err = c.err
		}
	}
	q.spec.Filter = AndExpr(es...)
	return q
}

// OrderBy appends sort keys; the id breaks the remaining ties.
func (q Query[R]) OrderBy(keys ...Sort[R]) Query[R] {
	s := slices.Clip(q.spec.Sort)
	for _, k := range keys {
		s = append(s, k.key)
	}
	q.spec.Sort = s
	return q
}

// OrderByRelevance appends the relevance sort key: the records that match the query's
// Search and SearchPhrase conditions best come first (see RankedSearches for the conditions
// that count, and docs/semantics.md, "Relevance", for what each backend ranks with). Like
// every sort key, it applies after the keys before it and before those after it; the id
// breaks the remaining ties. A query without a ranked search condition is ErrBadQuery, as is
// a keyset Page in relevance order (the score is not a field a cursor can hold); Find and
// Stream, with Limit and Offset, take it.
func (q Query[R]) OrderByRelevance() Query[R] {
	q.spec.Sort = append(slices.Clip(q.spec.Sort), RelevanceKey())
	return q
}

// Limit sets the maximum number of records returned; 0 removes the limit.
func (q Query[R]) Limit(n int) Query[R] {
	if n < 0 && q.err == nil {
		q.err = fmt.Errorf("%w: limit %d is negative", ErrBadQuery, n)
	}
	q.spec.Limit = n
	return q
}

// Offset skips the first n records of the sorted result.
func (q Query[R]) Offset(n int) Query[R] {
	if n < 0 && q.err == nil {
		q.err = fmt.Errorf("%w: offset %d is negative", ErrBadQuery, n)
	}
	q.spec.Offset = n
	return q
}

// Select restricts the fields loaded (a projection); the id is always loaded and the
// other fields keep their zero value. Select() with no fields loads only the id.
func (q Query[R]) Select(fields ...Field[R]) Query[R] {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name()
	}
	q.spec.Fields = names
	return q
}

// Spec returns the untyped query. The caller must not modify its slices.
func (q Query[R]) Spec() Spec { return q.spec }

// Err returns the first error met while building the query, or nil.
func (q Query[R]) Err() error { return q.err }

// String renders the query.
func (q Query[R]) String() string { return q.spec.String() }
