package elasticsearch

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/record"
)

// GetMany's one-pass decoder of an _mget response, for records whose _source decodes with
// one json.Unmarshal (codec.direct). encoding/json reads the response twice (a pass to find
// the end of the value, then a decoding pass that scans it again and goes through
// reflection for every field), about two thirds of the client's CPU for a batch. fastDec
// walks the bytes once and writes each _source field at its offset in the record.
//
// It takes only the plain forms of values, whose meaning under encoding/json is simple:
// strings without escapes and in valid UTF-8, integers without a fraction or exponent that
// fit in int64, true/false, time strings (passed to time.Time.UnmarshalJSON as
// encoding/json passes them), and arrays of those. Anything else falls back to
// encoding/json with exactly the old result: a string with escapes or invalid UTF-8 is
// decoded by json.Unmarshal on its own; a _source with an unknown key (drift, or a key
// differing only in case), a repeated key, a null list element or a value of another type
// is decoded in full by codec.decode, as Get does; an envelope that is not the usual one
// (or not valid JSON) is decoded by encoding/json as a whole (errBail).

// fkind is the kind of a field value fastDec decodes.
type fkind uint8

const (
	fString fkind = iota + 1 // a string kind (string or a named string type)
	fInt                     // an int64 kind
	fFloat                   // a float64 kind
	fBool                    // a bool kind
	fTime                    // time.Time (through its UnmarshalJSON)
	fRaw                     // json.RawMessage (a copy of the raw value)
	fBytes                   // a []byte kind (base64, as encoding/json)
)

// ffield is one field of T as fastDec writes it: a V, a *V (ptr) or a []V (list) at off.
type ffield struct {
	off  uintptr
	kind fkind
	ptr  bool
	list bool
}

// fastDec decodes _mget responses for T; nil when T has a field of another type.
type fastDec[T any] struct {
	byKey  map[string]int // JSON key → index into fields
	fields []ffield
}

var (
	timeType        = reflect.TypeFor[time.Time]()
	rawType         = reflect.TypeFor[json.RawMessage]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// newFastDec returns the decoder for T, or nil when a field of T is not of a type it
// decodes the way encoding/json does (or T has more than 64 fields, or a field's JSON key
// matches the metadata key _rk ignoring case, or its tag asks for ",string").
func newFastDec[T any](desc *record.Desc[T]) *fastDec[T] {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct || len(desc.Fields) > 64 {
		return nil
	}
	fd := &fastDec[T]{byKey: make(map[string]int, len(desc.Fields))}
	for i := range desc.Fields {
		f := &desc.Fields[i]
		sf, ok := t.FieldByName(f.GoName)
		if !ok || len(sf.Index) != 1 || strings.EqualFold(f.JSON, esdialect.MetaField) {
			return nil
		}
		if _, opts, _ := strings.Cut(sf.Tag.Get("json"), ","); strings.Contains(","+opts+",", ",string,") {
			return nil
		}
		ff, ok := fieldOf(sf.Type)
		if !ok {
			return nil
		}
		ff.off = sf.Offset
		fd.byKey[f.JSON] = len(fd.fields)
		fd.fields = append(fd.fields, ff)
	}
	return fd
}

// fieldOf returns how a field of type t is decoded.
func fieldOf(t reflect.Type) (ffield, bool) {
	var ff ffield
	switch {
	case t == rawType:
		ff.kind = fRaw
		return ff, true
	case t.Kind() == reflect.Pointer:
		ff.ptr = true
		t = t.Elem()
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		if custom(t) || custom(t.Elem()) {
			return ff, false
		}
		ff.kind = fBytes
		return ff, true
	case t.Kind() == reflect.Slice:
		ff.list = true
		t = t.Elem()
	}
	if t == timeType {
		ff.kind = fTime
		return ff, true
	}
	if custom(t) {
		return ff, false
	}
	switch t.Kind() {
	case reflect.String:
		ff.kind = fString
	case reflect.Int64:
		ff.kind = fInt
	case reflect.Float64:
		ff.kind = fFloat
	case reflect.Bool:
		ff.kind = fBool
	default:
		return ff, false
	}
	return ff, true
}

// custom reports whether encoding/json decodes t with methods of its own.
func custom(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshaler) || p.Implements(jsonUnmarshaler) || t.Implements(textUnmarshaler) || p.Implements(textUnmarshaler)
}

