// Package textsearch is repokit's full-text analysis, defined once in Go: what a searchable
// text field's value and a Search or SearchPhrase operand become before they are compared.
// The memory and S3 backends evaluate full-text conditions with it (through package eval);
// the PostgreSQL and Elasticsearch backends build their queries from its terms and index
// with server-side analyzers configured to give the same terms (see docs/semantics.md,
// "Full-text").
//
// The analysis of a text, for every language:
//
//  1. tokenize: a token is a maximal run of letters (Unicode L) and decimal digits (Nd);
//     every other character separates tokens;
//  2. lowercase (unicode.ToLower, rune by rune);
//  3. fold accents: Unicode NFD, remove non-spacing marks (Mn), NFC ("Café" → "cafe");
//  4. for English only: a token without digits is stemmed with the Snowball English
//     (Porter2) stemmer of github.com/kljensen/snowball; tokens with digits are kept as they
//     are. Stop words (StopWords) are removed from search operands only: a document keeps
//     every token, so positions, and therefore phrases, count the stop words.
//
// "simple" stops after step 3: no stop words, no stemming.
package textsearch

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"golang.org/x/text/unicode/norm"
)

// Language is the analysis of a searchable field, as the schema's search key names it.
type Language string

// The languages.
const (
	English Language = "english" // tokenize, lowercase, fold; English stop words and Snowball English stemming
	Simple  Language = "simple"  // tokenize, lowercase, fold; no stop words, no stemming
)

// Languages lists the supported languages, in the order error messages name them.
func Languages() []Language { return []Language{English, Simple} }

// Valid reports whether lang is a supported language.
func Valid(lang string) bool { return slices.Contains(Languages(), Language(lang)) }

// Tokens returns the tokens of s after steps 1 to 3 of the analysis (tokenize, lowercase,
// fold accents), in order.
func Tokens(s string) []string {
	var out []string
	start := -1
	for i, r := range s {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, normalize(s[start:i]))
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, normalize(s[start:]))
	}
	return out
}

// isWordRune reports whether r belongs to a token: a letter or a decimal digit.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// normalize lowercases tok and folds its accents.
func normalize(tok string) string {
	ascii := true
	for i := 0; i < len(tok); i++ {
		if tok[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(tok)
	}
	lower := strings.Map(unicode.ToLower, tok)
	d := norm.NFD.String(lower)
	var b strings.Builder
	b.Grow(len(d))
	for _, r := range d {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return norm.NFC.String(b.String())
}

// hasDigit reports whether tok holds a decimal digit.
func hasDigit(tok string) bool {
	for _, r := range tok {
		if unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// stem returns the term of one normalized token in lang.
func stem(lang Language, tok string) string {
	if lang != English || hasDigit(tok) {
		return tok
	}
	return english.Stem(tok, true)
}

// IsStopWord reports whether the normalized token tok is a stop word of lang.
func IsStopWord(lang Language, tok string) bool {
	if lang != English {
		return false
	}
	_, ok := englishStop[tok]
	return ok
}

// Document returns the terms of a stored text, one per token, in order: a term's index in
// the result is its position. Stop words are kept (stemmed like any word).
func Document(lang Language, text string) []string {
	toks := Tokens(text)
	for i, t := range toks {
		toks[i] = stem(lang, t)
	}
	return toks
}

// Term is one term of a search operand and its position among the operand's tokens
// (stop words count).
type Term struct {
	Text string
	Pos  int
}

// Operand returns the terms of a Search or SearchPhrase operand: every token that is not a
// stop word, stemmed, with its position. No terms (an empty operand, or stop words only)
// means the condition matches no record, on every backend.
func Operand(lang Language, text string) []Term {
	var out []Term
	for i, t := range Tokens(text) {
		if IsStopWord(lang, t) {
			continue
		}
		out = append(out, Term{Text: stem(lang, t), Pos: i})
	}
	return out
}

// MatchAll reports whether doc (from Document) holds every term of q; false when q is empty.
func MatchAll(doc []string, q []Term) bool {
	if len(q) == 0 {
		return false
	}
	for _, t := range q {
		if !slices.Contains(doc, t.Text) {
			return false
		}
	}
	return true
}

// MatchPhrase reports whether doc holds the terms of q at the same relative positions (a
// stop word of the operand stands for any one token); false when q is empty.
func MatchPhrase(doc []string, q []Term) bool { return phrases(doc, q, true) > 0 }

// phrases counts the positions of doc where the terms of q start at their relative
// positions (0 when q is empty); with first it stops at the first one.
func phrases(doc []string, q []Term, first bool) int {
	if len(q) == 0 {
		return 0
	}
	n := 0
	span := q[len(q)-1].Pos - q[0].Pos
	for start := 0; start+span < len(doc); start++ {
		ok := true
		for _, t := range q {
			if doc[start+t.Pos-q[0].Pos] != t.Text {
				ok = false
				break
			}
		}
		if ok {
			n++
			if first {
				break
			}
		}
	}
	return n
}

// Relevance scores, as the memory and S3 backends rank records by (PostgreSQL and
// Elasticsearch rank with their own functions; see docs/semantics.md, "Relevance"). Both
// are a term frequency normalized by the document's length, so that a text holding the
// terms more often, or a shorter text holding them as often, ranks higher.

// ScoreAll is the relevance of doc (from Document) for a Search operand q: 0 when doc does
// not hold every term of q (MatchAll), else the number of doc's tokens that equal some term
// of q divided by the number of doc's tokens (stop words count), a number in (0, 1].
func ScoreAll(doc []string, q []Term) float64 {
	if !MatchAll(doc, q) {
		return 0
	}
	n := 0
	for _, d := range doc {
		for _, t := range q {
			if d == t.Text {
				n++
				break
			}
		}
	}
	return float64(n) / float64(len(doc))
}

// ScorePhrase is the relevance of doc for a SearchPhrase operand q: 0 when doc does not
// hold the phrase (MatchPhrase), else the number of positions where it starts times the
// number of terms of q, divided by the number of doc's tokens.
func ScorePhrase(doc []string, q []Term) float64 {
	n := phrases(doc, q, false)
	if n == 0 {
		return 0
	}
	return float64(n*len(q)) / float64(len(doc))
}
