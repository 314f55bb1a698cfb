package schema

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// The keys each mapping of the format accepts, in the order error messages list them.
var (
	fileKeys   = []string{"version", "records"}
	recordKeys = []string{"name", "doc", "id", "postgres", "elasticsearch", "s3", "fields", "renamed_from"}
	idKeys     = []string{"name", "type", "generated", "required"}
	fieldKeys  = []string{"name", "type", "doc", "required", "default", "values", "unique", "indexed", "search", "renamed_from"}
	pgKeys     = []string{"table"}
	esKeys     = []string{"index"}
	s3Keys     = []string{"prefix"}

	// idOptionalMarkers are keys that would make an id optional; an id mapping reports them
	// as such rather than as unknown keys.
	idOptionalMarkers = []string{"optional", "nullable", "default"}
)

// Parse parses one schema file. It reports structural problems: YAML syntax, unknown and
// duplicate keys, values of the wrong kind, unknown types. On error it returns a nil *File and
// an ErrorList. The semantic rules are checked, and defaults filled, by Validate.
func Parse(path string, data []byte) (*File, error) {
	p := &parser{path: path}
	f := p.file(data)
	if err := p.errs.err(); err != nil {
		return nil, err
	}
	return f, nil
}

// Load reads and parses schema files into a Set. A path that is a directory stands for every
// *.yaml and *.yml file directly inside it, in name order; files are otherwise kept in the
// order given, and a file named twice is read once. It returns the parse errors of every file
// together (an ErrorList), or an error wrapping ErrNoFiles or the I/O error. It does not
// validate the set: call Validate.
func Load(paths ...string) (*Set, error) {
	var files []string
	seen := map[string]bool{}
	add := func(p string) {
		key := filepath.Clean(p)
		if abs, err := filepath.Abs(p); err == nil {
			key = abs
		}
		if !seen[key] {
			seen[key] = true
			files = append(files, p)
		}
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("schema: %w", err)
		}
		if !st.IsDir() {
			add(p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("schema: %w", err)
		}
		n := 0
		for _, e := range entries { // ReadDir sorts by name
			ext := filepath.Ext(e.Name())
			if e.Type().IsRegular() || e.Type()&os.ModeSymlink != 0 {
				if ext == ".yaml" || ext == ".yml" {
					add(filepath.Join(p, e.Name()))
					n++
				}
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("schema: %w: no *.yaml or *.yml file in directory %s", ErrNoFiles, p)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("schema: %w: no paths given", ErrNoFiles)
	}
	set := &Set{}
	var errs ErrorList
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("schema: %w", err)
		}
		p := &parser{path: path}
		f := p.file(data)
		errs = append(errs, p.errs...)
		set.Files = append(set.Files, f)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return set, nil
}

// parser parses one file, collecting errors.
type parser struct {
	path string
	errs ErrorList
}

func (p *parser) pos(n *yaml.Node) Pos { return Pos{File: p.path, Line: n.Line, Col: n.Column} }

// where names the record and field an error belongs to.
type where struct{ record, field string }

func (p *parser) errorf(pos Pos, kind error, w where, format string, args ...any) {
	if pos.Line < 1 {
		pos.Line, pos.Col = 1, 1
	}
	if pos.Col < 1 {
		pos.Col = 1
	}
	p.errs = append(p.errs, &Error{Pos: pos, Record: w.record, Field: w.field, Msg: fmt.Sprintf(format, args...), Kind: kind})
}

// yamlLine matches the line number in a yaml.v3 syntax error.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlParserProblems are the messages of yaml.v3's parser (as opposed to its scanner) errors.
// yaml.v3 reports their line 0-based, and leaves it out when it is 0.
var yamlParserProblems = []string{
	"did not find expected",
	"found duplicate %TAG directive",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found undefined tag handle",
}

// parserProblem reports whether msg is one of yaml.v3's parser errors.
func parserProblem(msg string) bool {
	for _, prob := range yamlParserProblems {
		if strings.HasPrefix(msg, prob) {
			// The scanner's "did not find expected ..." messages name other tokens.
			return prob != "did not find expected" || slices.Contains([]string{
				"did not find expected ',' or ']'", "did not find expected ',' or '}'",
				"did not find expected '-' indicator", "did not find expected <document start>",
				"did not find expected <stream-start>", "did not find expected key",
				"did not find expected node content",
			}, msg)
		}
	}
	return false
}

// syntaxError reports a yaml.v3 error. yaml.v3 reports no column, so the error has column 1.
func (p *parser) syntaxError(err error) {
	msg := err.Error()
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil && n > 0 {
			line = n
		}
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if parserProblem(msg) {
		line++ // 0-based, or left out for the first line
	}
	p.errorf(Pos{File: p.path, Line: line, Col: 1}, ErrSyntax, where{}, "invalid YAML: %s", msg)
}

func (p *parser) file(data []byte) *File {
	f := &File{Path: p.path}
	if !p.text(data) {
		return f
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if !errors.Is(err, io.EOF) {
			p.syntaxError(err)
		}
		return f // an empty file: Validate reports the missing version and records
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.errorf(p.pos(&extra), ErrSyntax, where{}, "a schema file holds one YAML document; found another here")
	} else if !errors.Is(err, io.EOF) {
		p.syntaxError(err)
	}
	if p.aliases(&doc) {
		return f
	}
	if len(doc.Content) == 0 {
		return f
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.errorf(p.pos(root), ErrWrongKind, where{}, "a schema file must be a mapping with the keys version and records, got %s", describe(root))
		return f
	}
	p.mapping(root, fileKeys, where{}, func(key string, k, v *yaml.Node) {
		switch key {
		case "version":
			f.Pos = p.pos(k)
			if v.Kind != yaml.ScalarNode || v.Tag != "!!int" {
				p.errorf(p.pos(v), ErrWrongKind, where{}, "version must be an integer, got %s", describe(v))
				return
			}
			var n int64
			if err := v.Decode(&n); err != nil || n < -1<<31 || n > 1<<31-1 {
				p.errorf(p.pos(v), ErrVersion, where{}, "unsupported version %s (supported versions: %d)", plain(v.Value), CurrentVersion)
				return
			}
			f.Version = int(n) // Validate checks it; f.Pos tells 0 from a missing version
		case "records":
			f.RecordsPos = p.pos(v)
			if v.Kind != yaml.SequenceNode {
				p.errorf(p.pos(v), ErrWrongKind, where{}, "records must be a list of records, got %s", describe(v))
				return
			}
			f.Records = make([]*Record, 0, len(v.Content))
			for i, rn := range v.Content {
				f.Records = append(f.Records, p.record(i, rn))
			}
		}
	})
	return f
}

// text reports the first byte sequence yaml.v3 would reject without a position: invalid
// UTF-8 and characters YAML does not allow. It reports whether data is acceptable.
func (p *parser) text(data []byte) bool {
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		p.errorf(Pos{File: p.path, Line: 1, Col: 1}, ErrSyntax, where{}, "a schema file must be UTF-8 (found a UTF-16 byte order mark)")
		return false
	}
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	line, col := 1, 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		switch {
		case r == utf8.RuneError && size == 1:
			p.errorf(Pos{File: p.path, Line: line, Col: col}, ErrSyntax, where{}, "invalid UTF-8 (byte 0x%02X)", data[0])
			return false
		case !yamlPrintable(r):
			p.errorf(Pos{File: p.path, Line: line, Col: col}, ErrSyntax, where{}, "character %U is not allowed in YAML", r)
			return false
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		data = data[size:]
	}
	return true
}

