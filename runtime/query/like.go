package query

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// LikePart is one element of a parsed LIKE pattern.
type LikePart struct {
	Kind LikePartKind
	Text string // the literal text, for LikeLiteral
}

// LikePartKind tells what a LikePart matches.
type LikePartKind uint8

// LIKE pattern parts.
const (
	LikeLiteral LikePartKind = iota + 1 // literal text
	LikeOne                             // _ : exactly one character
	LikeAny                             // % : any sequence, possibly empty
)

// Like is a parsed, validated LIKE pattern. The zero Like matches only the empty string.
type Like struct {
	pattern string
	parts   []LikePart
}

// ErrBadPattern is wrapped by errors for malformed LIKE and REGEX patterns.
var ErrBadPattern = errors.New("query: bad pattern")

// ParseLike parses a LIKE pattern: % matches any sequence, _ one character, and \ escapes
// the next %, _ or \. Any other escape, a trailing \ and invalid UTF-8 are errors.
func ParseLike(pattern string) (Like, error) {
	if !utf8.ValidString(pattern) {
		return Like{}, errorf(ErrBadPattern, "LIKE pattern %q is not valid UTF-8", pattern)
	}
	l := Like{pattern: pattern}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			l.parts = append(l.parts, LikePart{Kind: LikeLiteral, Text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch c {
		case '\\':
			if i+1 >= len(pattern) {
				return Like{}, errorf(ErrBadPattern, "LIKE pattern %q ends with a lone escape character \\", pattern)
			}
			n := pattern[i+1]
			if n != '%' && n != '_' && n != '\\' {
				r, _ := utf8.DecodeRuneInString(pattern[i+1:])
				return Like{}, errorf(ErrBadPattern, "LIKE pattern %q: \\ may only escape %%, _ or \\ (found \\%c)", pattern, r)
			}
			lit.WriteByte(n)
			i++
		case '%':
			flush()
			if k := len(l.parts); k == 0 || l.parts[k-1].Kind != LikeAny {
				l.parts = append(l.parts, LikePart{Kind: LikeAny})
			}
		case '_':
			flush()
			l.parts = append(l.parts, LikePart{Kind: LikeOne})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return l, nil
}

// PrefixLike returns the pattern matching every string that starts with prefix.
func PrefixLike(prefix string) Like {
	l := Like{pattern: EscapeLike(prefix) + "%"}
	if prefix != "" {
		l.parts = append(l.parts, LikePart{Kind: LikeLiteral, Text: prefix})
	}
	l.parts = append(l.parts, LikePart{Kind: LikeAny})
	return l
}

// EscapeLike escapes %, _ and \ so that s matches only itself in a LIKE pattern.
func EscapeLike(s string) string {
	if !strings.ContainsAny(s, `%_\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '%', '_', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Pattern returns the pattern as written.
func (l Like) Pattern() string { return l.pattern }

// Parts returns the parsed pattern; consecutive % are merged. Backends render it with their
// own escaping.
func (l Like) Parts() []LikePart { return l.parts }

// Match reports whether the whole of s matches the pattern.
func (l Like) Match(s string) bool { return likeMatch(l.parts, s) }

// likeMatch matches s against parts with the classic wildcard algorithm: on a mismatch it
// backtracks only to the most recent %, letting that % absorb one more character. This is
// correct because a later % can absorb anything an earlier one could, and it runs in
// O(len(s)·len(parts)) time whatever the pattern (a recursive matcher is exponential on
// patterns such as %a%a%a%a%b).
func likeMatch(parts []LikePart, s string) bool {
	pi, si := 0, 0
	star, starSi := -1, 0 // index of the last % seen and where its match currently ends
	for {
		if pi < len(parts) {
			p := parts[pi]
			switch p.Kind {
			case LikeAny:
				if pi == len(parts)-1 {
					return true // a trailing % matches the rest
				}
				star, starSi = pi, si
				pi++
				// Fast path: % followed by a literal skips to the literal's next occurrence.
				if n := parts[pi]; n.Kind == LikeLiteral {
					i := strings.Index(s[si:], n.Text)
					if i < 0 {
						return false
					}
					si += i
					starSi = si
				}
				continue
			case LikeLiteral:
				if strings.HasPrefix(s[si:], p.Text) {
					si += len(p.Text)
					pi++
					continue
				}
			case LikeOne:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					pi++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		// Mismatch: let the last % absorb one more character and retry after it.
		if star < 0 || starSi >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starSi:])
		starSi += n
		si, pi = starSi, star+1
		if p := parts[pi]; p.Kind == LikeLiteral {
			i := strings.Index(s[si:], p.Text)
			if i < 0 {
				return false
			}
			si += i
			starSi = si
		}
	}
}
