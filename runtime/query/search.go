package query

import "fmt"

// TextField is a handle on a searchable text field (a text field declared with a search
// language in the schema): a StringField that also has Search and SearchPhrase. The
// analysis of the field and of the operands is package textsearch's, on every backend.
type TextField[R any] struct{ StringField[R] }

// NewTextField returns the handle for the named searchable text field; generated code calls
// it.
func NewTextField[R any](name string) TextField[R] { return TextField[R]{NewStringField[R](name)} }

// Search is true when the field is present and holds every term of terms after the field's
// analysis (tokenized, lowercased, accents folded, stop words dropped and words stemmed per
// the field's language), in any order. An operand with no terms (empty, or stop words
// only) matches no record.
func (f TextField[R]) Search(terms string) Cond[R] { return f.search(OpSearch, terms) }

// SearchPhrase is true when the field is present and holds the terms of phrase, after the
// field's analysis, next to each other in the phrase's order (a stop word of the phrase
// stands for exactly one word). An operand with no terms matches no record.
func (f TextField[R]) SearchPhrase(phrase string) Cond[R] { return f.search(OpSearchPhrase, phrase) }

func (f TextField[R]) search(op Op, s string) Cond[R] {
	if _, err := normString(s); err != nil {
		return Cond[R]{e: Expr{Op: op, Field: f.name}, err: fieldErr(f.name, op, err)}
	}
	return Cond[R]{e: Expr{Op: op, Field: f.name, Args: []any{s}}}
}

// IsSearch reports whether o is a full-text operator (SEARCH, SEARCH_PHRASE).
func (o Op) IsSearch() bool { return o == OpSearch || o == OpSearchPhrase }

// RankedSearches returns the search conditions of filter that relevance ranks by, in order:
// every SEARCH and SEARCH_PHRASE atom under an even number of NOTs (a negated search
// selects the records that lack the terms, so it does not rank them). A record's relevance
// is the sum of its scores for the ranked conditions it matches; a condition it does not
// match (a branch of an OR) adds nothing.
func RankedSearches(filter Expr) []Expr {
	var out []Expr
	var walk func(e Expr, negated bool)
	walk = func(e Expr, negated bool) {
		switch {
		case e.Op == OpNot:
			for _, s := range e.Sub {
				walk(s, !negated)
			}
		case e.Op.IsSearch():
			if !negated {
				out = append(out, e)
			}
		default:
			for _, s := range e.Sub {
				walk(s, negated)
			}
		}
	}
	walk(filter, false)
	return out
}

// HasRelevance reports whether keys hold the relevance key.
func HasRelevance(keys []SortKey) bool {
	for _, k := range keys {
		if k.Relevance {
			return true
		}
	}
	return false
}

// CheckRelevance returns an ErrBadQuery error when spec sorts by relevance but its filter
// has no ranked search condition (RankedSearches), and nil otherwise. Every backend checks
// it, so the error is the same everywhere.
func CheckRelevance(spec *Spec) error {
	if HasRelevance(spec.Sort) && len(RankedSearches(spec.Filter)) == 0 {
		return fmt.Errorf("%w: OrderByRelevance needs a Search or SearchPhrase condition in the filter (outside NOT) to rank by", ErrBadQuery)
	}
	return nil
}
