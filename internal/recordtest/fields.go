package recordtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/textsearch"
)

// ErrBadStruct is what New's errors wrap when the record type or its tags cannot describe
// a record.
var ErrBadStruct = errors.New("recordtest: cannot describe the struct")

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// spec is one schema field of the struct: where it is and what its tag says.
type spec struct {
	goName       string
	index        []int        // reflect index path (through embedded structs)
	typ          reflect.Type // the struct field's type
	elem         reflect.Type // the value type: typ, or its element for a pointer or list
	name         string
	json, column string
	kind         query.Kind
	kindSet      bool // the tag names the kind
	list         bool // a slice of scalars (not bytes or json)
	ptr          bool // a pointer to a scalar
	optional     bool // may be missing: always for lists, bytes and json (missing when empty)
	required     bool // a list, bytes or json value that Prepare refuses empty
	unique       bool
	indexed      bool
	enum         []string
	search       string
	def          reflect.Value // default of a pointer field (of type elem), or invalid
}

// layout is what New reads from the struct: the schema fields (the id first) and the
// version field.
type layout struct {
	fields  []spec
	version []int
}

func badf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadStruct}, args...)...)
}

// readStruct reads the fields of t with the tag overrides of c.
func readStruct(t reflect.Type, c *config) (layout, error) {
	var l layout
	if t.Kind() != reflect.Struct {
		return l, badf("%s is not a struct", t)
	}
	used := map[string]bool{}
	for _, sf := range reflect.VisibleFields(t) {
		if sf.Anonymous && sf.Type.Kind() == reflect.Pointer {
			return l, badf("%s.%s: an embedded pointer would not be cloned", t, sf.Name)
		}
		if sf.Anonymous || !sf.IsExported() {
			if !sf.Anonymous && sharesMemory(sf.Type) {
				return l, badf("%s.%s: an unexported field of type %s would not be cloned", t, sf.Name, sf.Type)
			}
			continue
		}
		tag, has := sf.Tag.Lookup("record")
		if o, ok := c.tags[sf.Name]; ok {
			tag, has = o, true
			used[sf.Name] = true
		}
		name, words, _ := strings.Cut(tag, ",")
		isVersion := (!has && sf.Name == "RecordVersion") || hasWord(words, "version")
		if isVersion {
			if l.version != nil {
				return l, badf("%s: two version fields", t)
			}
			if sf.Type.Kind() != reflect.String {
				return l, badf("%s.%s: the version field must be a string", t, sf.Name)
			}
			l.version = sf.Index
			continue
		}
		jsonName, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if tag == "-" || (!has && jsonName == "-") {
			continue
		}
		s, err := readField(sf, name, words, jsonName)
		if err != nil {
			return l, fmt.Errorf("%s.%s: %w", t, sf.Name, err)
		}
		l.fields = append(l.fields, s)
	}
	for n := range c.tags {
		if !used[n] {
			return l, badf("%s has no exported field %s to tag", t, n)
		}
	}
	if len(l.fields) == 0 {
		return l, badf("%s has no fields", t)
	}
	if l.version == nil {
		return l, badf("%s has no version field (RecordVersion string, or tagged `record:\",version\"`)", t)
	}
	id := &l.fields[0]
	if !id.kind.IsString() || id.list || id.ptr || id.optional {
		return l, badf("%s.%s: the id (the first field) must be a required string", t, id.goName)
	}
	return l, nil
}

func hasWord(words, w string) bool {
	for x := range strings.SplitSeq(words, ",") {
		if x == w {
			return true
		}
	}
	return false
}

