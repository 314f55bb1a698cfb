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