// yamlPrintable reports whether YAML allows r in a document (yaml.v3's is_printable).
func yamlPrintable(r rune) bool {
	switch {
	case r == 0x09 || r == 0x0A || r == 0x0D || r == 0x85:
		return true
	case r >= 0x20 && r <= 0x7E:
		return true
	case r >= 0xA0 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return r != 0xFEFF
	case r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// aliases reports every alias in the document and whether there was one. Aliases are not
// supported: they make positions ambiguous and allow exponential expansion.
func (p *parser) aliases(n *yaml.Node) bool {
	found := false
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.AliasNode {
			p.errorf(p.pos(n), ErrSyntax, where{}, "YAML aliases (*%s) are not supported; write the value out", plain(n.Value))
			found = true
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return found
}

// mapping checks that n is a mapping with string keys out of allowed, each at most once, and
// calls fn for each pair in order.
func (p *parser) mapping(n *yaml.Node, allowed []string, w where, fn func(key string, k, v *yaml.Node)) {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag != "!!str" {
			p.errorf(p.pos(k), ErrUnknownKey, w, "unknown key %s (expected %s)", describe(k), orList(allowed))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.errorf(p.pos(k), ErrDuplicate, w, "duplicate key %q (first at line %d)", clip(k.Value), first.Line)
			continue
		}
		seen[k.Value] = k
		if !slices.Contains(allowed, k.Value) {
			if slices.Equal(allowed, idKeys) && slices.Contains(idOptionalMarkers, k.Value) {
				p.errorf(p.pos(k), ErrInvalidValue, w, "an id cannot be optional (remove %s)", k.Value)
				continue
			}
			p.errorf(p.pos(k), ErrUnknownKey, w, "unknown key %q (expected %s)", clip(k.Value), orList(allowed))
			continue
		}
		fn(k.Value, k, v)
	}
}

// str decodes a string scalar; what names the value in the error.
func (p *parser) str(v *yaml.Node, w where, what string) (string, bool) {
	if v.Kind != yaml.ScalarNode || v.Tag != "!!str" {
		p.errorf(p.pos(v), ErrWrongKind, w, "%s must be a string, got %s", what, describe(v))
		return "", false
	}
	return v.Value, true
}

// boolean decodes a true/false scalar; what names the value in the error.
func (p *parser) boolean(v *yaml.Node, w where, what string) (bool, bool) {
	var b bool
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" || v.Decode(&b) != nil {
		p.errorf(p.pos(v), ErrWrongKind, w, "%s must be true or false, got %s", what, describe(v))
		return false, false
	}
	return b, true
}

// nameOf returns the string value of the key "name" in mapping n, if any.
func nameOf(n *yaml.Node) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "name" && v.Kind == yaml.ScalarNode && v.Tag == "!!str" && v.Value != "" {
			return v.Value
		}
	}
	return ""
}

