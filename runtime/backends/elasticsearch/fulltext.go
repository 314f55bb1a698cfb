package elasticsearch

import (
	"fmt"

	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/textsearch"
)

// search compiles SEARCH and SEARCH_PHRASE on a searchable text field, on its analysed
// terms (esdialect.SearchPath), which the codec computes with package textsearch when the
// document is written: SEARCH is a match query with operator AND on the operand's terms,
// SEARCH_PHRASE a match_phrase on them with a gap for each stop word (see
// esdialect.PhraseTerms). An operand without terms matches nothing.
func search[T any](f *record.Field[T], e query.Expr) (M, error) {
	if f.Search == "" || f.List {
		return nil, fmt.Errorf("%w: %s on field %s: the field is not searchable (declare it with search: in the schema)", query.ErrBadQuery, e.Op, f.Name)
	}
	var s string
	ok := len(e.Args) == 1
	if ok {
		s, ok = e.Args[0].(string)
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s on field %s: takes one string operand", query.ErrBadQuery, e.Op, f.Name)
	}
	terms := textsearch.Operand(textsearch.Language(f.Search), s)
	if len(terms) == 0 {
		return matchNone, nil
	}
	p := esdialect.SearchPath(f.JSON)
	if e.Op == query.OpSearchPhrase {
		return M{"match_phrase": M{p: M{"query": esdialect.PhraseTerms(terms), "analyzer": esdialect.PhraseAnalyzer}}}, nil
	}
	return M{"match": M{p: M{"query": esdialect.SearchTerms(terms), "operator": "and", "analyzer": "standard"}}}, nil
}

// scored returns the query of a relevance sort: q (the compiled filter, which alone decides
// which documents match) in filter context, and the ranked search conditions of filter
// (query.RankedSearches), compiled as for filtering, as should clauses, which only add their
// scores (BM25 on the analysed terms) to the documents that match them. It fails with
// ErrBadQuery when filter has no ranked search condition.
func (c *compiler[T]) scored(q M, filter query.Expr) (M, error) {
	conds := query.RankedSearches(filter)
	if len(conds) == 0 {
		return nil, query.CheckRelevance(&query.Spec{Filter: filter, Sort: []query.SortKey{query.RelevanceKey()}})
	}
	should := make([]any, 0, len(conds))
	for _, e := range conds {
		f, err := c.desc.Lookup(e.Field)
		if err != nil {
			return nil, err
		}
		sq, err := search(f, e)
		if err != nil {
			return nil, err
		}
		should = append(should, sq)
	}
	if len(should) > maxClauses {
		should = []any{nest("should", should)}
	}
	return M{"bool": M{"filter": []any{q}, "should": should}}, nil
}

// appendSearch appends the "s" member of the meta object: each searchable field's terms
// (esdialect.DocumentTerms), null when the field is missing (so that a partial update
// clears them), and a trailing comma.
func (c *codec[T]) appendSearch(b []byte, rec *T) []byte {
	b = append(b, `"`+esdialect.SearchMeta+`":{`...)
	for j, i := range c.search {
		f := &c.desc.Fields[i]
		if j > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.JSON)
		b = append(b, ':')
		if s, ok := f.Str(rec); ok {
			b = appendString(b, esdialect.DocumentTerms(f.Search, s))
		} else {
			b = append(b, "null"...)
		}
	}
	return append(b, "},"...)
}

// fillSearch sets, in a document a migration copies, the analysed terms of every
// searchable field of the new version (esdialect.SearchPath) from the field's value, and
// removes those of fields that are no longer searchable: the terms a write of the new
// version would store.
func (p *recordPlan) fillSearch(doc map[string]any) {
	s := map[string]any{}
	for i := range p.after.Fields {
		f := &p.after.Fields[i]
		if f.Search == "" {
			continue
		}
		if v, ok := doc[f.Name].(string); ok {
			s[f.Name] = esdialect.DocumentTerms(f.Search, v)
		} else {
			s[f.Name] = nil
		}
	}
	rk, _ := doc[esdialect.MetaField].(map[string]any)
	if rk == nil {
		if len(s) == 0 {
			return
		}
		rk = map[string]any{}
		doc[esdialect.MetaField] = rk
	}
	if len(s) == 0 {
		delete(rk, esdialect.SearchMeta)
		return
	}
	rk[esdialect.SearchMeta] = s
}
