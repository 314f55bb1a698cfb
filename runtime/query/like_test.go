package query_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/query"
)

func TestParseLikeParts(t *testing.T) {
	lit := func(s string) query.LikePart { return query.LikePart{Kind: query.LikeLiteral, Text: s} }
	one := query.LikePart{Kind: query.LikeOne}
	anyp := query.LikePart{Kind: query.LikeAny}
	tests := []struct {
		pattern string
		want    []query.LikePart
	}{
		{"", nil},
		{"abc", []query.LikePart{lit("abc")}},
		{"%", []query.LikePart{anyp}},
		{"%%%", []query.LikePart{anyp}}, // consecutive % merge
		{"a%b", []query.LikePart{lit("a"), anyp, lit("b")}},
		{"_", []query.LikePart{one}},
		{"__", []query.LikePart{one, one}},
		{"%_%", []query.LikePart{anyp, one, anyp}},
		{`\%`, []query.LikePart{lit("%")}},
		{`\_`, []query.LikePart{lit("_")}},
		{`\\`, []query.LikePart{lit(`\`)}},
		{`a\%b\_c\\d`, []query.LikePart{lit(`a%b_c\d`)}},
		{`%\%%`, []query.LikePart{anyp, lit("%"), anyp}},
		{"é_日本%😀", []query.LikePart{lit("é"), one, lit("日本"), anyp, lit("😀")}},
	}
	for _, tt := range tests {
		l, err := query.ParseLike(tt.pattern)
		if err != nil {
			t.Errorf("ParseLike(%q): %v", tt.pattern, err)
			continue
		}
		if !slices.Equal(l.Parts(), tt.want) {
			t.Errorf("ParseLike(%q).Parts() = %v, want %v", tt.pattern, l.Parts(), tt.want)
		}
		if l.Pattern() != tt.pattern {
			t.Errorf("Pattern() = %q, want %q", l.Pattern(), tt.pattern)
		}
	}
}

func TestParseLikeErrors(t *testing.T) {
	tests := []struct{ pattern, msg string }{
		{`abc\`, "ends with a lone escape character"},
		{`\`, "ends with a lone escape character"},
		{`\a`, `found \a`},
		{`a\n`, `found \n`},
		{`\é`, `found \é`},
		{"\xff", "not valid UTF-8"},
		{"a\xc3", "not valid UTF-8"},
	}
	for _, tt := range tests {
		_, err := query.ParseLike(tt.pattern)
		if err == nil {
			t.Errorf("ParseLike(%q) accepted", tt.pattern)
			continue
		}
		if !errors.Is(err, query.ErrBadPattern) {
			t.Errorf("ParseLike(%q) error %v does not wrap ErrBadPattern", tt.pattern, err)
		}
		if !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseLike(%q) error %q does not contain %q", tt.pattern, err, tt.msg)
		}
	}
}

func TestLikeMatch(t *testing.T) {
	tests := []struct {
		pattern, value string
		want           bool
	}{
		{"", "", true},
		{"", "a", false},
		{"abc", "abc", true},
		{"abc", "abcd", false},
		{"abc", "ABC", false}, // case-sensitive
		{"%", "", true},
		{"%", "anything", true},
		{"a%", "a", true},
		{"a%", "ba", false},
		{"%a", "ba", true},
		{"%a", "ab", false},
		{"%b%", "abc", true},
		{"%b%", "ac", false},
		{"a%c", "abbbc", true},
		{"a%c", "abbbcd", false},
		{"a%c%", "abbbcd", true},
		{"_", "", false},
		{"_", "a", true},
		{"_", "ab", false},
		{"_", "é", true},   // one code point, two bytes
		{"_", "日", true},   // three bytes
		{"_", "😀", true},   // four bytes
		{"__", "😀", false}, // not two bytes
		{"_%", "", false},
		{"%_", "x", true},
		{"%_%_%", "x", false},
		{"%_%_%", "xy", true},
		{"a_c", "abc", true},
		{"a_c", "a日c", true},
		{"a_c", "ac", false},
		{`\%`, "%", true},
		{`\%`, "a", false},
		{`100\%`, "100%", true},
		{`100\%`, "1000", false},
		{`a\_b`, "a_b", true},
		{`a\_b`, "axb", false},
		{`\\`, `\`, true},
		{`\\%`, `\abc`, true},
		{`\\%`, `abc`, false},
		{`%\\`, `abc\`, true},
		{"é%", "ecole", false}, // no normalization or case folding: é ≠ e
		{"É%", "école", false},
		{"é%", "élan", true},
		{"%日本%", "こんにちは日本語", true},
		{"%日本", "日本語", false},
		{"%😀_", "a😀b", true},
		{"%a%a%a%b", "aaab", true},
		{"%a%a%a%b", "aab", false},
		{"%ab%ab", "abab", true},
		{"%ab%ab", "ababa", false},
		{"%aab", "aaab", true},
		{"a%a", "a", false},
		{"%a_", "aab", true},
		{"%a_b%", "xaxbx", true},
		{"%a_b%", "xaxcx", false},
	}
	for _, tt := range tests {
		l, err := query.ParseLike(tt.pattern)
		if err != nil {
			t.Fatalf("ParseLike(%q): %v", tt.pattern, err)
		}
		if got := l.Match(tt.value); got != tt.want {
			t.Errorf("%q LIKE %q = %v, want %v", tt.value, tt.pattern, got, tt.want)
		}
	}
}

// TestLikeMatchPathological checks that patterns that make a naive recursive matcher take
// exponential time finish (the go test timeout is the backstop).
func TestLikeMatchPathological(t *testing.T) {
	l, err := query.ParseLike(strings.Repeat("%a", 30) + "%b")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Repeat("a", 5000)
	if l.Match(s) {
		t.Errorf("matched a string without b")
	}
	if !l.Match(s + "b") {
		t.Errorf("did not match a string ending in b")
	}
	l2, _ := query.ParseLike(strings.Repeat("%_", 30) + "%x")
	if l2.Match(strings.Repeat("é", 5000)) {
		t.Errorf("matched a string without x")
	}
}

func TestEscapeLike(t *testing.T) {
	for _, s := range []string{"", "abc", "%", "_", `\`, `50%_off\`, `\%\_`, "é%日_本", "'; DROP TABLE x; --"} {
		esc := query.EscapeLike(s)
		l, err := query.ParseLike(esc)
		if err != nil {
			t.Fatalf("ParseLike(EscapeLike(%q)=%q): %v", s, esc, err)
		}
		if !l.Match(s) {
			t.Errorf("EscapeLike(%q)=%q does not match itself", s, esc)
		}
		for _, other := range []string{s + "x", "x" + s, strings.ReplaceAll(s, "%", "x"), strings.ReplaceAll(s, "_", "y")} {
			if other != s && l.Match(other) {
				t.Errorf("EscapeLike(%q)=%q matches %q", s, esc, other)
			}
		}
	}
	if got := query.EscapeLike(`a%b_c\d`); got != `a\%b\_c\\d` {
		t.Errorf("EscapeLike = %q", got)
	}
}

func TestPrefixLike(t *testing.T) {
	tests := []struct {
		prefix, value string
		want          bool
	}{
		{"", "", true},
		{"", "abc", true},
		{"ab", "abc", true},
		{"ab", "ab", true},
		{"ab", "a", false},
		{"50%", "50%off", true},
		{"50%", "500", false}, // % is literal
		{"a_", "a_b", true},
		{"a_", "abb", false}, // _ is literal
		{`\`, `\x`, true},
		{"日", "日本", true},
	}
	for _, tt := range tests {
		l := query.PrefixLike(tt.prefix)
		if got := l.Match(tt.value); got != tt.want {
			t.Errorf("PrefixLike(%q).Match(%q) = %v, want %v", tt.prefix, tt.value, got, tt.want)
		}
		if want := query.EscapeLike(tt.prefix) + "%"; l.Pattern() != want {
			t.Errorf("PrefixLike(%q).Pattern() = %q, want %q", tt.prefix, l.Pattern(), want)
		}
		// Its parts equal those of parsing its pattern.
		p, err := query.ParseLike(l.Pattern())
		if err != nil || !slices.Equal(p.Parts(), l.Parts()) {
			t.Errorf("PrefixLike(%q).Parts() = %v, ParseLike gives %v (%v)", tt.prefix, l.Parts(), p.Parts(), err)
		}
	}
}

func TestZeroLike(t *testing.T) {
	var l query.Like
	if !l.Match("") || l.Match("a") {
		t.Errorf("the zero Like must match only the empty string")
	}
}
