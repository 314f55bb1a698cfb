package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/repokit/repokit/runtime/query"
)

// The functions below are what generated Prepare functions call; each returns an error
// that describes the value without repeating it in full.

// CheckString reports invalid UTF-8 and NUL characters (query.CheckString, as a value error:
// "string contains a NUL character at byte 3", not a query's). Strings of ASCII without NUL,
// the usual case, pass in one scan, eight bytes at a time.
func CheckString(s string) error {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		// A byte with its high bit set, or a zero byte (Hacker's Delight 6-1), in the word.
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if (w|(w-0x0101010101010101)&^w)&0x8080808080808080 != 0 {
			return valueErr(query.CheckString(s))
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c == 0 || c >= utf8.RuneSelf {
			return valueErr(query.CheckString(s))
		}
	}
	return nil
}

// CheckFloat reports NaN and infinities (query.CheckFloat, as a value error).
func CheckFloat(v float64) error { return valueErr(query.CheckFloat(v)) }

// NormalizeFloat returns v with −0 replaced by +0, which it equals: the round-trip rule of
// docs/semantics.md, since not every backend gives −0 back.
func NormalizeFloat(v float64) float64 {
	if v == 0 {
		return 0
	}
	return v
}

// NormalizeFloatPtr returns p, or a pointer to +0 when p points to −0; it never writes
// through p.
func NormalizeFloatPtr(p *float64) *float64 {
	if p != nil && *p == 0 && math.Signbit(*p) {
		return new(float64)
	}
	return p
}

// NormalizeFloats returns vs with every −0 replaced by +0, copying the slice only when an
// element changes so that the caller's memory is never written.
func NormalizeFloats(vs []float64) []float64 {
	for i, v := range vs {
		if v != 0 || !math.Signbit(v) {
			continue
		}
		out := slices.Clone(vs)
		for j := i; j < len(out); j++ {
			out[j] = NormalizeFloat(out[j])
		}
		return out
	}
	return vs
}

// CompactJSON returns the valid JSON document b without insignificant white space (what
// encoding/json.Compact writes: nothing else is changed, keys keep their order and strings
// their escapes), and nil for an empty b. It returns b itself when b is already compact and
// never writes into b.
func CompactJSON(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	if bytes.IndexAny(b, " \t\n\r") < 0 {
		return b
	}
	var buf bytes.Buffer
	buf.Grow(len(b))
	if json.Compact(&buf, b) != nil || buf.Len() == len(b) {
		return b // invalid JSON is reported by ValidJSON; equal lengths: only spaces in strings
	}
	return buf.Bytes()
}

// valueError is an error of the query package's value checks about a value being written:
// the same text without the "query: " prefix, which would call the write a query, and the same
// kind (errors.Is(err, query.ErrBadValue)).
type valueError struct{ err error }

func (e *valueError) Error() string { return strings.TrimPrefix(e.err.Error(), "query: ") }
func (e *valueError) Unwrap() error { return e.err }

func valueErr(err error) error {
	if err == nil {
		return nil
	}
	return &valueError{err}
}

// CheckUUID reports a string that is not a UUID in canonical form
// (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, lower case).
func CheckUUID(s string) error {
	if !canonicalUUID(s) {
		return fmt.Errorf("%q is not a canonical lower-case UUID", clip(s))
	}
	return nil
}

// canonicalUUID reports whether s is 32 lower-case hex digits grouped 8-4-4-4-12 by
// hyphens: exactly the strings that uuid.Parse accepts and String formats back unchanged,
// checked without allocating.
func canonicalUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}

// CheckEnum reports a value that is not one of the allowed values.
func CheckEnum(v string, allowed []string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return fmt.Errorf("%q is not one of %s", clip(v), strings.Join(allowed, ", "))
}

// NormalizeTime converts t to UTC at microsecond precision.
func NormalizeTime(t time.Time) time.Time { return query.NormalizeTime(t) }