// label is the name used in messages for a record or field: its name, or #N.
func label(name string, i int) string {
	if name != "" {
		return plain(name)
	}
	return "#" + strconv.Itoa(i+1)
}

func (p *parser) record(i int, n *yaml.Node) *Record {
	r := &Record{Pos: p.pos(n)}
	w := where{record: label(nameOf(n), i)}
	if n.Kind != yaml.MappingNode {
		p.errorf(p.pos(n), ErrWrongKind, w, "a record must be a mapping, got %s", describe(n))
		return r
	}
	p.mapping(n, recordKeys, w, func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			if s, ok := p.str(v, w, "name"); ok {
				r.Name, r.Pos = s, p.pos(v)
			}
		case "doc":
			if s, ok := p.str(v, w, "doc"); ok {
				r.Doc = s
			}
		case "renamed_from":
			if s, ok := p.str(v, w, "renamed_from"); ok {
				r.RenamedFrom, r.RenamedFromPos = s, p.pos(v)
			}
		case "id":
			p.id(r, v, w)
		case "postgres":
			p.backend(v, pgKeys, w, "postgres", &r.Table, &r.TablePos)
		case "elasticsearch":
			p.backend(v, esKeys, w, "elasticsearch", &r.Index, &r.IndexPos)
		case "s3":
			p.backend(v, s3Keys, w, "s3", &r.Prefix, &r.PrefixPos)
		case "fields":
			if v.Kind != yaml.SequenceNode {
				p.errorf(p.pos(v), ErrWrongKind, w, "fields must be a list of fields, got %s", describe(v))
				return
			}
			r.Fields = make([]*Field, 0, len(v.Content))
			for j, fn := range v.Content {
				r.Fields = append(r.Fields, p.field(j, fn, w.record))
			}
		}
	})
	if r.ID.Pos == (Pos{}) {
		r.ID.Pos = r.Pos
	}
	return r
}

