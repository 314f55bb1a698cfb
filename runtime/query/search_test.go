package query

import (
	"errors"
	"strings"
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

func TestRankedSearches(t *testing.T) {
	type rec struct{}
	body, title := NewTextField[rec]("body"), NewTextField[rec]("title")
	q := New[rec]().Where(
		body.Search("a"),
		Or(title.SearchPhrase("b"), body.EQ("x")),
		Not(body.Search("c")),
		Not(Not(title.Search("d"))),
	).OrderByRelevance()
	var got []string
	for _, e := range RankedSearches(q.Spec().Filter) {
		got = append(got, e.String())
	}
	want := []string{`body SEARCH "a"`, `title SEARCH_PHRASE "b"`, `title SEARCH "d"`}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("RankedSearches = %q, want %q", got, want)
	}
	s := q.Spec()
	if err := CheckRelevance(&s); err != nil || !HasRelevance(s.Sort) || s.Sort[0] != RelevanceKey() {
		t.Errorf("CheckRelevance = %v, sort %v", err, s.Sort)
	}
	if got := q.String(); !strings.HasSuffix(got, " ORDER BY RELEVANCE") {
		t.Errorf("String() = %s", got)
	}
	for _, bad := range []Query[rec]{
		New[rec]().OrderByRelevance(),
		New[rec]().Where(Not(body.Search("a"))).OrderByRelevance(),
		New[rec]().Where(body.EQ("a")).OrderByRelevance(),
	} {
		s := bad.Spec()
		if err := CheckRelevance(&s); !errors.Is(err, ErrBadQuery) {
			t.Errorf("CheckRelevance(%s) = %v, want ErrBadQuery", bad, err)
		}
	}
}
