package query

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// Regex is a validated regular expression in repokit's portable subset, which PostgreSQL
// (POSIX ARE), Elasticsearch (Lucene regexp) and Go all evaluate the same way.
//
// The pattern always matches the whole value (it is implicitly anchored). Accepted syntax:
// literal characters; . (any character, including newline); bracket classes [abc], [a-z],
// [^...]; groups ( ); alternation |; the greedy quantifiers *, +, ? and {n}, {n,}, {n,m};
// and \ followed by a punctuation character, which stands for that character. Rejected,
// with an error naming the construct: anchors ^ and $, escapes followed by a letter or digit
// (\d, \w, \s, \b, \n, \pL, ...), (?...) groups and flags, non-greedy quantifiers, POSIX
// classes such as [[:alpha:]], a { that does not start a valid repetition, empty
// alternatives or groups (|a, a|, a||b, (|a), ()), a - at the start or end of a class or
// right after a range, as in [a-b-c] (write \-), a repetition count over MaxRepetition
// (255), and invalid UTF-8 — each of these is read differently, or refused, by at least one
// backend. The length of a pattern is a portable limit of package repo (MaxRegexBytes).
type Regex struct {
	pattern string
	re      *regexp.Regexp
}

// CompileRegex validates pattern against the portable subset and compiles it.
func CompileRegex(pattern string) (*Regex, error) {
	if err := checkPortable(pattern); err != nil {
		return nil, err
	}
	if _, err := syntax.Parse(pattern, syntax.Perl|syntax.DotNL); err != nil {
		return nil, errorf(ErrBadPattern, "REGEX %q: %v", pattern, err)
	}
	re, err := regexp.Compile(`^(?s:` + pattern + `)$`)
	if err != nil {
		return nil, errorf(ErrBadPattern, "REGEX %q: %v", pattern, err)
	}
	return &Regex{pattern: pattern, re: re}, nil
}

// MustCompileRegex is CompileRegex that panics on error, for patterns known at compile time.
func MustCompileRegex(pattern string) *Regex {
	r, err := CompileRegex(pattern)
	if err != nil {
		panic(err)
	}
	return r
}

// Pattern returns the pattern as written.
func (r *Regex) Pattern() string { return r.pattern }

// Match reports whether the whole of s matches.
func (r *Regex) Match(s string) bool { return r.re.MatchString(s) }

// POSIXPattern renders the pattern as an anchored PostgreSQL advanced regular expression
// for the ~ operator.
func (r *Regex) POSIXPattern() string { return "^(" + r.pattern + ")$" }

