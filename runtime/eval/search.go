package eval

import (
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/textsearch"
)

// searchAtom compiles SEARCH and SEARCH_PHRASE on a searchable text field: the operand is
// analysed once, and each record's value on every evaluation (package textsearch). A
// missing value matches nothing.
func searchAtom[T any](d *record.Desc[T], i int, e query.Expr) (Pred[T], error) {
	f := &d.Fields[i]
	if f.Search == "" || f.Kind != query.KindText || f.List || f.Str == nil {
		return nil, badAtom(f, e, "the field is not searchable (declare it with search: in the schema)")
	}
	if len(e.Args) != 1 {
		return nil, badAtom(f, e, "takes 1 operand")
	}
	s, ok := e.Args[0].(string)
	if !ok {
		return nil, badAtom(f, e, "the operand is not a string")
	}
	lang := textsearch.Language(f.Search)
	terms := textsearch.Operand(lang, s)
	if len(terms) == 0 {
		return never[T], nil
	}
	match := textsearch.MatchAll
	if e.Op == query.OpSearchPhrase {
		match = textsearch.MatchPhrase
	}
	a := scalarAcc(d, i, f.Str)
	return func(r *T) bool {
		v, ok := a.load(r)
		return ok && match(textsearch.Document(lang, v), terms)
	}, nil
}