// backend parses a per-backend mapping with its one key.
func (p *parser) backend(v *yaml.Node, keys []string, w where, what string, dst *string, dstPos *Pos) {
	if v.Kind != yaml.MappingNode {
		p.errorf(p.pos(v), ErrWrongKind, w, "%s must be a mapping with the key %s, got %s", what, keys[0], describe(v))
		return
	}
	p.mapping(v, keys, w, func(key string, _, val *yaml.Node) {
		if s, ok := p.str(val, w, what+"."+key); ok {
			*dst, *dstPos = s, p.pos(val)
		}
	})
}

func (p *parser) id(r *Record, v *yaml.Node, rw where) {
	if v.Kind != yaml.MappingNode {
		p.errorf(p.pos(v), ErrWrongKind, rw, "id must be a mapping such as {name: id, type: uuid}, got %s", describe(v))
		return
	}
	r.ID.Pos = p.pos(v)
	w := where{record: rw.record, field: "id"}
	if name := nameOf(v); name != "" {
		w.field = plain(name)
	}
	p.mapping(v, idKeys, w, func(key string, _, val *yaml.Node) {
		switch key {
		case "name":
			if s, ok := p.str(val, w, "name"); ok {
				r.ID.Name, r.ID.Pos = s, p.pos(val)
			}
		case "type":
			s, ok := p.str(val, w, "type")
			if !ok {
				return
			}
			if _, _, known := parseType(s); !known {
				p.errorf(p.pos(val), ErrUnknownType, w, "unknown type %q (an id is string or uuid)", clip(s))
				return
			}
			// Validate rejects known types other than string and uuid, with their position.
			r.ID.Type, r.ID.TypePos = Type(s), p.pos(val)
		case "generated":
			if b, ok := p.boolean(val, w, "generated"); ok {
				r.ID.Generated, r.ID.GeneratedPos = b, p.pos(val)
			}
		case "required":
			if b, ok := p.boolean(val, w, "required"); ok && !b {
				p.errorf(p.pos(val), ErrInvalidValue, w, "an id cannot be optional (remove required: false)")
			}
		}
	})
}

// parseType parses a type as written: a scalar type or list<T>. known is false for an
// unknown type; listable is false for a list whose element type cannot be listed.
func parseType(s string) (t Type, list, known bool) {
	if slices.Contains(Types, Type(s)) {
		return Type(s), false, true
	}
	if elem, ok := strings.CutPrefix(s, "list<"); ok {
		if elem, ok := strings.CutSuffix(elem, ">"); ok && slices.Contains(Types, Type(elem)) {
			return Type(elem), true, true
		}
	}
	return "", false, false
}

