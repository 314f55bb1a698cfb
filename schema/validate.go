package schema

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Validate checks the semantic rules of a parsed set and fills the defaults: a record's Table,
// Index and Prefix default to SnakeName(record name); an id's name defaults to "id", its type
// to string, and Generated (when not written) to true for a uuid id and false for a string id.
// It returns every problem found, as an ErrorList sorted by position. Validate is idempotent.
func Validate(set *Set) error {
	if set == nil || len(set.Files) == 0 {
		return fmt.Errorf("schema: %w: the set is empty", ErrNoFiles)
	}
	v := &validator{}
	var all []placed
	for _, f := range set.Files {
		if f == nil {
			return fmt.Errorf("schema: %w: the set holds a nil file", ErrNoFiles)
		}
		v.file(f)
		for i, r := range f.Records {
			if r != nil {
				all = append(all, placed{f, i, r})
			}
		}
	}
	v.unique(all)
	return v.errs.err()
}

// placed is a record with its file and index there.
type placed struct {
	file *File
	i    int
	r    *Record
}

type validator struct {
	errs ErrorList
}

// at returns the first non-zero position of ps, completed with f's path, or f:1:1.
func at(f *File, ps ...Pos) Pos {
	for _, p := range ps {
		if p.Line > 0 {
			if p.File == "" {
				p.File = f.Path
			}
			if p.Col < 1 {
				p.Col = 1
			}
			return p
		}
	}
	return Pos{File: f.Path, Line: 1, Col: 1}
}

func (v *validator) errorf(pos Pos, kind error, w where, format string, args ...any) {
	v.errs = append(v.errs, &Error{Pos: pos, Record: w.record, Field: w.field, Msg: fmt.Sprintf(format, args...), Kind: kind})
}

func (v *validator) file(f *File) {
	switch {
	case f.Pos == (Pos{}) && f.Version == 0:
		v.errorf(at(f), ErrVersion, where{}, "missing version (supported versions: %d)", CurrentVersion)
	case f.Version != CurrentVersion:
		v.errorf(at(f, f.Pos), ErrVersion, where{}, "unsupported version %d (supported versions: %d)", f.Version, CurrentVersion)
	}
	if len(f.Records) == 0 {
		v.errorf(at(f, f.RecordsPos), ErrMissing, where{}, "no records (a schema file declares at least one record under records)")
	}
	for i, r := range f.Records {
		if r != nil {
			v.record(f, i, r)
		}
	}
}

// fieldNamePattern is the rule for field and id names, as shown in messages.
const fieldNamePattern = "^[a-z][a-z0-9_]*$"