// readField reads one schema field from its Go type and tag (name and comma-separated
// words).
func readField(sf reflect.StructField, name, words, jsonName string) (spec, error) {
	s := spec{goName: sf.Name, index: sf.Index, typ: sf.Type, elem: sf.Type}
	switch {
	case sf.Type == rawType:
		s.kind = query.KindJSON
	case sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.Uint8:
		s.kind = query.KindBytes
	case sf.Type.Kind() == reflect.Slice:
		s.list, s.elem = true, sf.Type.Elem()
	case sf.Type.Kind() == reflect.Pointer:
		s.ptr, s.elem = true, sf.Type.Elem()
	}
	if s.kind == query.KindInvalid {
		s.kind = kindOfType(s.elem)
		if s.kind == query.KindInvalid {
			return s, badf("type %s is not a field type (string, int64, float64, bool, time.Time, []byte, json.RawMessage, a pointer to or a slice of a scalar)", sf.Type)
		}
	}
	s.optional = s.ptr || s.list || s.kind == query.KindBytes || s.kind == query.KindJSON
	var defText *string
	for w := range strings.SplitSeq(words, ",") {
		key, val, hasVal := strings.Cut(w, "=")
		switch {
		case w == "":
		case w == "optional":
			if !s.ptr && !s.list && s.kind != query.KindBytes && s.kind != query.KindJSON {
				return s, badf("an optional scalar must be a pointer")
			}
			s.optional = true
		case w == "required":
			if s.ptr {
				return s, badf("a required scalar cannot be a pointer")
			}
			s.required = s.list || s.kind == query.KindBytes || s.kind == query.KindJSON
			s.optional = s.required // the descriptor calls every list, bytes and json field optional
		case w == "unique":
			s.unique = true
		case w == "indexed":
			s.indexed = true
		case hasVal && key == "enum":
			s.enum = strings.Split(val, "|")
			if err := s.setKind(query.KindEnum); err != nil {
				return s, err
			}
		case hasVal && key == "search":
			if !textsearch.Valid(val) {
				return s, badf("unknown search language %q", val)
			}
			s.search = val
			if err := s.setKind(query.KindText); err != nil {
				return s, err
			}
		case hasVal && key == "json":
			s.json = val
		case hasVal && key == "column":
			s.column = val
		case hasVal && key == "default":
			defText = &val
		case query.KindOf(w) != query.KindInvalid:
			if err := s.setKind(query.KindOf(w)); err != nil {
				return s, err
			}
		default:
			return s, badf("unknown tag word %q", w)
		}
	}
	switch {
	case s.kind == query.KindEnum && len(s.enum) == 0:
		return s, badf("an enum needs its values (enum=a|b)")
	case s.kind != query.KindEnum && len(s.enum) > 0:
		return s, badf("values on a %s field", s.kind)
	case s.unique && (s.list || s.kind == query.KindBytes || s.kind == query.KindJSON):
		return s, badf("unique on a %s field (list=%v)", s.kind, s.list)
	case s.search != "" && (s.list || s.kind != query.KindText):
		return s, badf("search on a %s field (list=%v)", s.kind, s.list)
	}
	if defText != nil {
		v, err := s.parseDefault(*defText)
		if err != nil {
			return s, err
		}
		s.def = v
	}
	s.name = name
	if s.name == "" {
		s.name = jsonName
	}
	if s.name == "" {
		s.name = snake(sf.Name)
	}
	if s.json == "" {
		s.json = s.name
	}
	if s.column == "" {
		s.column = s.name
	}
	return s, nil
}

// kindOfType returns the default kind of a value of type t.
func kindOfType(t reflect.Type) query.Kind {
	if t == timeType {
		return query.KindTime
	}
	switch t.Kind() {
	case reflect.String:
		return query.KindString
	case reflect.Int64:
		return query.KindInt
	case reflect.Float64:
		return query.KindFloat
	case reflect.Bool:
		return query.KindBool
	}
	return query.KindInvalid
}

// setKind sets the kind a tag names, if the Go type holds it and the tag names no other.
func (s *spec) setKind(k query.Kind) error {
	if s.kindSet && s.kind != k {
		return badf("two kinds, %s and %s", s.kind, k)
	}
	bytesLike := !s.list && s.typ.Kind() == reflect.Slice && s.typ.Elem().Kind() == reflect.Uint8
	var ok bool
	switch k {
	case query.KindString, query.KindText, query.KindUUID, query.KindEnum:
		ok = s.elem.Kind() == reflect.String
	case query.KindBytes, query.KindJSON:
		ok = bytesLike
	default:
		ok = !bytesLike && kindOfType(s.elem) == k
	}
	if !ok {
		return badf("kind %s on a field of type %s", k, s.typ)
	}
	s.kind, s.kindSet = k, true
	return nil
}

// parseDefault returns the default text v as a value of s's value type.
func (s *spec) parseDefault(v string) (reflect.Value, error) {
	if !s.ptr {
		return reflect.Value{}, badf("a default on a field that is not an optional scalar (a pointer)")
	}
	out := reflect.New(s.elem).Elem()
	switch s.kind {
	case query.KindString, query.KindText, query.KindUUID, query.KindEnum:
		out.SetString(v)
	case query.KindInt:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return out, badf("default %q: %v", v, err)
		}
		out.SetInt(n)
	case query.KindFloat:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return out, badf("default %q: %v", v, err)
		}
		out.SetFloat(f)
	case query.KindBool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return out, badf("default %q: %v", v, err)
		}
		out.SetBool(b)
	case query.KindTime:
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return out, badf("default %q: %v", v, err)
		}
		out.Set(reflect.ValueOf(t.UTC().Truncate(time.Microsecond)))
	}
	return out, nil
}

// snake returns a Go name in snake_case: "ProdID" → "prod_id", "SKU" → "sku".
func snake(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) {
			// A word starts at an upper-case letter after a lower-case one or a digit, or
			// before a lower-case one in a run of capitals ("HTTPServer" → "http_server").
			if i > 0 && (unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1]) ||
				(unicode.IsUpper(r[i-1]) && i+1 < len(r) && unicode.IsLower(r[i+1]))) {
				b.WriteByte('_')
			}
			c = unicode.ToLower(c)
		}
		b.WriteRune(c)
	}
	return b.String()
}
