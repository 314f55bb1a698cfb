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
				return Like{}, errorf(ErrBadPattern, "LIKE pattern %q: \\ may only escape %%, _ or \\ (found \\%c)", pattern, n)
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

func likeMatch(parts []LikePart, s string) bool {
	for len(parts) > 0 {
		p := parts[0]
		switch p.Kind {
		case LikeLiteral:
			if !strings.HasPrefix(s, p.Text) {
				return false
			}
			s = s[len(p.Text):]
			parts = parts[1:]
		case LikeOne:
			if s == "" {
				return false
			}
			_, n := utf8.DecodeRuneInString(s)
			s = s[n:]
			parts = parts[1:]
		case LikeAny:
			parts = parts[1:]
			if len(parts) == 0 {
				return true
			}
			// Fast path: a literal followed by nothing else must be a suffix.
			if len(parts) == 1 && parts[0].Kind == LikeLiteral {
				return strings.HasSuffix(s, parts[0].Text)
			}
			for {
				if likeMatch(parts, s) {
					return true
				}
				if s == "" {
					return false
				}
				if parts[0].Kind == LikeLiteral {
					i := strings.Index(s[1:], parts[0].Text)
					if i < 0 {
						return false
					}
					s = s[1+i:]
					continue
				}
				_, n := utf8.DecodeRuneInString(s)
				s = s[n:]
			}
		}
	}
	return s == ""
}
