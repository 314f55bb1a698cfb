package elasticsearch

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// timeLayout is the readable form of time values: RFC 3339 in UTC with up to six
// fractional digits (values are normalized to microseconds).
const timeLayout = "2006-01-02T15:04:05.999999Z07:00"

// micros returns t as microseconds since the Unix epoch.
func micros(t time.Time) int64 { return t.UnixMicro() }

// codec encodes records into documents and decodes _source back.
type codec[T any] struct {
	desc   *record.Desc[T]
	byKey  map[string]int // JSON key → field index
	hasUS  bool           // the record has time fields (and the mapping _rk.us)
	search []int          // the searchable fields, whose terms go to _rk.s (esdialect.SearchPath)
	// direct: T's json tags name every field as the descriptor does, so _source is decoded
	// with one json.Unmarshal.
	direct bool
	// fast, for a direct T whose fields are all of types it decodes, decodes _mget
	// responses in one pass (see mgetfast.go); nil otherwise.
	fast *fastDec[T]
	// up, when set (WithMigrations), upgrades documents still in an older version's form
	// as they are read (see readupgrade.go).
	up *readUpgrade
	// oldNames[i], when set (WithMigrations, while the state keeps it: migrate.Field.OldName), is the old
	// name under which field i is written too, so that code of the previous version reads
	// what this code writes (see compatNames).
	oldNames []string
}

func newCodec[T any](desc *record.Desc[T]) *codec[T] {
	c := &codec[T]{desc: desc, byKey: make(map[string]int, len(desc.Fields))}
	for i := range desc.Fields {
		c.byKey[desc.Fields[i].JSON] = i
		c.hasUS = c.hasUS || desc.Fields[i].Kind == query.KindTime
		if desc.Fields[i].Search != "" {
			c.search = append(c.search, i)
		}
	}
	c.direct = tagsMatch(desc)
	if c.direct {
		c.fast = newFastDec(desc)
	}
	return c
}

// encode appends the document for rec to b, with the write token tok in _rk.w (see
// esdialect.WriteToken; none when tok is ""). With nulls, absent fields are written as null
// (a partial-update body that clears them). Floats -0 are written as 0, which they equal.
func (c *codec[T]) encode(b []byte, rec *T, nulls bool, tok string) []byte {
	b = append(b, '{')
	first := true
	key := func(k string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, k)
		b = append(b, ':')
	}
	var us []byte
	var has []string
	for i := range c.desc.Fields {
		f := &c.desc.Fields[i]
		start, usStart := len(b), len(us)
		wasFirst := first
		key(f.JSON)
		valStart := len(b)
		present := true
		if f.List {
			switch {
			case f.Strs != nil:
				v := f.Strs(rec)
				present = len(v) > 0
				if present {
					b = append(b, '[')
					for j, s := range v {
						if j > 0 {
							b = append(b, ',')
						}
						b = appendString(b, s)
					}
					b = append(b, ']')
				}
			case f.Ints != nil:
				v := f.Ints(rec)
				present = len(v) > 0
				if present {
					b = append(b, '[')
					for j, x := range v {
						if j > 0 {
							b = append(b, ',')
						}
						b = strconv.AppendInt(b, x, 10)
					}
					b = append(b, ']')
				}
			case f.Floats != nil:
				v := f.Floats(rec)
				present = len(v) > 0
				if present {
					b = append(b, '[')
					for j, x := range v {
						if j > 0 {
							b = append(b, ',')
						}
						b = appendFloat(b, x)
					}
					b = append(b, ']')
				}
			case f.Bools != nil:
				v := f.Bools(rec)
				present = len(v) > 0
				if present {
					b = append(b, '[')
					for j, x := range v {
						if j > 0 {
							b = append(b, ',')
						}
						b = strconv.AppendBool(b, x)
					}
					b = append(b, ']')
				}
			case f.Times != nil:
				v := f.Times(rec)
				present = len(v) > 0
				if present {
					b = append(b, '[')
					us = appendUSKey(us, f.JSON)
					us = append(us, '[')
					for j, x := range v {
						if j > 0 {
							b = append(b, ',')
							us = append(us, ',')
						}
						b = appendTime(b, x)
						us = strconv.AppendInt(us, micros(x), 10)
					}
					b = append(b, ']')
					us = append(us, ']')
				}
			}
		} else {
			switch {
			case f.Str != nil:
				var s string
				s, present = f.Str(rec)
				if present {
					b = appendString(b, s)
				}
			case f.Int != nil:
				var x int64
				x, present = f.Int(rec)
				if present {
					b = strconv.AppendInt(b, x, 10)
				}
			case f.Float != nil:
				var x float64
				x, present = f.Float(rec)
				if present {
					b = appendFloat(b, x)
				}
			case f.Bool != nil:
				var x bool
				x, present = f.Bool(rec)
				if present {
					b = strconv.AppendBool(b, x)
				}
			case f.Time != nil:
				var x time.Time
				x, present = f.Time(rec)
				if present {
					b = appendTime(b, x)
					us = appendUSKey(us, f.JSON)
					us = strconv.AppendInt(us, micros(x), 10)
				}
			case f.Bytes != nil:
				var x []byte
				x, present = f.Bytes(rec)
				if present {
					if f.Kind == query.KindJSON {
						b = append(b, x...)
						has = append(has, f.JSON)
					} else {
						b = append(b, '"')
						b = base64.StdEncoding.AppendEncode(b, x)
						b = append(b, '"')
					}
				}
			}
		}
		if !present {
			if nulls {
				b = append(b, "null"...)
			} else {
				b, first = b[:start], wasFirst
			}
		} else if c.oldNames != nil && c.oldNames[i] != "" {
			// The same value under the old name (and its microseconds for a time field).
			valEnd := len(b)
			key(c.oldNames[i])
			b = append(b, b[valStart:valEnd]...)
			if f.Kind == query.KindJSON {
				has = append(has, c.oldNames[i])
			}
			if len(us) > usStart {
				v := us[usStart+len(appendUSKey(nil, f.JSON)):]
				us = appendUSKey(us, c.oldNames[i])
				us = append(us, v...)
			}
		}
	}
	key(esdialect.MetaField)
	b = append(b, '{')
	if tok != "" {
		b = append(b, `"`+esdialect.WriteToken+`":`...)
		b = appendString(b, tok)
		b = append(b, ',')
	}
	if c.hasUS {
		b = append(b, `"us":{`...)
		if len(us) > 0 {
			b = append(b, us[1:]...) // drop the leading comma
		}
		b = append(b, "},"...)
	}
	if len(c.search) > 0 {
		b = c.appendSearch(b, rec)
	}
	b = append(b, `"has":`...)
	if len(has) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for j, h := range has {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendString(b, h)
		}
		b = append(b, ']')
	}
	b = append(b, "}}"...)
	return b
}

