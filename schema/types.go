package schema

import "fmt"

// CurrentVersion is the schema format version this package reads.
const CurrentVersion = 1

// Pos is a position in a schema file.
type Pos struct {
	File string
	Line int // 1-based
	Col  int // 1-based
}

// String renders the position as file:line:col.
func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Set is the records of one or more schema files, generated together into one package.
type Set struct {
	Files []*File
}

// Records returns every record of every file, in file and declaration order.
func (s *Set) Records() []*Record {
	var out []*Record
	for _, f := range s.Files {
		out = append(out, f.Records...)
	}
	return out
}

// File is one parsed schema file.
type File struct {
	Path    string
	Version int
	Records []*Record
	Pos     Pos // position of the version key

	RecordsPos Pos // position of the records value; zero when the key is missing
}

// Record is a record type: one struct, one table, one index, one key prefix.
type Record struct {
	Name   string // as written, e.g. "Product" or "order_line"
	Doc    string // optional description, becomes the struct's doc comment
	ID     ID
	Fields []*Field // in declaration order, without the id

	Table  string // PostgreSQL table; set by Validate to its default when empty
	Index  string // Elasticsearch index; set by Validate to its default when empty
	Prefix string // S3 key prefix; set by Validate to its default when empty

	Pos Pos // position of the record's name (of the record's mapping when it has no name)

	// Positions of the per-backend names as written; zero when the name is the default.
	TablePos, IndexPos, PrefixPos Pos

	// RenamedFrom is the record's previous name (renamed_from), for migrations: the record
	// called RenamedFrom in the last migration's state is this one, renamed. Empty if not set.
	RenamedFrom    string
	RenamedFromPos Pos // position of the renamed_from value; zero when not written
}

// GoName returns the record's Go type name, GoName(r.Name).
func (r *Record) GoName() string { return GoName(r.Name) }

// ID is a record's id field.
type ID struct {
	Name      string // default "id"
	Type      Type   // TypeString or TypeUUID
	Generated bool   // Create assigns a UUIDv7 when the id is empty
	Pos       Pos    // position of the id's name; of the id mapping, or of the record's name, when not written

	// TypePos is the position of the id's type; zero when not written.
	TypePos Pos
	// GeneratedPos is the position of the id's generated value; zero when not written, and
	// then Validate sets Generated to its default (true for uuid, false for string).
	GeneratedPos Pos
}

// GoName returns the id's Go field name, GoName(id.Name).
func (id *ID) GoName() string { return GoName(id.Name) }

// Field is a record field.
type Field struct {
	Name     string // snake_case; also the JSON key and the column name
	Doc      string // optional description
	Type     Type   // the value type; for lists, the element type
	List     bool   // declared as list<Type>
	Required bool   // a value must be present (lists, bytes and json: non-empty)
	// Default is the default for a missing optional value, and for a required field the value
	// existing records get when a migration adds the field or makes it required: string,
	// int64, float64 or bool; nil if none. After Validate it is a string for string, text, uuid, enum and time (RFC 3339)
	// fields, int64 for int, float64 for float and bool for bool.
	Default any
	Values  []string // enum values (for enum and list<enum>)
	Unique  bool     // unique across records
	Indexed bool     // secondary index where the backend has them
	// Search is the full-text language of a searchable text field ("english" or "simple",
	// the languages of package runtime/textsearch); empty when the field is not searchable.
	Search  string
	Pos     Pos // position of the field's name
	TypePos Pos // position of the type value

	// Positions of optional keys' values as written; zero when the key is not written.
	DefaultPos, ValuesPos, UniquePos, IndexedPos, SearchPos Pos
	// ValuePos holds the position of each enum value, parallel to Values.
	ValuePos []Pos

	// RenamedFrom is the field's previous name (renamed_from), for migrations: the field
	// called RenamedFrom in the last migration's state is this one, renamed. Empty if not set.
	RenamedFrom    string
	RenamedFromPos Pos // position of the renamed_from value; zero when not written
}

// GoName returns the field's Go field name, GoName(f.Name).
func (f *Field) GoName() string { return GoName(f.Name) }

// TypeString returns the type as written in a schema: "int", or "list<int>" for a list.
func (f *Field) TypeString() string {
	if f.List {
		return "list<" + string(f.Type) + ">"
	}
	return string(f.Type)
}

// Type is a field value type.
type Type string

// Field types.
const (
	TypeString Type = "string"
	TypeText   Type = "text"
	TypeUUID   Type = "uuid"
	TypeInt    Type = "int"
	TypeFloat  Type = "float"
	TypeBool   Type = "bool"
	TypeTime   Type = "time"
	TypeBytes  Type = "bytes"
	TypeJSON   Type = "json"
	TypeEnum   Type = "enum"
)

// Types lists every scalar type name, in the order error messages show them.
var Types = []Type{TypeString, TypeText, TypeUUID, TypeInt, TypeFloat, TypeBool, TypeTime, TypeBytes, TypeJSON, TypeEnum}

// ListElemTypes are the element types a list<...> may have.
var ListElemTypes = []Type{TypeString, TypeText, TypeUUID, TypeInt, TypeFloat, TypeBool, TypeTime, TypeEnum}
