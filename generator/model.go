package generator

import (
	"errors"
	"fmt"
	"go/token"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/schema"
)

// Model is the generator's view of a validated schema set: every Go name and type the
// emitters need, computed once, with collisions between Go identifiers already ruled out.
type Model struct {
	Package  string    // Go package name
	Sources  []string  // base names of the schema files, in load order
	Records  []*Record // in file and declaration order
	Backends []Backend // selected backends
	// SQLCImport is the import path of the package sqlc generates (with the postgres backend).
	SQLCImport string
	// History is the package's migrations (OutDir/migrations), nil when it has none.
	History migrate.History
}

// Record is one schema record in the model.
type Record struct {
	s      *schema.Record
	goName string
	file   string
	id     *Field
	fields []*Field // schema fields, without the id
}

// Field is one field of a record in the model; the id is a Field too (IsID).
type Field struct {
	rec    *Record
	s      *schema.Field // nil for the id
	sid    *schema.ID    // set for the id only
	index  int           // index in the descriptor's Fields (the id is 0)
	goName string
	enum   string   // Go type of enum values; "" unless the type is enum
	consts []string // Go constant per enum value
}

// buildModel is the third stage: it names everything and checks for collisions.
func buildModel(set *schema.Set, cfg *Config) (*Model, error) {
	m := &Model{Package: cfg.Package, Backends: cfg.Backends}
	if cfg.has(BackendPostgres) {
		ip, err := cfg.sqlcImport()
		if err != nil {
			return nil, err
		}
		m.SQLCImport = ip
	}
	for _, f := range set.Files {
		m.Sources = append(m.Sources, filepath.Base(f.Path))
	}
	var errs []error
	for _, sr := range set.Records() {
		r := &Record{s: sr, goName: schema.GoName(sr.Name)}
		r.file = recordFileName(schema.SnakeName(sr.Name))
		r.id = &Field{rec: r, sid: &sr.ID, goName: schema.GoName(sr.ID.Name)}
		for i, sf := range sr.Fields {
			f := &Field{rec: r, s: sf, index: i + 1, goName: schema.GoName(sf.Name)}
			if sf.Type == schema.TypeEnum {
				if sf.List {
					f.enum = r.goName + singular(f.goName)
				} else {
					f.enum = r.goName + f.goName
				}
				for i, v := range sf.Values {
					suffix := enumValueGoName(v)
					name := f.enum + suffix
					if suffix == "" || !token.IsIdentifier(name) {
						errs = append(errs, fmt.Errorf("%s: enum value %q of %s.%s has no Go name (it needs a letter or digit)", f.ValuePos(i), v, sr.Name, sf.Name))
					}
					f.consts = append(f.consts, name)
				}
			}
			if err := checkDefault(sr, sf); err != nil {
				errs = append(errs, err)
			}
			r.fields = append(r.fields, f)
		}
		m.Records = append(m.Records, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := m.checkCollisions(); err != nil {
		return nil, err
	}
	return m, nil
}

// checkDefault rejects a default the emitter could not write; schema.Validate should have
// rejected it already, so this only guards against a silent drop.
func checkDefault(r *schema.Record, f *schema.Field) error {
	if f.Default == nil {
		return nil
	}
	bad := func(why string) error {
		return fmt.Errorf("%s: default of %s.%s: %s", f.Pos, r.Name, f.Name, why)
	}
	if f.List {
		return bad("only scalar fields can have a default")
	}
	switch f.Type {
	case schema.TypeString, schema.TypeText, schema.TypeUUID, schema.TypeEnum:
		if _, ok := f.Default.(string); ok {
			return nil
		}
	case schema.TypeInt:
		if _, ok := f.Default.(int64); ok {
			return nil
		}
	case schema.TypeFloat:
		switch f.Default.(type) {
		case float64, int64:
			return nil
		}
	case schema.TypeBool:
		if _, ok := f.Default.(bool); ok {
			return nil
		}
	case schema.TypeTime:
		if s, ok := f.Default.(string); ok {
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				return bad(fmt.Sprintf("%q is not an RFC 3339 time", s))
			}
			return nil
		}
	default:
		return bad(fmt.Sprintf("%s fields cannot have a default", f.Type))
	}
	return bad(fmt.Sprintf("value of Go type %T does not fit a %s field", f.Default, f.Type))
}

// enumValueGoName returns the Go name suffix of an enum value's constant; schema.Validate
// rejects values for which it is empty or the same as another value's.
func enumValueGoName(v string) string { return schema.EnumGoName(v) }

// singular returns the singular of an English plural Go name, for the element type of a
// list<enum> field (Tags → Tag, Categories → Category); other names are kept.
func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies") && len(s) > 3:
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(s, "sses"), strings.HasSuffix(s, "xes"), strings.HasSuffix(s, "ches"), strings.HasSuffix(s, "shes"):
		return s[:len(s)-2]
	case strings.HasSuffix(s, "ss"), strings.HasSuffix(s, "us"), strings.HasSuffix(s, "is"):
		return s
	case strings.HasSuffix(s, "s") && len(s) > 1:
		return s[:len(s)-1]
	}
	return s
}

