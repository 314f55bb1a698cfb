package textsearch

import (
	"slices"
	"testing"

	"github.com/kljensen/snowball/english"
)

func TestStopWordsAreSnowballs(t *testing.T) {
	if len(englishWords) != 127 {
		t.Fatalf("%d English stop words, want 127", len(englishWords))
	}
	for _, w := range englishWords {
		if !english.IsStopWord(w) {
			t.Errorf("%q is not a stop word for kljensen/snowball", w)
		}
	}
	if english.IsStopWord("run") || IsStopWord(English, "run") || IsStopWord(Simple, "the") {
		t.Error("run is a stop word, or simple has stop words")
	}
}

func TestTokens(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  ,;", nil},
		{"Café au LAIT", []string{"cafe", "au", "lait"}},
		{"well-known foo@bar.com x_y", []string{"well", "known", "foo", "bar", "com", "x", "y"}},
		{"Ünïcödé1990s ÉCOLE", []string{"unicode1990s", "ecole"}},
		{"re\u0301sume\u0301", []string{"re", "sume"}}, // a decomposed accent separates tokens, as on PostgreSQL and Elasticsearch
		{"日本語 テキスト", []string{"日本語", "テキスト"}},
	} {
		if got := Tokens(c.in); !slices.Equal(got, c.want) {
			t.Errorf("Tokens(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestDocumentAndOperand(t *testing.T) {
	if got, want := Document(English, "The runners were Running; it runs"), []string{"the", "runner", "were", "run", "it", "run"}; !slices.Equal(got, want) {
		t.Errorf("Document = %q, want %q", got, want)
	}
	if got, want := Document(Simple, "The Running"), []string{"the", "running"}; !slices.Equal(got, want) {
		t.Errorf("simple Document = %q, want %q", got, want)
	}
	if got, want := Operand(English, "quick THE foxes 3s"), []Term{{"quick", 0}, {"fox", 2}, {"3s", 3}}; !slices.Equal(got, want) {
		t.Errorf("Operand = %v, want %v", got, want)
	}
	if got := Operand(English, "the of and"); got != nil {
		t.Errorf("stop words only: %v, want none", got)
	}
}

func TestMatch(t *testing.T) {
	doc := Document(English, "The quick brown fox jumps over the lazy dog")
	for _, c := range []struct {
		q           string
		all, phrase bool
	}{
		{"fox", true, true},
		{"dog fox", true, false},
		{"fox dog", true, false},
		{"quick brown", true, true},
		{"brown quick", true, false},
		{"foxes jumping", true, true},
		{"jumping foxes", true, false},
		{"fox jumps the lazy", true, false}, // one stop word stands for exactly one token
		{"jumps over the lazy", true, true}, // stop words count as positions
		{"jumps the the lazy", true, true},  // "over" and "the" are both stop words
		{"cat", false, false},
		{"the", false, false},
		{"", false, false},
	} {
		q := Operand(English, c.q)
		if got := MatchAll(doc, q); got != c.all {
			t.Errorf("MatchAll(%q) = %v, want %v", c.q, got, c.all)
		}
		if got := MatchPhrase(doc, q); got != c.phrase {
			t.Errorf("MatchPhrase(%q) = %v, want %v", c.q, got, c.phrase)
		}
	}
}

func TestScore(t *testing.T) {
	doc := Document(English, "apple pie with apple cream and an apple pie")
	for _, c := range []struct {
		q           string
		all, phrase float64
	}{
		{"apple", 3.0 / 9, 3.0 / 9},
		{"apple pie", 5.0 / 9, 2 * 2.0 / 9},  // every token that is a term; "apple pie" twice
		{"pies apples", 5.0 / 9, 0},          // stemmed; the phrase is not there in this order
		{"pie with apple", 5.0 / 9, 2.0 / 9}, // "with" is a stop word: one position
		{"apple pear", 0, 0},                 // not every term: no match, no score
		{"the", 0, 0},
	} {
		q := Operand(English, c.q)
		if got := ScoreAll(doc, q); got != c.all {
			t.Errorf("ScoreAll(%q) = %v, want %v", c.q, got, c.all)
		}
		if got := ScorePhrase(doc, q); got != c.phrase {
			t.Errorf("ScorePhrase(%q) = %v, want %v", c.q, got, c.phrase)
		}
	}
	short, long := Document(English, "apple apple"), Document(English, "apple apple and many other words")
	if q := Operand(English, "apple"); ScoreAll(short, q) <= ScoreAll(long, q) {
		t.Error("a shorter text with as many occurrences does not score higher")
	}
}