func appendUSKey(us []byte, k string) []byte {
	us = append(us, ',')
	us = appendString(us, k)
	return append(us, ':')
}

func appendFloat(b []byte, x float64) []byte {
	if x == 0 {
		return append(b, '0')
	}
	return strconv.AppendFloat(b, x, 'g', -1, 64)
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, timeLayout)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Strings reaching the codec are valid UTF-8
// (record.Prepare checks them); invalid bytes would be replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// decode fills rec from a _source object. Keys of other fields (and _rk) are skipped; null
// leaves the field missing.
func (c *codec[T]) decode(src []byte, rec *T) error {
	if c.up != nil {
		src = c.up.apply(src)
	}
	if c.direct {
		if err := json.Unmarshal(src, rec); err != nil {
			return fmt.Errorf("elasticsearch: decoding _source: %w", err)
		}
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(src, &m); err != nil {
		return fmt.Errorf("elasticsearch: decoding _source: %w", err)
	}
	for k, raw := range m {
		i, ok := c.byKey[k]
		if !ok || isNull(raw) {
			continue
		}
		if err := json.Unmarshal(raw, c.desc.Addr(rec, i)); err != nil {
			return fmt.Errorf("elasticsearch: decoding field %s of _source: %w", c.desc.Fields[i].Name, err)
		}
	}
	return nil
}

func isNull(raw json.RawMessage) bool {
	return strings.TrimSpace(string(raw)) == "null"
}

// tagsMatch reports whether T is a struct whose encoding/json names are exactly the
// descriptor's JSON names for its fields (as in generated records), with every other
// exported field hidden from JSON (json:"-"), so that json.Unmarshal of a _source fills
// exactly the descriptor's fields.
func tagsMatch[T any](desc *record.Desc[T]) bool {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct {
		return false
	}
	want := make(map[string]string, len(desc.Fields)) // Go name → JSON name
	for i := range desc.Fields {
		want[desc.Fields[i].GoName] = desc.Fields[i].JSON
	}
	seen := 0
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || sf.Anonymous {
			if sf.Anonymous {
				return false
			}
			continue
		}
		tag := sf.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		j, ok := want[sf.Name]
		switch {
		case !ok && tag == "-":
			continue
		case !ok || name != j || j == "-":
			return false
		}
		seen++
	}
	return seen == len(desc.Fields)
}