// Name returns the record's name as written in the schema.
func (r *Record) Name() string { return r.s.Name }

// GoName returns the Go type name of the record's struct.
func (r *Record) GoName() string { return r.goName }

// Schema returns the schema record.
func (r *Record) Schema() *schema.Record { return r.s }

// FileName returns the name of the record's Go file.
func (r *Record) FileName() string { return r.file }

// ID returns the id field.
func (r *Record) ID() *Field { return r.id }

// Fields returns the schema fields, without the id.
func (r *Record) Fields() []*Field { return r.fields }

// All returns the id and then every schema field: the descriptor's field order.
func (r *Record) All() []*Field { return append([]*Field{r.id}, r.fields...) }

// Enums returns the fields whose values are of a generated enum type.
func (r *Record) Enums() []*Field {
	var out []*Field
	for _, f := range r.fields {
		if f.enum != "" {
			out = append(out, f)
		}
	}
	return out
}

// FieldsVar returns the name of the variable holding the field handles.
func (r *Record) FieldsVar() string { return r.goName + "Fields" }

// QueryFunc returns the name of the query constructor.
func (r *Record) QueryFunc() string { return r.goName + "Query" }

// RepositoryType returns the name of the repository interface alias.
func (r *Record) RepositoryType() string { return r.goName + "Repository" }

// SchemaVar returns the name of the descriptor variable.
func (r *Record) SchemaVar() string { return r.goName + "Schema" }

// CloneFunc returns the name of the deep-copy function.
func (r *Record) CloneFunc() string { return "clone" + r.goName }

// PrepareFunc returns the name of the write-preparation function.
func (r *Record) PrepareFunc() string { return "prepare" + r.goName }

// ProjectFunc returns the name of the projection function.
func (r *Record) ProjectFunc() string { return "project" + r.goName }

// AddrFunc returns the name of the field-address function.
func (r *Record) AddrFunc() string { return "addr" + r.goName }

// DocComment returns the struct's doc comment: the schema doc, made to start with the Go
// name, or a default sentence.
func (r *Record) DocComment(pkg string) string {
	doc := strings.TrimSpace(r.s.Doc)
	if doc == "" {
		return fmt.Sprintf("%s is a record of the %s schema.", r.goName, pkg)
	}
	return startWith(r.goName, doc)
}

// startWith makes doc a Go doc comment for name: unchanged if it starts with name,
// else "name is doc" with doc's first letter lowered (unless it starts an acronym).
func startWith(name, doc string) string {
	if strings.HasPrefix(doc, name+" ") {
		return doc
	}
	rs := []rune(doc)
	if len(rs) > 1 && unicode.IsUpper(rs[0]) && !unicode.IsUpper(rs[1]) {
		rs[0] = unicode.ToLower(rs[0])
	}
	return name + " is " + string(rs)
}

// Name returns the field's schema name (its JSON key and column name).
func (f *Field) Name() string {
	if f.sid != nil {
		return f.sid.Name
	}
	return f.s.Name
}

// Pos returns the position of the field's name in the schema.
func (f *Field) Pos() schema.Pos {
	if f.sid != nil {
		return f.sid.Pos
	}
	return f.s.Pos
}

// GoName returns the Go struct field name.
func (f *Field) GoName() string { return f.goName }

// Index returns the field's index in the descriptor (the id is 0).
func (f *Field) Index() int { return f.index }

// IsID reports whether the field is the record's id.
func (f *Field) IsID() bool { return f.sid != nil }

// Type returns the value type (the element type for lists).
func (f *Field) Type() schema.Type {
	if f.sid != nil {
		return f.sid.Type
	}
	return f.s.Type
}

// IsList reports whether the field is a list.
func (f *Field) IsList() bool { return f.s != nil && f.s.List }

// Required reports whether the schema requires a value (the id always does).
func (f *Field) Required() bool { return f.sid != nil || f.s.Required }

// Doc returns the field's schema doc.
func (f *Field) Doc() string {
	if f.s == nil {
		return ""
	}
	return strings.TrimSpace(f.s.Doc)
}

// Default returns the default value of a missing optional value, or nil.
func (f *Field) Default() any {
	if f.s == nil {
		return nil
	}
	return f.s.Default
}

// Values returns the enum values.
func (f *Field) Values() []string {
	if f.s == nil {
		return nil
	}
	return f.s.Values
}

