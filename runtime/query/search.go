package query

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