// fastDoc is one document of an _mget response as fastDec reads it.
type fastDoc struct {
	found     bool
	seq, term int64
	err       json.RawMessage
	done      bool   // the _source was decoded in place
	slow      []byte // a _source fastDec declined, for codec.decode (a slice of the response)
}

// decode reads an _mget response for ids: each document's _source straight into recs[k]
// (set to the zero T first), the rest into docs[k]. When it returns false the response is
// not one it decodes (recs may then be partly written): the caller decodes it with
// encoding/json.
func (fd *fastDec[T]) decode(b []byte, ids []string, recs []T, docs []fastDoc) bool {
	p := &parser{b: b}
	if !p.eat('{') || p.peek() == '}' {
		return false
	}
	sawDocs := false
	for {
		key, esc, high, ok := p.str()
		if !ok || esc || !p.eat(':') {
			return false
		}
		switch {
		case string(key) == "docs":
			if sawDocs || !fd.docs(p, ids, recs, docs) {
				return false
			}
			sawDocs = true
		case high || strings.EqualFold(string(key), "docs"):
			return false
		default:
			if _, ok := p.skip(0); !ok {
				return false
			}
		}
		if p.eat('}') {
			return sawDocs
		}
		if !p.eat(',') {
			return false
		}
	}
}

// docs reads the docs array: one document per id, in order.
func (fd *fastDec[T]) docs(p *parser, ids []string, recs []T, docs []fastDoc) bool {
	if !p.eat('[') {
		return false
	}
	k := 0
	if !p.eat(']') {
		for {
			if k >= len(ids) || !fd.doc(p, ids[k], &recs[k], &docs[k]) {
				return false
			}
			k++
			if p.eat(']') {
				break
			}
			if !p.eat(',') {
				return false
			}
		}
	}
	return k == len(ids)
}

// docKeys are the keys of an _mget document that GetMany reads.
var docKeys = [...]string{"_id", "found", "_seq_no", "_primary_term", "_source", "error"}