// ValuePos returns the position of the i-th enum value, or of the field when unknown.
func (f *Field) ValuePos(i int) schema.Pos {
	if f.s != nil && i < len(f.s.ValuePos) {
		return f.s.ValuePos[i]
	}
	return f.Pos()
}

// EnumType returns the Go type of the enum values; "" unless the type is enum.
func (f *Field) EnumType() string { return f.enum }

// EnumConsts returns the Go constant of each enum value, in Values order.
func (f *Field) EnumConsts() []string { return f.consts }

// EnumConst returns the constant of an enum value.
func (f *Field) EnumConst(v string) string {
	for i, x := range f.Values() {
		if x == v {
			return f.consts[i]
		}
	}
	return ""
}

// ValuesVar returns the unexported variable holding the enum values, for prepare.
func (f *Field) ValuesVar() string { return "values" + f.enum }

// ByValue reports whether the Go field holds no pointer: required scalars, lists, bytes
// and json (which are missing when empty).
func (f *Field) ByValue() bool {
	return f.Required() || f.IsList() || f.Type() == schema.TypeBytes || f.Type() == schema.TypeJSON
}

// Pointer reports whether the Go field is a pointer (an optional scalar; nil is missing).
func (f *Field) Pointer() bool { return !f.ByValue() }

// Optional reports whether the descriptor marks the field as possibly missing: optional
// scalars and every list, bytes and json field.
func (f *Field) Optional() bool {
	return f.Pointer() || f.IsList() || f.Type() == schema.TypeBytes || f.Type() == schema.TypeJSON
}

// Unique reports whether the schema declares the field unique.
func (f *Field) Unique() bool { return f.s != nil && f.s.Unique }

// Indexed reports whether the schema declares the field indexed.
func (f *Field) Indexed() bool { return f.s != nil && f.s.Indexed }

// Search returns the full-text language of a searchable text field ("english", "simple"),
// or "" when the field is not searchable.
func (f *Field) Search() string {
	if f.s == nil {
		return ""
	}
	return f.s.Search
}

// IsString reports whether values are Go strings (string, text, uuid, enum).
func (f *Field) IsString() bool {
	switch f.Type() {
	case schema.TypeString, schema.TypeText, schema.TypeUUID, schema.TypeEnum:
		return true
	}
	return false
}

// KindName returns the name of the field's query.Kind constant.
func (f *Field) KindName() string {
	switch f.Type() {
	case schema.TypeString:
		return "KindString"
	case schema.TypeText:
		return "KindText"
	case schema.TypeUUID:
		return "KindUUID"
	case schema.TypeEnum:
		return "KindEnum"
	case schema.TypeInt:
		return "KindInt"
	case schema.TypeFloat:
		return "KindFloat"
	case schema.TypeBool:
		return "KindBool"
	case schema.TypeTime:
		return "KindTime"
	case schema.TypeBytes:
		return "KindBytes"
	case schema.TypeJSON:
		return "KindJSON"
	}
	panic("generator: unknown type " + string(f.Type()))
}

// Accessor returns the name of the descriptor accessor the field sets (Str, Ints, ...).
func (f *Field) Accessor() string {
	var a string
	switch f.Type() {
	case schema.TypeString, schema.TypeText, schema.TypeUUID, schema.TypeEnum:
		a = "Str"
	case schema.TypeInt:
		a = "Int"
	case schema.TypeFloat:
		a = "Float"
	case schema.TypeBool:
		a = "Bool"
	case schema.TypeTime:
		a = "Time"
	case schema.TypeBytes, schema.TypeJSON:
		a = "Bytes"
	}
	if f.IsList() {
		a += "s"
	}
	return a
}

// goFileSuffixes are the file name suffixes the go command treats specially.
var goFileSuffixes = strings.Fields(`test
	aix android darwin dragonfly freebsd hurd illumos ios js linux nacl netbsd openbsd plan9 solaris wasip1 windows zos
	386 amd64 amd64p32 arm armbe arm64 arm64be loong64 mips mipsle mips64 mips64le mips64p32 mips64p32le
	ppc ppc64 ppc64le riscv riscv64 s390 s390x sparc sparc64 wasm`)

// recordFileName returns the Go file name for a record whose snake name is snake:
// snake.go, or snake_record.go when snake.go would be a build-constrained or test file or
// one of the package-wide files.
func recordFileName(snake string) string {
	base := snake
	special := strings.HasPrefix(base, "_") || strings.HasPrefix(base, ".") || reservedFile(base)
	parts := strings.Split(base, "_")
	if len(parts) > 1 {
		for _, s := range goFileSuffixes {
			special = special || parts[len(parts)-1] == s
		}
	}
	if special {
		base += "_record"
	}
	return base + ".go"
}
