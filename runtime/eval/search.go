package eval

import (
	"fmt"

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

// rankedSearch is one ranked search condition (query.RankedSearches), compiled.
type rankedSearch[T any] struct {
	field  int
	get    acc[T, string]
	lang   textsearch.Language
	terms  []textsearch.Term
	phrase bool
}

// compileScore returns the relevance of a record for the ranked search conditions of filter:
// the sum of textsearch.ScoreAll (Search) or textsearch.ScorePhrase (SearchPhrase) over the
// conditions, each on its field's analysed value (a missing value scores 0). It fails with
// ErrBadQuery when filter has no ranked search condition.
func compileScore[T any](d *record.Desc[T], filter query.Expr) (func(*T) float64, error) {
	conds := query.RankedSearches(filter)
	if len(conds) == 0 {
		return nil, query.CheckRelevance(&query.Spec{Filter: filter, Sort: []query.SortKey{query.RelevanceKey()}})
	}
	rs := make([]rankedSearch[T], 0, len(conds))
	for _, e := range conds {
		i, ok := d.Field(e.Field)
		if !ok {
			return nil, fmt.Errorf("%w: record %s has no field %q", query.ErrBadQuery, d.Name, e.Field)
		}
		f := &d.Fields[i]
		s, _ := e.Args[0].(string) // checked by the filter's compilation
		if f.Str == nil || f.Search == "" {
			return nil, badAtom(f, e, "the field is not searchable (declare it with search: in the schema)")
		}
		lang := textsearch.Language(f.Search)
		rs = append(rs, rankedSearch[T]{field: i, get: scalarAcc(d, i, f.Str), lang: lang,
			terms: textsearch.Operand(lang, s), phrase: e.Op == query.OpSearchPhrase})
	}
	return func(r *T) float64 {
		score := 0.0
		last := -1
		var doc []string
		for _, c := range rs {
			if len(c.terms) == 0 {
				continue
			}
			if c.field != last {
				v, ok := c.get.load(r)
				if !ok {
					last, doc = c.field, nil
					continue
				}
				last, doc = c.field, textsearch.Document(c.lang, v)
			}
			if doc == nil {
				continue
			}
			if c.phrase {
				score += textsearch.ScorePhrase(doc, c.terms)
			} else {
				score += textsearch.ScoreAll(doc, c.terms)
			}
		}
		return score
	}, nil
}