// LucenePattern renders the pattern for an Elasticsearch regexp query (which is anchored by
// definition). Characters that are operators only in Lucene's syntax (@ & ~ < > # ") are
// escaped so that they stay literal.
func (r *Regex) LucenePattern() string {
	var b strings.Builder
	p := r.pattern
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '\\' && i+1 < len(p) {
			b.WriteByte(c)
			b.WriteByte(p[i+1])
			i++
			continue
		}
		if strings.IndexByte(`@&~<>#"`, c) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

func checkPortable(p string) error {
	if !utf8.ValidString(p) {
		return errorf(ErrBadPattern, "REGEX %q is not valid UTF-8", p)
	}
	inClass := false
	// In a class: whether the last element ended a range (a-z), and whether a - waits
	// for the end of its range.
	afterRange, inRange := false, false
	element := func() {
		afterRange, inRange = inRange, false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			if i+1 >= len(p) {
				return errorf(ErrBadPattern, "REGEX %q ends with a lone \\", p)
			}
			n := p[i+1]
			if n < utf8.RuneSelf && (isAlnum(n) || n == ' ') {
				return errorf(ErrBadPattern, "REGEX %q: escape \\%c is not in the portable subset (only \\ followed by punctuation is)", p, n)
			}
			if inClass {
				element()
			}
			i++
		case inClass:
			if c == '[' && i+1 < len(p) && (p[i+1] == ':' || p[i+1] == '=' || p[i+1] == '.') {
				return errorf(ErrBadPattern, "REGEX %q: POSIX classes like [[:alpha:]] are not in the portable subset", p)
			}
			if c == '-' && (p[i-1] == '[' || p[i-1] == '^' && p[i-2] == '[' || i+1 < len(p) && p[i+1] == ']') {
				return errorf(ErrBadPattern, "REGEX %q: a - at the start or end of a class is read differently by the backends; write it as \\-", p)
			}
			switch {
			case c == ']':
				inClass = false
			case c == '-' && afterRange:
				return errorf(ErrBadPattern, "REGEX %q: a - right after a range, as in [a-b-c], is read differently by the backends (PostgreSQL refuses it); write it as \\-", p)
			case c == '-':
				inRange = true
			case utf8.RuneStart(c):
				element()
			}
		case c == '[':
			inClass = true
			afterRange, inRange = false, false
			// A ] right after [ or [^ is a literal in POSIX but not in Go: reject it.
			j := i + 1
			if j < len(p) && p[j] == '^' {
				j++
			}
			if j < len(p) && p[j] == ']' {
				return errorf(ErrBadPattern, "REGEX %q: write a literal ] in a class as \\]", p)
			}
			if j < len(p) && p[j] == '[' && j+1 < len(p) && (p[j+1] == ':' || p[j+1] == '=' || p[j+1] == '.') {
				return errorf(ErrBadPattern, "REGEX %q: POSIX classes like [[:alpha:]] are not in the portable subset", p)
			}
			if i+1 < len(p) && p[i+1] == '^' {
				i++ // the negation, not an element
			}
		case c == '^' || c == '$':
			return errorf(ErrBadPattern, "REGEX %q: anchors ^ and $ are not allowed (the pattern always matches the whole value); escape them to match them literally", p)
		case c == '(':
			if i+1 < len(p) && p[i+1] == '?' {
				return errorf(ErrBadPattern, "REGEX %q: (?...) groups and flags are not in the portable subset", p)
			}
			if i+1 < len(p) && (p[i+1] == '|' || p[i+1] == ')') {
				return errorf(ErrBadPattern, "REGEX %q: empty alternatives and groups are read differently by the backends; write (x)? for an optional x", p)
			}
		case c == '|':
			if i == 0 || i+1 == len(p) || p[i+1] == '|' || p[i+1] == ')' {
				return errorf(ErrBadPattern, "REGEX %q: empty alternatives and groups are read differently by the backends; write (x)? for an optional x", p)
			}
		case c == '{':
			j, ok := repetitionEnd(p, i)
			if !ok {
				return errorf(ErrBadPattern, "REGEX %q: { must start a repetition {n}, {n,} or {n,m}; escape it as \\{ to match it literally", p)
			}
			if n := maxCount(p[i+1 : j]); n > MaxRepetition {
				return errorf(ErrBadPattern, "REGEX %q: a repetition count of %d is over %d, the most PostgreSQL takes", p, n, MaxRepetition)
			}
			i = j
			if i+1 < len(p) && p[i+1] == '?' {
				return errorf(ErrBadPattern, "REGEX %q: non-greedy quantifiers are not in the portable subset", p)
			}
		case c == '}':
			return errorf(ErrBadPattern, "REGEX %q: unmatched }; escape it as \\}", p)
		case c == '*' || c == '+' || c == '?':
			if i+1 < len(p) && p[i+1] == '?' {
				return errorf(ErrBadPattern, "REGEX %q: non-greedy quantifiers are not in the portable subset", p)
			}
		}
	}
	if inClass {
		return errorf(ErrBadPattern, "REGEX %q: unterminated [", p)
	}
	return nil
}

// MaxRepetition is the largest count of a repetition {n}, {n,} or {n,m} in a portable
// REGEX: PostgreSQL refuses a larger one ("invalid repetition count(s)").
const MaxRepetition = 255

// maxCount returns the largest number in the "n", "n," or "n,m" of a repetition (a number
// too large for an int counts as MaxRepetition+1).
func maxCount(s string) int {
	most := 0
	for _, part := range strings.Split(s, ",") {
		n := 0
		for _, d := range part {
			n = n*10 + int(d-'0')
			if n > MaxRepetition {
				return MaxRepetition + 1
			}
		}
		most = max(most, n)
	}
	return most
}

// repetitionEnd returns the index of the } closing a valid {n}, {n,} or {n,m} at p[i].
func repetitionEnd(p string, i int) (int, bool) {
	j := i + 1
	digits := func() int {
		k := j
		for j < len(p) && p[j] >= '0' && p[j] <= '9' {
			j++
		}
		return j - k
	}
	if digits() == 0 {
		return 0, false
	}
	if j < len(p) && p[j] == ',' {
		j++
		digits()
	}
	if j < len(p) && p[j] == '}' {
		return j, true
	}
	return 0, false
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