// doc reads one document, which must have the given id.
func (fd *fastDec[T]) doc(p *parser, id string, rec *T, doc *fastDoc) bool {
	if !p.eat('{') || p.peek() == '}' {
		return false
	}
	var seen uint8
	for {
		key, esc, high, ok := p.str()
		if !ok || esc || !p.eat(':') {
			return false
		}
		var bit uint8
		switch string(key) {
		case "_id":
			bit = 1
			s, esc, _, ok := p.str()
			if !ok || esc || string(s) != id {
				return false
			}
		case "found":
			bit = 2
			if p.lit("true") {
				doc.found = true
			} else if !p.lit("false") {
				return false
			}
		case "_seq_no":
			bit = 4
			if doc.seq, ok = p.int64(); !ok {
				return false
			}
		case "_primary_term":
			bit = 8
			if doc.term, ok = p.int64(); !ok {
				return false
			}
		case "_source":
			bit = 16
			if !fd.source(p, rec, doc) {
				return false
			}
		case "error":
			bit = 32
			raw, ok := p.skip(0)
			if !ok {
				return false
			}
			doc.err = append(json.RawMessage(nil), raw...)
		default:
			if high {
				return false
			}
			for _, k := range docKeys {
				if strings.EqualFold(string(key), k) {
					return false
				}
			}
			if _, ok := p.skip(0); !ok {
				return false
			}
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		if p.eat('}') {
			return seen&1 != 0
		}
		if !p.eat(',') {
			return false
		}
	}
}

// source reads a _source into *rec, or, when fastDec declines it, keeps its bytes in
// doc.slow for codec.decode (with *rec zero).
func (fd *fastDec[T]) source(p *parser, rec *T, doc *fastDoc) bool {
	var zero T
	*rec = zero
	if p.peek() == '{' {
		start := p.i
		if fd.record(p, rec) {
			doc.done = true
			return true
		}
		*rec = zero
		p.i = start
	}
	raw, ok := p.skip(0)
	doc.slow = raw
	return ok
}

// record reads a _source object into *rec; false when it has a key that is not a field of
// T or _rk, a key twice, or a value fastDec does not decode.
func (fd *fastDec[T]) record(p *parser, rec *T) bool {
	p.i++ // '{'
	if p.eat('}') {
		return true
	}
	base := unsafe.Pointer(rec)
	var seen uint64
	for {
		key, esc, _, ok := p.str()
		if !ok || esc || !p.eat(':') {
			return false
		}
		if j, known := fd.byKey[string(key)]; known {
			if seen&(1<<j) != 0 {
				return false
			}
			seen |= 1 << j
			f := &fd.fields[j]
			if !f.decode(p, unsafe.Add(base, f.off)) {
				return false
			}
		} else {
			if string(key) != esdialect.MetaField {
				return false
			}
			if _, ok := p.skip(0); !ok {
				return false
			}
		}
		if p.eat('}') {
			return true
		}
		if !p.eat(',') {
			return false
		}
	}
}

// decode reads the field's value into the field at at, as encoding/json would.
func (f *ffield) decode(p *parser, at unsafe.Pointer) bool {
	if p.peek() == 'n' {
		if !p.lit("null") {
			return false
		}
		if f.kind == fRaw && !f.ptr && !f.list {
			*(*json.RawMessage)(at) = json.RawMessage("null") // RawMessage.UnmarshalJSON("null")
		}
		// Otherwise null leaves a value unchanged and sets a pointer or a slice to nil:
		// the field stays zero.
		return true
	}
	switch {
	case f.list:
		switch f.kind {
		case fString:
			return list[string](p, f.kind, at)
		case fInt:
			return list[int64](p, f.kind, at)
		case fFloat:
			return list[float64](p, f.kind, at)
		case fBool:
			return list[bool](p, f.kind, at)
		case fTime:
			return list[time.Time](p, f.kind, at)
		}
		return false
	case f.ptr:
		var q unsafe.Pointer
		switch f.kind {
		case fString:
			q = unsafe.Pointer(new(string))
		case fInt:
			q = unsafe.Pointer(new(int64))
		case fFloat:
			q = unsafe.Pointer(new(float64))
		case fBool:
			q = unsafe.Pointer(new(bool))
		case fTime:
			q = unsafe.Pointer(new(time.Time))
		default:
			return false
		}
		if !scalar(p, f.kind, q) {
			return false
		}
		*(*unsafe.Pointer)(at) = q
		return true
	}
	return scalar(p, f.kind, at)
}

// list reads an array of V (a non-nil empty slice for [], as encoding/json).
func list[V any](p *parser, kind fkind, at unsafe.Pointer) bool {
	if !p.eat('[') {
		return false
	}
	out := []V{}
	if !p.eat(']') {
		for {
			if p.peek() == 'n' {
				return false
			}
			var zero V
			out = append(out, zero)
			if !scalar(p, kind, unsafe.Pointer(&out[len(out)-1])) {
				return false
			}
			if p.eat(']') {
				break
			}
			if !p.eat(',') {
				return false
			}
		}
	}
	*(*[]V)(at) = out
	return true
}

// scalar reads one value of the kind into at.
func scalar(p *parser, kind fkind, at unsafe.Pointer) bool {
	switch kind {
	case fString:
		p.ws()
		start := p.i
		s, esc, high, ok := p.str()
		if !ok {
			return false
		}
		if esc || high && !utf8.Valid(s) {
			// Escapes and invalid UTF-8 (each bad byte becomes U+FFFD): encoding/json's.
			return json.Unmarshal(p.b[start:p.i], (*string)(at)) == nil
		}
		*(*string)(at) = string(s)
	case fInt:
		n, ok := p.int64()
		if !ok {
			return false
		}
		*(*int64)(at) = n
	case fFloat:
		s, _, ok := p.num()
		if !ok {
			return false
		}
		x, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(s), len(s)), 64)
		if err != nil {
			return false
		}
		*(*float64)(at) = x
	case fBool:
		switch {
		case p.lit("true"):
			*(*bool)(at) = true
		case p.lit("false"):
			*(*bool)(at) = false
		default:
			return false
		}
	case fTime:
		p.ws()
		start := p.i
		if _, _, _, ok := p.str(); !ok {
			return false
		}
		return (*time.Time)(at).UnmarshalJSON(p.b[start:p.i]) == nil
	case fRaw:
		raw, ok := p.skip(0)
		if !ok {
			return false
		}
		*(*json.RawMessage)(at) = append(json.RawMessage(nil), raw...)
	case fBytes:
		s, esc, _, ok := p.str()
		if !ok || esc {
			return false
		}
		b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
		n, err := base64.StdEncoding.Decode(b, s)
		if err != nil {
			return false
		}
		*(*[]byte)(at) = b[:n]
	default:
		return false
	}
	return true
}