func (v *validator) record(f *File, i int, r *Record) {
	w := where{record: label(r.Name, i)}
	rpos := at(f, r.Pos)
	nameOK := false
	switch {
	case r.Name == "":
		v.errorf(rpos, ErrMissing, w, "record has no name")
	case !validRecordName(r.Name):
		v.errorf(rpos, ErrInvalidName, w, "invalid record name %q (must match ^[A-Za-z][A-Za-z0-9_]*$)", clip(r.Name))
	default:
		nameOK = true
	}

	// The id.
	id := &r.ID
	if id.Name == "" {
		id.Name = "id"
	}
	if id.Type == "" {
		id.Type = TypeString
	}
	idw := where{record: w.record, field: plain(id.Name)}
	idpos := at(f, id.Pos, r.Pos)
	idWritten := id.Pos != (Pos{}) && id.Pos != r.Pos
	v.name(idpos, idw, id.Name, "id")
	switch id.Type {
	case TypeString, TypeUUID:
	default:
		v.errorf(at(f, id.TypePos, id.Pos, r.Pos), ErrInvalidValue, idw, "an id must be of type string or uuid, got %s", plain(string(id.Type)))
	}
	if id.GeneratedPos == (Pos{}) {
		id.Generated = id.Type == TypeUUID
	}

	// The fields, with Go names unique among themselves and the id's.
	type named struct {
		name string
		pos  Pos
		id   bool
	}
	goNames := map[string]named{}
	if GoName(id.Name) != "" {
		goNames[GoName(id.Name)] = named{id.Name, idpos, true}
	}
	for j, fd := range r.Fields {
		if fd == nil {
			continue
		}
		fw := where{record: w.record, field: label(fd.Name, j)}
		fpos := at(f, fd.Pos, r.Pos)
		if v.name(fpos, fw, fd.Name, "field") {
			g := GoName(fd.Name)
			switch first, dup := goNames[g]; {
			case !dup:
				goNames[g] = named{fd.Name, fpos, false}
			case first.id && first.name == fd.Name && !idWritten:
				v.errorf(fpos, ErrDuplicate, fw, "field %q has the name of the record's default id (give the id another name with id: {name: ...})", fd.Name)
			case first.id && first.name == fd.Name:
				v.errorf(fpos, ErrDuplicate, fw, "field %q has the name of the record's id (%s)", fd.Name, first.pos)
			case first.id:
				v.errorf(fpos, ErrDuplicate, fw, "field %q has the same Go name (%s) as the record's id %q (%s)", fd.Name, g, first.name, first.pos)
			case first.name == fd.Name:
				v.errorf(fpos, ErrDuplicate, fw, "duplicate field name %q (first declared at %s)", fd.Name, first.pos)
			default:
				v.errorf(fpos, ErrDuplicate, fw, "field %q has the same Go name (%s) as field %q (%s)", fd.Name, g, first.name, first.pos)
			}
		}
		v.field(f, fw, fpos, fd)
	}

	v.renames(f, w, r)
	if r.RenamedFromPos != (Pos{}) {
		switch rfp := at(f, r.RenamedFromPos, r.Pos); {
		case !validRecordName(r.RenamedFrom):
			v.errorf(rfp, ErrInvalidName, w, "renamed_from %q is not a valid record name (must match ^[A-Za-z][A-Za-z0-9_]*$)", clip(r.RenamedFrom))
		case r.RenamedFrom == r.Name:
			v.errorf(rfp, ErrInvalidValue, w, "renamed_from names the record itself")
		}
	}

	// Per-backend names.
	derived := func(pos Pos, set *string) (Pos, bool) {
		if pos != (Pos{}) || *set != "" {
			return at(f, pos, r.Pos), false
		}
		if !nameOK {
			return Pos{}, false
		}
		*set = SnakeName(r.Name)
		return rpos, true
	}
	hint := func(d bool) string {
		if d {
			return " (derived from the record name)"
		}
		return ""
	}
	if p, d := derived(r.TablePos, &r.Table); p != (Pos{}) {
		switch {
		case r.Table == "":
			v.errorf(p, ErrInvalidName, w, "table name is empty")
		case len(r.Table) > maxIdentLen:
			v.errorf(p, ErrInvalidName, w, "table name %q%s is longer than 63 bytes (the PostgreSQL identifier limit)", clip(r.Table), hint(d))
		case !validTableName(r.Table):
			v.errorf(p, ErrInvalidName, w, "invalid table name %q (must match ^[A-Za-z_][A-Za-z0-9_]*$)", clip(r.Table))
		}
	}
	if p, d := derived(r.IndexPos, &r.Index); p != (Pos{}) {
		if problem := indexNameProblem(r.Index); problem != "" {
			v.errorf(p, ErrInvalidName, w, "index name %q%s %s", clip(r.Index), hint(d), problem)
		}
	}
	if p, d := derived(r.PrefixPos, &r.Prefix); p != (Pos{}) {
		if problem := prefixProblem(r.Prefix); problem != "" {
			v.errorf(p, ErrInvalidName, w, "key prefix %q%s %s", clip(r.Prefix), hint(d), problem)
		}
	}
}

// name checks a field or id name and reports whether it is valid.
func (v *validator) name(pos Pos, w where, name, what string) bool {
	switch {
	case name == "":
		v.errorf(pos, ErrMissing, w, "%s has no name", what)
	case len(name) > maxIdentLen:
		v.errorf(pos, ErrInvalidName, w, "%s name is longer than 63 bytes (the PostgreSQL identifier limit)", what)
	case !validFieldName(name):
		v.errorf(pos, ErrInvalidName, w, "invalid %s name %q (must match %s)", what, clip(name), fieldNamePattern)
	case GoName(name) == "RecordVersion":
		v.errorf(pos, ErrReserved, w, "%s name %q is reserved: its Go name RecordVersion holds the record's version", what, name)
	default:
		return true
	}
	return false
}