// NormalizeTimes returns ts normalized, copying the slice only when an element changes so
// that the caller's memory is never written.
func NormalizeTimes(ts []time.Time) []time.Time {
	for i, t := range ts {
		n := query.NormalizeTime(t)
		if n.Equal(t) && n.Location() == t.Location() {
			continue
		}
		out := slices.Clone(ts)
		for j := i; j < len(out); j++ {
			out[j] = query.NormalizeTime(out[j])
		}
		return out
	}
	return ts
}

// NewID returns a new record id: a version 7 (time-ordered) UUID.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:61] + "..."
}

// ValidJSON reports whether b is one valid JSON value of valid UTF-8: the rules of
// encoding/json.Valid (surrounding white space allowed, at most 10,000 nested arrays and
// objects) plus utf8.Valid, which encoding/json does not apply to the bytes of strings, so
// that every backend accepts the same documents (PostgreSQL rejects invalid UTF-8 anywhere in
// a value; docs/semantics.md). It checks without encoding/json's per-byte state-function
// calls (about 3× faster on the small documents of JSON fields).
func ValidJSON(b []byte) bool {
	p := jsonChecker{b: b}
	p.space()
	if !p.value(0) {
		return false
	}
	p.space()
	return p.i == len(p.b)
}

// maxJSONDepth is encoding/json's limit on nested arrays and objects.
const maxJSONDepth = 10000

type jsonChecker struct {
	b []byte
	i int
}

func (p *jsonChecker) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// next skips white space and returns the next byte, or 0 at the end (0 is never valid
// where next is used).
func (p *jsonChecker) next() byte {
	p.space()
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// value checks the value at p.i, inside depth arrays and objects.
func (p *jsonChecker) value(depth int) bool {
	if p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; c {
	case '{':
		if depth >= maxJSONDepth {
			return false
		}
		p.i++
		if p.next() == '}' {
			p.i++
			return true
		}
		for {
			if p.next() != '"' || !p.str() || p.next() != ':' {
				return false
			}
			p.i++
			p.space()
			if !p.value(depth + 1) {
				return false
			}
			switch p.next() {
			case ',':
				p.i++
			case '}':
				p.i++
				return true
			default:
				return false
			}
		}
	case '[':
		if depth >= maxJSONDepth {
			return false
		}
		p.i++
		if p.next() == ']' {
			p.i++
			return true
		}
		for {
			p.space()
			if !p.value(depth + 1) {
				return false
			}
			switch p.next() {
			case ',':
				p.i++
			case ']':
				p.i++
				return true
			default:
				return false
			}
		}
	case '"':
		return p.str()
	case 't':
		return p.literal("true")
	case 'f':
		return p.literal("false")
	case 'n':
		return p.literal("null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return p.number()
		}
		return false
	}
}

func (p *jsonChecker) literal(lit string) bool {
	if len(p.b)-p.i < len(lit) || string(p.b[p.i:p.i+len(lit)]) != lit {
		return false
	}
	p.i += len(lit)
	return true
}

// str checks the string starting at p.i (a quote).
func (p *jsonChecker) str() bool {
	p.i++
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return true
		case c == '\\':
			p.i++
			if p.i >= len(p.b) {
				return false
			}
			switch p.b[p.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i++
			case 'u':
				p.i++
				for range 4 {
					if p.i >= len(p.b) || !isHex(p.b[p.i]) {
						return false
					}
					p.i++
				}
			default:
				return false
			}
		case c < 0x20:
			return false
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && n == 1 {
				return false
			}
			p.i += n
		default:
			p.i++
		}
	}
	return false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (p *jsonChecker) digits() bool {
	start := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

// number checks the number starting at p.i: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *jsonChecker) number() bool {
	if p.b[p.i] == '-' {
		p.i++
	}
	if p.i >= len(p.b) {
		return false
	}
	if p.b[p.i] == '0' {
		p.i++
	} else if !p.digits() {
		return false
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if !p.digits() {
			return false
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if !p.digits() {
			return false
		}
	}
	return true
}