func (p *parser) field(i int, n *yaml.Node, record string) *Field {
	f := &Field{Pos: p.pos(n)}
	w := where{record: record, field: label(nameOf(n), i)}
	if n.Kind != yaml.MappingNode {
		p.errorf(p.pos(n), ErrWrongKind, w, "a field must be a mapping, got %s", describe(n))
		return f
	}
	p.mapping(n, fieldKeys, w, func(key string, _, v *yaml.Node) {
		switch key {
		case "name":
			if s, ok := p.str(v, w, "name"); ok {
				f.Name, f.Pos = s, p.pos(v)
			}
		case "doc":
			if s, ok := p.str(v, w, "doc"); ok {
				f.Doc = s
			}
		case "renamed_from":
			if s, ok := p.str(v, w, "renamed_from"); ok {
				f.RenamedFrom, f.RenamedFromPos = s, p.pos(v)
			}
		case "type":
			s, ok := p.str(v, w, "type")
			if !ok {
				return
			}
			t, list, known := parseType(s)
			switch {
			case !known:
				if elem, ok := strings.CutPrefix(s, "list<"); ok && strings.HasSuffix(elem, ">") {
					p.errorf(p.pos(v), ErrUnknownType, w, "unknown list element type %q (expected %s)", clip(strings.TrimSuffix(elem, ">")), orList(typeNames(ListElemTypes)))
				} else {
					p.errorf(p.pos(v), ErrUnknownType, w, "unknown type %q (expected %s or list<T>)", clip(s), strings.Join(typeNames(Types), ", "))
				}
			case list && !slices.Contains(ListElemTypes, t):
				p.errorf(p.pos(v), ErrUnknownType, w, "a list cannot hold %s values (list element types: %s)", t, orList(typeNames(ListElemTypes)))
			default:
				f.Type, f.List, f.TypePos = t, list, p.pos(v)
			}
		case "required":
			if b, ok := p.boolean(v, w, "required"); ok {
				f.Required = b
			}
		case "unique":
			if b, ok := p.boolean(v, w, "unique"); ok {
				f.Unique, f.UniquePos = b, p.pos(v)
			}
		case "indexed":
			if b, ok := p.boolean(v, w, "indexed"); ok {
				f.Indexed, f.IndexedPos = b, p.pos(v)
			}
		case "search":
			if s, ok := p.str(v, w, "search"); ok {
				f.Search, f.SearchPos = s, p.pos(v)
			}
		case "default":
			if d, ok := p.defaultValue(v, w); ok {
				f.Default, f.DefaultPos = d, p.pos(v)
			}
		case "values":
			if v.Kind != yaml.SequenceNode {
				p.errorf(p.pos(v), ErrWrongKind, w, "values must be a list of strings, got %s", describe(v))
				return
			}
			f.ValuesPos = p.pos(v)
			f.Values = make([]string, 0, len(v.Content))
			f.ValuePos = make([]Pos, 0, len(v.Content))
			for _, e := range v.Content {
				if e.Kind != yaml.ScalarNode || e.Tag != "!!str" {
					hint := ""
					if e.Kind == yaml.ScalarNode && e.Tag != "!!null" {
						hint = " (quote it)"
					}
					p.errorf(p.pos(e), ErrWrongKind, w, "an enum value must be a string, got %s%s", describe(e), hint)
					continue
				}
				f.Values = append(f.Values, e.Value)
				f.ValuePos = append(f.ValuePos, p.pos(e))
			}
		}
	})
	return f
}

// defaultValue decodes a default: a string, int64, float64 or bool scalar. A timestamp is kept
// as the string written; Validate checks every default against the field's type.
func (p *parser) defaultValue(v *yaml.Node, w where) (any, bool) {
	if v.Kind != yaml.ScalarNode {
		p.errorf(p.pos(v), ErrWrongKind, w, "default must be a single value, got %s", describe(v))
		return nil, false
	}
	var err error
	switch v.Tag {
	case "!!str", "!!timestamp":
		return v.Value, true
	case "!!int":
		var n int64
		if err = v.Decode(&n); err == nil {
			return n, true
		}
	case "!!float":
		var x float64
		if err = v.Decode(&x); err == nil {
			return x, true
		}
	case "!!bool":
		var b bool
		if err = v.Decode(&b); err == nil {
			return b, true
		}
	case "!!null":
		p.errorf(p.pos(v), ErrWrongKind, w, "default must be a value, got null (leave default out for no default)")
		return nil, false
	}
	if err != nil {
		p.errorf(p.pos(v), ErrInvalidValue, w, "default %s is out of range or malformed", describe(v))
		return nil, false
	}
	p.errorf(p.pos(v), ErrWrongKind, w, "default must be a string, number or boolean, got %s", describe(v))
	return nil, false
}

// describe names a YAML node's kind and value for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!str":
			return "string " + strconv.Quote(clip(n.Value))
		case "!!int":
			return "integer " + plain(n.Value)
		case "!!float":
			return "number " + plain(n.Value)
		case "!!bool":
			return "boolean " + plain(n.Value)
		case "!!timestamp":
			return "timestamp " + plain(n.Value)
		case "!!binary":
			return "binary data"
		}
		return "a value tagged " + plain(n.Tag)
	}
	return "a document"
}

// clip shortens s for an error message.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// plain returns s clipped, or quoted when it has spaces, control or other invisible
// characters, so that every error message stays on one line.
func plain(s string) string {
	for _, r := range s {
		if !unicode.IsGraphic(r) || unicode.IsSpace(r) {
			return strconv.Quote(clip(s))
		}
	}
	return clip(s)
}

// orList renders "a, b or c".
func orList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

func typeNames(ts []Type) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}