func (v *validator) field(f *File, w where, fpos Pos, fd *Field) {
	known := slices.Contains(Types, fd.Type)
	switch {
	case fd.Type == "":
		v.errorf(fpos, ErrMissing, w, "field has no type")
	case !known:
		v.errorf(at(f, fd.TypePos, fd.Pos), ErrUnknownType, w, "unknown type %q (expected %s or list<T>)", clip(string(fd.Type)), strings.Join(typeNames(Types), ", "))
	case fd.List && !slices.Contains(ListElemTypes, fd.Type):
		v.errorf(at(f, fd.TypePos, fd.Pos), ErrUnknownType, w, "a list cannot hold %s values (list element types: %s)", fd.Type, orList(typeNames(ListElemTypes)))
		known = false
	}
	typ := fd.TypeString()
	tpos := at(f, fd.TypePos, fd.Pos)

	// Enum values.
	hasValues := fd.ValuesPos != (Pos{}) || len(fd.Values) > 0
	switch {
	case fd.Type == TypeEnum && len(fd.Values) == 0:
		v.errorf(at(f, fd.ValuesPos, fd.TypePos, fd.Pos), ErrMissing, w, "an enum field needs values: a non-empty list of strings")
	case fd.Type == TypeEnum:
		v.enumValues(f, w, fd)
	case hasValues && known:
		v.errorf(at(f, fd.ValuesPos, fd.Pos), ErrInvalidValue, w, "values are only allowed on enum and list<enum> fields, not on %s", typ)
	}

	// Flags that need a scalar.
	multi := fd.List || fd.Type == TypeBytes || fd.Type == TypeJSON
	if fd.Unique && multi && known {
		v.errorf(at(f, fd.UniquePos, tpos), ErrInvalidValue, w, "unique is not supported on %s fields", typ)
	}
	if fd.Indexed && multi && known {
		v.errorf(at(f, fd.IndexedPos, tpos), ErrInvalidValue, w, "indexed is not supported on %s fields", typ)
	}

	if fd.SearchPos != (Pos{}) {
		v.search(f, w, fd, typ, known)
	}

	// The default.
	if fd.Default == nil || !known {
		return
	}
	dpos := at(f, fd.DefaultPos, fd.Pos)
	switch {
	case multi:
		v.errorf(dpos, ErrInvalidValue, w, "a %s field cannot have a default", typ)
	default:
		v.defaultValue(dpos, w, fd)
	}
}

// renames checks the renamed_from values of a record's fields: each a valid field name, not
// the field's own name, not the name of another field or the id of the record, and no two
// fields renamed from one name.
func (v *validator) renames(f *File, w where, r *Record) {
	names := map[string]bool{r.ID.Name: true}
	for _, fd := range r.Fields {
		if fd != nil {
			names[fd.Name] = true
		}
	}
	from := map[string]Pos{}
	for _, fd := range r.Fields {
		if fd == nil || fd.RenamedFromPos == (Pos{}) {
			continue
		}
		fw := where{record: w.record, field: plain(fd.Name)}
		pos := at(f, fd.RenamedFromPos, fd.Pos)
		old := fd.RenamedFrom
		switch prev, dup := from[old]; {
		case !validFieldName(old) || len(old) > maxIdentLen:
			v.errorf(pos, ErrInvalidName, fw, "renamed_from %q is not a valid field name (must match %s)", clip(old), fieldNamePattern)
		case old == fd.Name:
			v.errorf(pos, ErrInvalidValue, fw, "renamed_from names the field itself")
		case names[old]:
			v.errorf(pos, ErrDuplicate, fw, "renamed_from %q names a field or id the record still has", old)
		case dup:
			v.errorf(pos, ErrDuplicate, fw, "two fields are renamed from %q (the other at %s)", old, prev)
		default:
			from[old] = pos
		}
	}
}

