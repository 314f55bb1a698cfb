package elasticsearch

import (
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// parser walks the bytes of one response. Its methods return ok false when the input is not
// what fastDec decodes (errBail for the whole response), never an error of their own.
type parser struct {
	b []byte
	i int
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (p *parser) peek() byte {
	p.ws()
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *parser) eat(c byte) bool {
	if p.peek() != c {
		return false
	}
	p.i++
	return true
}

// str reads a string and returns its contents between the quotes, whether it has escapes
// and whether it has bytes beyond ASCII.
func (p *parser) str() (s []byte, esc, high, ok bool) {
	if !p.eat('"') {
		return nil, false, false, false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s = p.b[start:p.i]
			p.i++
			return s, esc, high, true
		case c == '\\':
			esc = true
			if p.i+1 >= len(p.b) {
				return nil, false, false, false
			}
			switch p.b[p.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i += 2
			case 'u':
				if p.i+6 > len(p.b) {
					return nil, false, false, false
				}
				for _, h := range p.b[p.i+2 : p.i+6] {
					if !isHex(h) {
						return nil, false, false, false
					}
				}
				p.i += 6
			default:
				return nil, false, false, false
			}
		case c < 0x20:
			return nil, false, false, false
		default:
			high = high || c >= utf8.RuneSelf
			p.i++
		}
	}
	return nil, false, false, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// num reads a number in JSON's grammar and returns its text and whether it is an integer
// (no fraction, no exponent).
func (p *parser) num() (s []byte, integer, ok bool) {
	p.ws()
	start := p.i
	if p.i < len(p.b) && p.b[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.b) && p.b[p.i] == '0':
		p.i++
	case p.i < len(p.b) && '1' <= p.b[p.i] && p.b[p.i] <= '9':
		p.digits()
	default:
		return nil, false, false
	}
	integer = true
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if !p.digits() {
			return nil, false, false
		}
		integer = false
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if !p.digits() {
			return nil, false, false
		}
		integer = false
	}
	return p.b[start:p.i], integer, true
}

func (p *parser) digits() bool {
	start := p.i
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

// lit reads the literal word (true, false, null) if it is next.
func (p *parser) lit(word string) bool {
	p.ws()
	if !strings.HasPrefix(unsafe.String(unsafe.SliceData(p.b[p.i:]), len(p.b)-p.i), word) {
		return false
	}
	p.i += len(word)
	return true
}

// skip reads any JSON value (checking its grammar) and returns its bytes.
func (p *parser) skip(depth int) ([]byte, bool) {
	if depth > 1000 {
		return nil, false
	}
	c := p.peek()
	start := p.i
	ok := false
	switch c {
	case '"':
		_, _, _, ok = p.str()
	case '{':
		p.i++
		ok = p.eat('}')
		for !ok {
			if _, _, _, ok = p.str(); !ok || !p.eat(':') {
				return nil, false
			}
			if _, ok = p.skip(depth + 1); !ok {
				return nil, false
			}
			if p.eat('}') {
				break
			}
			if ok = p.eat(','); !ok {
				return nil, false
			}
			ok = false
		}
	case '[':
		p.i++
		ok = p.eat(']')
		for !ok {
			if _, ok = p.skip(depth + 1); !ok {
				return nil, false
			}
			if p.eat(']') {
				break
			}
			if ok = p.eat(','); !ok {
				return nil, false
			}
			ok = false
		}
	case 't':
		ok = p.lit("true")
	case 'f':
		ok = p.lit("false")
	case 'n':
		ok = p.lit("null")
	default:
		_, _, ok = p.num()
	}
	if !ok {
		return nil, false
	}
	return p.b[start:p.i], true
}

// int64 reads an integer that fits in int64.
func (p *parser) int64() (int64, bool) {
	s, integer, ok := p.num()
	if !ok || !integer {
		return 0, false
	}
	n, err := strconv.ParseInt(unsafe.String(unsafe.SliceData(s), len(s)), 10, 64)
	return n, err == nil
}
