package postgres

import (
	"fmt"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/textsearch"
)

// search renders SEARCH and SEARCH_PHRASE on a searchable text field: its generated
// tsvector column matched against the operand's terms, analysed in Go (package textsearch)
// and passed as a tsquery literal, so that the server analyses nothing at query time. An
// operand without terms matches nothing.
func (c *compiler[T]) search(f *record.Field[T], e query.Expr) error {
	if f.Search == "" || f.List {
		return fmt.Errorf("%w: %s on field %s: the field is not searchable (declare it with search: in the schema)", query.ErrBadQuery, e.Op, f.Name)
	}
	var s string
	ok := len(e.Args) == 1
	if ok {
		s, ok = e.Args[0].(string)
	}
	if !ok {
		return fmt.Errorf("%w: %s on field %s: takes one string operand", query.ErrBadQuery, e.Op, f.Name)
	}
	tsq := pgdialect.SearchQuery(textsearch.Operand(textsearch.Language(f.Search), s), e.Op == query.OpSearchPhrase)
	if tsq == "" {
		c.b.WriteString("FALSE")
		return nil
	}
	fmt.Fprintf(&c.b, "(%s @@ %s::tsquery)", pgdialect.Quote(pgdialect.SearchColumn(f.Column)), c.arg(tsq))
	return nil
}

// rank writes the relevance of a row for the ranked search conditions of filter
// (query.RankedSearches): the sum, over the conditions, of ts_rank of the field's tsvector
// column for the condition's tsquery with normalization 1 (the rank divided by 1 + the
// logarithm of the document's length), or 0 for a condition the row does not match. A
// condition without terms adds nothing.
func (c *compiler[T]) rank(filter query.Expr) error {
	conds := query.RankedSearches(filter)
	c.b.WriteByte('(')
	n := 0
	for _, e := range conds {
		f, err := c.desc.Lookup(e.Field)
		if err != nil {
			return err
		}
		s, _ := e.Args[0].(string) // checked when the filter was compiled
		tsq := pgdialect.SearchQuery(textsearch.Operand(textsearch.Language(f.Search), s), e.Op == query.OpSearchPhrase)
		if tsq == "" {
			continue
		}
		if n > 0 {
			c.b.WriteString(" + ")
		}
		n++
		col, p := pgdialect.Quote(pgdialect.SearchColumn(f.Column)), c.arg(tsq)
		fmt.Fprintf(&c.b, "CASE WHEN %s @@ %s::tsquery THEN ts_rank(%s, %s::tsquery, 1) ELSE 0 END", col, p, col, p)
	}
	if n == 0 {
		c.b.WriteString("0")
	}
	c.b.WriteByte(')')
	return nil
}