func (v *validator) enumValues(f *File, w where, fd *Field) {
	type seen struct {
		value string
		pos   Pos
	}
	values := map[string]seen{}
	goNames := map[string]seen{}
	for k, val := range fd.Values {
		var vp Pos
		if k < len(fd.ValuePos) {
			vp = fd.ValuePos[k]
		}
		pos := at(f, vp, fd.ValuesPos, fd.TypePos, fd.Pos)
		if val == "" {
			v.errorf(pos, ErrInvalidValue, w, "empty enum value")
			continue
		}
		if problem := stringProblem(val); problem != "" {
			v.errorf(pos, ErrInvalidValue, w, "enum value %q %s", clip(val), problem)
			continue
		}
		if first, dup := values[val]; dup {
			v.errorf(pos, ErrDuplicate, w, "duplicate enum value %q (first at %s)", clip(val), first.pos)
			continue
		}
		values[val] = seen{val, pos}
		g := EnumGoName(val)
		if g == "" {
			v.errorf(pos, ErrInvalidValue, w, "enum value %q has no ASCII letter or digit to name its Go constant", clip(val))
			continue
		}
		if first, dup := goNames[g]; dup {
			v.errorf(pos, ErrDuplicate, w, "enum value %q has the same Go constant name suffix (%s) as enum value %q (%s)", clip(val), clip(g), clip(first.value), first.pos)
			continue
		}
		goNames[g] = seen{val, pos}
	}
}

// uuidPattern is a canonical lower-case UUID.
var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// defaultValue checks an optional scalar field's default against its type.
func (v *validator) defaultValue(pos Pos, w where, fd *Field) {
	d := fd.Default
	if n, ok := d.(int); ok { // from a hand-built set
		d = int64(n)
		fd.Default = d
	}
	wrong := func(want string) {
		hint := ""
		if _, isStr := d.(string); !isStr && (fd.Type == TypeString || fd.Type == TypeText || fd.Type == TypeEnum) {
			hint = " (quote it)"
		}
		v.errorf(pos, ErrInvalidValue, w, "default must be %s, got %s%s", want, describeValue(d), hint)
	}
	switch fd.Type {
	case TypeString, TypeText:
		s, ok := d.(string)
		if !ok {
			wrong("a string")
		} else if problem := stringProblem(s); problem != "" {
			v.errorf(pos, ErrInvalidValue, w, "default %s", problem)
		}
	case TypeUUID:
		if s, ok := d.(string); !ok {
			wrong("a UUID string")
		} else if !uuidPattern.MatchString(s) {
			v.errorf(pos, ErrInvalidValue, w, "default %q is not a canonical lower-case UUID", clip(s))
		}
	case TypeEnum:
		if s, ok := d.(string); !ok {
			wrong("one of the enum values")
		} else if len(fd.Values) > 0 && !slices.Contains(fd.Values, s) {
			v.errorf(pos, ErrInvalidValue, w, "default %q is not one of the enum values (%s)", clip(s), valueList(fd.Values))
		}
	case TypeTime:
		if s, ok := d.(string); !ok {
			wrong("an RFC 3339 time")
		} else if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			v.errorf(pos, ErrInvalidValue, w, "default %q is not an RFC 3339 time such as 2024-01-31T12:00:00Z", clip(s))
		}
	case TypeInt:
		if _, ok := d.(int64); !ok {
			wrong("an integer")
		}
	case TypeFloat:
		switch x := d.(type) {
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				v.errorf(pos, ErrInvalidValue, w, "default must be a finite number, got %s", describeValue(x))
			}
		case int64:
			if x > 1<<53 || x < -1<<53 {
				v.errorf(pos, ErrInvalidValue, w, "default %d cannot be represented exactly as a float", x)
			} else {
				fd.Default = float64(x)
			}
		default:
			wrong("a number")
		}
	case TypeBool:
		if _, ok := d.(bool); !ok {
			wrong("true or false")
		}
	}
}

// valueList renders enum values for a message, each on one line, at most 10.
func valueList(values []string) string {
	shown := make([]string, 0, 11)
	for i, v := range values {
		if i == 10 {
			shown = append(shown, "...")
			break
		}
		shown = append(shown, plain(v))
	}
	return strings.Join(shown, ", ")
}

// stringProblem returns why s cannot be stored by every backend, or "".
func stringProblem(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return "contains a NUL character"
	}
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	return ""
}

// describeValue names a default's Go value for error messages.
func describeValue(d any) string {
	switch x := d.(type) {
	case string:
		return "string " + strconv.Quote(clip(x))
	case int64:
		return "integer " + strconv.FormatInt(x, 10)
	case float64:
		return "number " + strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return "boolean " + strconv.FormatBool(x)
	}
	return fmt.Sprintf("a Go %T", d)
}

