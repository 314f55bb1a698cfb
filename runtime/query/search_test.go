package query

import (
	"errors"
	"testing"
)

func TestSearchHandles(t *testing.T) {
	type rec struct{}
	f := NewTextField[rec]("body")
	c := f.Search("Running fox")
	if c.Err() != nil || c.Expr().Op != OpSearch || c.Expr().Field != "body" || c.Expr().Args[0] != "Running fox" {
		t.Errorf("Search: %v %v", c, c.Err())
	}
	if got := f.SearchPhrase("quick fox").String(); got != `body SEARCH_PHRASE "quick fox"` {
		t.Errorf("SearchPhrase renders %s", got)
	}
	if err := f.Search("bad\xff").Err(); !errors.Is(err, ErrBadValue) {
		t.Errorf("invalid UTF-8 operand: %v", err)
	}
	for _, op := range []Op{OpSearch, OpSearchPhrase} {
		if p, err := ParseOp(op.String()); err != nil || p != op || !op.IsSearch() {
			t.Errorf("ParseOp(%s) = %v, %v", op, p, err)
		}
	}
	if OpEQ.IsSearch() || f.Like("a%").Err() != nil {
		t.Error("EQ is a search operator, or the TextField lost Like")
	}
}