// unique checks the names that must be unique across the set: record Go names, tables
// (case-insensitively), indices and key prefixes (which must not nest either).
func (v *validator) unique(all []placed) {
	type first struct {
		r   *Record
		pos Pos
	}
	records := map[string]first{}
	tables := map[string]first{}
	indices := map[string]first{}
	prefixes := map[string]first{}
	for _, p := range all {
		r := p.r
		if !validRecordName(r.Name) {
			continue
		}
		w := where{record: r.Name}
		rpos := at(p.file, r.Pos)
		g := GoName(r.Name)
		if f, dup := records[g]; dup {
			if f.r.Name == r.Name {
				v.errorf(rpos, ErrDuplicate, w, "duplicate record name (first declared at %s)", f.pos)
			} else {
				v.errorf(rpos, ErrDuplicate, w, "record name has the same Go name (%s) as record %s (%s)", g, f.r.Name, f.pos)
			}
			continue // its backend names collide too, by default: one error is enough
		}
		records[g] = first{r, rpos}

		hint := func(pos Pos) string {
			if pos == (Pos{}) {
				return " (derived from the record name)"
			}
			return ""
		}
		if validTableName(r.Table) && len(r.Table) <= maxIdentLen {
			key := strings.ToLower(r.Table)
			pos := at(p.file, r.TablePos, r.Pos)
			if f, dup := tables[key]; dup {
				v.errorf(pos, ErrDuplicate, w, "table %q%s is already used by record %s (%s)", r.Table, hint(r.TablePos), f.r.Name, f.pos)
			} else {
				tables[key] = first{r, pos}
			}
		}
		if indexNameProblem(r.Index) == "" {
			pos := at(p.file, r.IndexPos, r.Pos)
			if f, dup := indices[r.Index]; dup {
				v.errorf(pos, ErrDuplicate, w, "index %q%s is already used by record %s (%s)", clip(r.Index), hint(r.IndexPos), f.r.Name, f.pos)
			} else {
				indices[r.Index] = first{r, pos}
			}
		}
		if prefixProblem(r.Prefix) == "" {
			pos := at(p.file, r.PrefixPos, r.Pos)
			if f, dup := prefixes[r.Prefix]; dup {
				v.errorf(pos, ErrDuplicate, w, "key prefix %q%s is already used by record %s (%s)", clip(r.Prefix), hint(r.PrefixPos), f.r.Name, f.pos)
			} else {
				prefixes[r.Prefix] = first{r, pos}
			}
		}
	}
	// Record renames: renamed_from names no record of the set, and no two records take one.
	renamed := map[string]Pos{}
	for _, p := range all {
		r := p.r
		if r.RenamedFromPos == (Pos{}) || !validRecordName(r.RenamedFrom) || r.RenamedFrom == r.Name {
			continue
		}
		pos := at(p.file, r.RenamedFromPos, r.Pos)
		if f, ok := records[GoName(r.RenamedFrom)]; ok && f.r.Name == r.RenamedFrom {
			v.errorf(pos, ErrDuplicate, where{record: r.Name}, "renamed_from %q names a record the set still has (%s)", r.RenamedFrom, f.pos)
		} else if prev, dup := renamed[r.RenamedFrom]; dup {
			v.errorf(pos, ErrDuplicate, where{record: r.Name}, "two records are renamed from %q (the other at %s)", r.RenamedFrom, prev)
		} else {
			renamed[r.RenamedFrom] = pos
		}
	}
	// Nested prefixes: a record's keys must not fall under another record's prefix.
	for _, p := range all {
		r := p.r
		f, ok := prefixes[r.Prefix]
		if !ok || f.r != r {
			continue
		}
		for i := strings.LastIndexByte(r.Prefix, '/'); i > 0; i = strings.LastIndexByte(r.Prefix[:i], '/') {
			if outer, nested := prefixes[r.Prefix[:i]]; nested {
				v.errorf(f.pos, ErrDuplicate, where{record: r.Name}, "key prefix %q is inside key prefix %q of record %s (%s)", clip(r.Prefix), clip(outer.r.Prefix), outer.r.Name, outer.pos)
				break
			}
		}
	}
}
