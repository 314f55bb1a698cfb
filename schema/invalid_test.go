package schema

import (
	"errors"
	"strings"
	"testing"
)

// tfile is an inline schema file.
type tfile struct{ name, src string }

// y strips the leading newline of a raw string literal.
func y(s string) string { return strings.TrimPrefix(s, "\n") }

// parseAndValidate parses files like Load does and validates the set when it parsed.
func parseAndValidate(files ...tfile) (*Set, error) {
	set := &Set{}
	var errs ErrorList
	for _, f := range files {
		file, err := Parse(f.name, []byte(f.src))
		if err != nil {
			errs = append(errs, err.(ErrorList)...)
			continue
		}
		set.Files = append(set.Files, file)
	}
	if len(errs) > 0 {
		errs.sort()
		return nil, errs
	}
	return set, Validate(set)
}

// head is a valid file start; cases append records to it.
const head = "version: 1\nrecords:\n"

var invalidCases = []struct {
	name  string
	files []tfile
	want  string
	kind  error // the kind of the first error
}{
	// --- Parse: YAML and structure ---
	{name: "syntax error", files: one(head + "  - name: A\n    fields: [a, b\n"), want: "s.yaml:4:1: invalid YAML: did not find expected ',' or ']'", kind: ErrSyntax},
	{name: "tab indentation", files: one("version: 1\n\trecords: []\n"), want: "s.yaml:2:1: invalid YAML: found a tab character that violates indentation", kind: ErrSyntax},
	{name: "second document", files: one(head + "  - name: A\n---\nversion: 1\n"), want: "s.yaml:4:1: a schema file holds one YAML document; found another here", kind: ErrSyntax},
	{name: "alias", files: one(y(`
version: 1
records:
  - name: A
    fields:
      - &f {name: a, type: int}
      - *f
`)), want: "s.yaml:6:9: YAML aliases (*f) are not supported; write the value out", kind: ErrSyntax},
	{name: "root is a list", files: one("- version: 1\n"), want: "s.yaml:1:1: a schema file must be a mapping with the keys version and records, got a list", kind: ErrWrongKind},
	{name: "unknown top-level key", files: one(head + "  - name: A\nrecrods: []\n"), want: "s.yaml:4:1: unknown key \"recrods\" (expected version or records)", kind: ErrUnknownKey},
	{name: "unknown record key", files: one(head + "  - name: A\n    table: a\n"), want: "s.yaml:4:5: record A: unknown key \"table\" (expected name, doc, id, postgres, elasticsearch, s3, fields or renamed_from)", kind: ErrUnknownKey},
	{name: "unknown field key", files: one(y(`
version: 1
records:
  - name: Product
    fields:
      - name: color
        type: string
        colour: red
`)), want: "s.yaml:7:9: record Product, field color: unknown key \"colour\" (expected name, type, doc, required, default, values, unique, indexed, search or renamed_from)", kind: ErrUnknownKey},
	{name: "non-string key", files: one(head + "  - name: A\n    1: x\n"), want: "s.yaml:4:5: record A: unknown key integer 1 (expected name, doc, id, postgres, elasticsearch, s3, fields or renamed_from)", kind: ErrUnknownKey},
	{name: "duplicate key", files: one(y(`
version: 1
records:
  - name: Product
    fields:
      - name: a
        type: int
        type: float
`)), want: "s.yaml:7:9: record Product, field a: duplicate key \"type\" (first at line 6)", kind: ErrDuplicate},
	{name: "version is a string", files: one("version: \"1\"\nrecords:\n  - name: A\n"), want: "s.yaml:1:10: version must be an integer, got string \"1\"", kind: ErrWrongKind},
	{name: "version out of range", files: one("version: 99999999999\nrecords:\n  - name: A\n"), want: "s.yaml:1:10: unsupported version 99999999999 (supported versions: 1)", kind: ErrVersion},
	{name: "records is a mapping", files: one("version: 1\nrecords:\n  name: A\n"), want: "s.yaml:3:3: records must be a list of records, got a mapping", kind: ErrWrongKind},
	{name: "record is a string", files: one(head + "  - Product\n"), want: "s.yaml:3:5: record #1: a record must be a mapping, got string \"Product\"", kind: ErrWrongKind},
	{name: "fields is a mapping", files: one(head + "  - name: A\n    fields: {a: int}\n"), want: "s.yaml:4:13: record A: fields must be a list of fields, got a mapping", kind: ErrWrongKind},
	{name: "field is a string", files: one(head + "  - name: A\n    fields: [a]\n"), want: "s.yaml:4:14: record A, field #1: a field must be a mapping, got string \"a\"", kind: ErrWrongKind},
	{name: "name is a number", files: one(head + "  - name: 123\n"), want: "s.yaml:3:11: record #1: name must be a string, got integer 123", kind: ErrWrongKind},
	{name: "doc is a list", files: one(head + "  - name: A\n    doc: [a]\n"), want: "s.yaml:4:10: record A: doc must be a string, got a list", kind: ErrWrongKind},
	{name: "required is yes", files: one(y(`
version: 1
records:
  - name: Product
    fields:
      - name: a
        type: int
        required: yes
`)), want: "s.yaml:7:19: record Product, field a: required must be true or false, got string \"yes\"", kind: ErrWrongKind},
	{name: "unknown type", files: one(y(`
version: 1
# The example of the issue, at its position.
records:
  - name: Product
    doc: A product.
    fields:
      - name: name
        type: string
      - name: stock
        type: int
      - name: price
        type: flaot
`)), want: "s.yaml:12:15: record Product, field price: unknown type \"flaot\" (expected string, text, uuid, int, float, bool, time, bytes, json, enum or list<T>)", kind: ErrUnknownType},
	{name: "unknown list element type", files: one(head + "  - name: A\n    fields:\n      - {name: a, type: list<decimal>}\n"), want: "s.yaml:5:25: record A, field a: unknown list element type \"decimal\" (expected string, text, uuid, int, float, bool, time or enum)", kind: ErrUnknownType},
	{name: "list of bytes", files: one(head + "  - name: A\n    fields:\n      - {name: a, type: list<bytes>}\n"), want: "s.yaml:5:25: record A, field a: a list cannot hold bytes values (list element types: string, text, uuid, int, float, bool, time or enum)", kind: ErrUnknownType},
	{name: "list of lists", files: one(head + "  - name: A\n    fields:\n      - {name: a, type: list<list<int>>}\n"), want: "s.yaml:5:25: record A, field a: unknown list element type \"list<int>\" (expected string, text, uuid, int, float, bool, time or enum)", kind: ErrUnknownType},
	{name: "type in upper case", files: one(head + "  - name: A\n    fields:\n      - {name: a, type: String}\n"), want: "s.yaml:5:25: record A, field a: unknown type \"String\" (expected string, text, uuid, int, float, bool, time, bytes, json, enum or list<T>)", kind: ErrUnknownType},
	{name: "id is a string", files: one(head + "  - name: A\n    id: uuid\n"), want: "s.yaml:4:9: record A: id must be a mapping such as {name: id, type: uuid}, got string \"uuid\"", kind: ErrWrongKind},
	{name: "id required false", files: one(head + "  - name: A\n    id: {type: uuid, required: false}\n"), want: "s.yaml:4:32: record A, field id: an id cannot be optional (remove required: false)", kind: ErrInvalidValue},
	{name: "id optional marker", files: one(head + "  - name: A\n    id: {name: key, optional: true}\n"), want: "s.yaml:4:21: record A, field key: an id cannot be optional (remove optional)", kind: ErrInvalidValue},
	{name: "id default", files: one(head + "  - name: A\n    id: {default: x}\n"), want: "s.yaml:4:10: record A, field id: an id cannot be optional (remove default)", kind: ErrInvalidValue},
	{name: "id unknown type", files: one(head + "  - name: A\n    id: {type: uid}\n"), want: "s.yaml:4:16: record A, field id: unknown type \"uid\" (an id is string or uuid)", kind: ErrUnknownType},
	{name: "id generated is a string", files: one(head + "  - name: A\n    id: {type: uuid, generated: \"true\"}\n"), want: "s.yaml:4:33: record A, field id: generated must be true or false, got string \"true\"", kind: ErrWrongKind},
	{name: "default is a list", files: one(head + "  - name: A\n    fields:\n      - {name: a, type: string, default: [x]}\n"), want: "s.yaml:5:42: record A, field a: default must be a single value, got a list", kind: ErrWrongKind},
	{name: "default is null", files: one(head + "  - name: A\n    fields:\n      - {name: a, type: string, default: null}\n"), want: "s.yaml:5:42: record A, field a: default must be a value, got null (leave default out for no default)", kind: ErrWrongKind},
	{name: "values is a string", files: one(head + "  - name: A\n    fields:\n      - {name: a, type: enum, values: draft}\n"), want: "s.yaml:5:39: record A, field a: values must be a list of strings, got string \"draft\"", kind: ErrWrongKind},
	{name: "values are numbers", files: one(head + "  - name: A\n    fields:\n      - {name: a, type: enum, values: [1, two, null]}\n"), want: "s.yaml:5:40: record A, field a: an enum value must be a string, got integer 1 (quote it)\n" +
		"s.yaml:5:48: record A, field a: an enum value must be a string, got null",
		kind: ErrWrongKind},
	{name: "postgres is a string", files: one(head + "  - name: A\n    postgres: products\n"), want: "s.yaml:4:15: record A: postgres must be a mapping with the key table, got string \"products\"", kind: ErrWrongKind},
	{name: "unknown postgres key", files: one(head + "  - name: A\n    postgres: {table: a, schema: public}\n"), want: "s.yaml:4:26: record A: unknown key \"schema\" (expected table)", kind: ErrUnknownKey},
	{name: "table is a number", files: one(head + "  - name: A\n    postgres: {table: 5}\n"), want: "s.yaml:4:23: record A: postgres.table must be a string, got integer 5", kind: ErrWrongKind},
	{name: "errors in two files", files: []tfile{
		{"b.yaml", head + "  - name: B\n    colour: red\n"},
		{"a.yaml", "version: x\nrecords: []\n"},
	}, want: "a.yaml:1:10: version must be an integer, got string \"x\"\n" +
		"b.yaml:4:5: record B: unknown key \"colour\" (expected name, doc, id, postgres, elasticsearch, s3, fields or renamed_from)",
		kind: ErrWrongKind},

	{name: "mapping value error on line 1", files: one("version: 1: x\nrecords: []\n"), want: "s.yaml:1:1: invalid YAML: mapping values are not allowed in this context", kind: ErrSyntax},
	{name: "parser error reported 0-based", files: one(head + "  - name: A\n name: B\n"), want: "s.yaml:4:1: invalid YAML: did not find expected key", kind: ErrSyntax},
	{name: "invalid UTF-8", files: one(head + "  - name: \xff\n"), want: "s.yaml:3:11: invalid UTF-8 (byte 0xFF)", kind: ErrSyntax},
	{name: "control character", files: one(head + "  - name: A\x01\n"), want: "s.yaml:3:12: character U+0001 is not allowed in YAML", kind: ErrSyntax},
	{name: "UTF-16", files: one("\xff\xfev\x00"), want: "s.yaml:1:1: a schema file must be UTF-8 (found a UTF-16 byte order mark)", kind: ErrSyntax},

	// --- Validate: file ---
	{name: "empty file", files: one(""), want: "s.yaml:1:1: missing version (supported versions: 1)\n" +
		"s.yaml:1:1: no records (a schema file declares at least one record under records)",
		kind: ErrVersion},
	{name: "version missing", files: one("records:\n  - name: A\n"), want: "s.yaml:1:1: missing version (supported versions: 1)", kind: ErrVersion},
	{name: "version 2", files: one("version: 2\nrecords:\n  - name: A\n"), want: "s.yaml:1:1: unsupported version 2 (supported versions: 1)", kind: ErrVersion},
	{name: "version 0", files: one("version: 0\nrecords:\n  - name: A\n"), want: "s.yaml:1:1: unsupported version 0 (supported versions: 1)", kind: ErrVersion},
	{name: "no records", files: one("version: 1\nrecords: []\n"), want: "s.yaml:2:10: no records (a schema file declares at least one record under records)", kind: ErrMissing},

	// --- Validate: names ---
	{name: "record without name", files: one(head + "  - doc: nameless\n"), want: "s.yaml:3:5: record #1: record has no name", kind: ErrMissing},
	{name: "invalid record name", files: one(head + "  - name: order-line\n"), want: "s.yaml:3:11: record order-line: invalid record name \"order-line\" (must match ^[A-Za-z][A-Za-z0-9_]*$)", kind: ErrInvalidName},
	{name: "record name starts with a digit", files: one(head + "  - name: \"1Product\"\n"), want: "s.yaml:3:11: record 1Product: invalid record name \"1Product\" (must match ^[A-Za-z][A-Za-z0-9_]*$)", kind: ErrInvalidName},
	{name: "record name derives a long table", files: one(head + "  - name: " + strings.Repeat("A", 64) + "\n"), want: "s.yaml:3:11: record AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA: table name \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" (derived from the record name) is longer than 63 bytes (the PostgreSQL identifier limit)", kind: ErrInvalidName},
	{name: "field without name", files: one(head + "  - name: A\n    fields:\n      - {type: int}\n"), want: "s.yaml:5:9: record A, field #1: field has no name", kind: ErrMissing},
	{name: "invalid field name", files: one(head + "  - name: A\n    fields:\n      - {name: Price, type: float}\n"), want: "s.yaml:5:16: record A, field Price: invalid field name \"Price\" (must match ^[a-z][a-z0-9_]*$)", kind: ErrInvalidName},
	{name: "field name too long", files: one(head + "  - name: A\n    fields:\n      - {name: " + strings.Repeat("a", 64) + ", type: int}\n"), want: "s.yaml:5:16: record A, field aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: field name is longer than 63 bytes (the PostgreSQL identifier limit)", kind: ErrInvalidName},
	{name: "invalid id name", files: one(head + "  - name: A\n    id: {name: Key}\n"), want: "s.yaml:4:16: record A, field Key: invalid id name \"Key\" (must match ^[a-z][a-z0-9_]*$)", kind: ErrInvalidName},
	{name: "field without type", files: one(head + "  - name: A\n    fields:\n      - {name: a}\n"), want: "s.yaml:5:16: record A, field a: field has no type", kind: ErrMissing},
	{name: "duplicate record name", files: one(head + "  - name: A\n  - name: B\n  - name: A\n"), want: "s.yaml:5:11: record A: duplicate record name (first declared at s.yaml:3:11)", kind: ErrDuplicate},
	{name: "record Go names collide across files", files: []tfile{
		{"a.yaml", head + "  - name: OrderLine\n"},
		{"b.yaml", head + "  - name: order_line\n"},
	}, want: "b.yaml:3:11: record order_line: record name has the same Go name (OrderLine) as record OrderLine (a.yaml:3:11)", kind: ErrDuplicate},
	{name: "duplicate field name", files: one(head + "  - name: A\n    fields:\n      - {name: a, type: int}\n      - {name: a, type: float}\n"), want: "s.yaml:6:16: record A, field a: duplicate field name \"a\" (first declared at s.yaml:5:16)", kind: ErrDuplicate},
	{name: "field Go names collide", files: one(head + "  - name: A\n    fields:\n      - {name: a_b, type: int}\n      - {name: a__b, type: int}\n"), want: "s.yaml:6:16: record A, field a__b: field \"a__b\" has the same Go name (AB) as field \"a_b\" (s.yaml:5:16)", kind: ErrDuplicate},
	{name: "field has the id's name", files: one(head + "  - name: A\n    fields:\n      - {name: id, type: string}\n"), want: "s.yaml:5:16: record A, field id: field \"id\" has the name of the record's default id (give the id another name with id: {name: ...})", kind: ErrDuplicate},
	{name: "field has the id's Go name", files: one(head + "  - name: A\n    id: {name: user_id}\n    fields:\n      - {name: user_i_d, type: string}\n"), want: "s.yaml:6:16: record A, field user_i_d: field \"user_i_d\" has the same Go name (UserID) as the record's id \"user_id\" (s.yaml:4:16)", kind: ErrDuplicate},
	{name: "reserved field name", files: one(head + "  - name: A\n    fields:\n      - {name: record_version, type: string}\n"), want: "s.yaml:5:16: record A, field record_version: field name \"record_version\" is reserved: its Go name RecordVersion holds the record's version", kind: ErrReserved},
	{name: "reserved id name", files: one(head + "  - name: A\n    id: {name: record_version}\n"), want: "s.yaml:4:16: record A, field record_version: id name \"record_version\" is reserved: its Go name RecordVersion holds the record's version", kind: ErrReserved},

	// --- Validate: types, enums, defaults ---
	{name: "id of type int", files: one(head + "  - name: A\n    id: {type: int}\n"), want: "s.yaml:4:16: record A, field id: an id must be of type string or uuid, got int", kind: ErrInvalidValue},
	{name: "id of list type", files: one(head + "  - name: A\n    id: {type: list<uuid>}\n"), want: "s.yaml:4:16: record A, field id: an id must be of type string or uuid, got list<uuid>", kind: ErrInvalidValue},
	{name: "enum without values", files: one(head + "  - name: A\n    fields:\n      - {name: status, type: enum}\n"), want: "s.yaml:5:30: record A, field status: an enum field needs values: a non-empty list of strings", kind: ErrMissing},
	{name: "enum with empty values", files: one(head + "  - name: A\n    fields:\n      - {name: status, type: list<enum>, values: []}\n"), want: "s.yaml:5:50: record A, field status: an enum field needs values: a non-empty list of strings", kind: ErrMissing},
	{name: "duplicate enum value", files: one(head + "  - name: A\n    fields:\n      - {name: status, type: enum, values: [draft, active, draft]}\n"), want: "s.yaml:5:60: record A, field status: duplicate enum value \"draft\" (first at s.yaml:5:45)", kind: ErrDuplicate},
	{name: "empty enum value", files: one(head + "  - name: A\n    fields:\n      - {name: status, type: enum, values: [draft, \"\"]}\n"), want: "s.yaml:5:52: record A, field status: empty enum value", kind: ErrInvalidValue},
	{name: "enum values with one Go name", files: one(head + "  - name: A\n    fields:\n      - {name: status, type: enum, values: [in-progress, in_progress]}\n"), want: "s.yaml:5:58: record A, field status: enum value \"in_progress\" has the same Go constant name suffix (InProgress) as enum value \"in-progress\" (s.yaml:5:45)", kind: ErrDuplicate},
	{name: "enum value without letters", files: one(head + "  - name: A\n    fields:\n      - {name: op, type: enum, values: [\"+\", \"-\"]}\n"), want: "s.yaml:5:41: record A, field op: enum value \"+\" has no ASCII letter or digit to name its Go constant\n" +
		"s.yaml:5:46: record A, field op: enum value \"-\" has no ASCII letter or digit to name its Go constant",
		kind: ErrInvalidValue},
	{name: "enum values with one ASCII Go name", files: one(head + "  - name: A\n    fields:\n      - {name: mood, type: enum, values: [\"été\", \"t\"]}\n"), want: "s.yaml:5:50: record A, field mood: enum value \"t\" has the same Go constant name suffix (T) as enum value \"été\" (s.yaml:5:43)", kind: ErrDuplicate},
	{name: "values on a non-enum", files: one(head + "  - name: A\n    fields:\n      - {name: a, type: string, values: [x]}\n"), want: "s.yaml:5:41: record A, field a: values are only allowed on enum and list<enum> fields, not on string", kind: ErrInvalidValue},
	{name: "default of the wrong type", files: one(head + "  - name: A\n    fields:\n      - {name: stock, type: int, default: many}\n"), want: "s.yaml:5:43: record A, field stock: default must be an integer, got string \"many\"", kind: ErrInvalidValue},
	{name: "unquoted number default on a string", files: one(head + "  - name: A\n    fields:\n      - {name: code, type: string, default: 42}\n"), want: "s.yaml:5:45: record A, field code: default must be a string, got integer 42 (quote it)", kind: ErrInvalidValue},
	{name: "fractional default on an int", files: one(head + "  - name: A\n    fields:\n      - {name: stock, type: int, default: 1.5}\n"), want: "s.yaml:5:43: record A, field stock: default must be an integer, got number 1.5", kind: ErrInvalidValue},
	{name: "default not among enum values", files: one(head + "  - name: A\n    fields:\n      - {name: status, type: enum, values: [draft, active], default: deleted}\n"), want: "s.yaml:5:70: record A, field status: default \"deleted\" is not one of the enum values (draft, active)", kind: ErrInvalidValue},
	{name: "bad default on a required field", files: one(head + "  - name: A\n    fields:\n      - {name: active, type: bool, required: true, default: yes}\n"), want: "s.yaml:5:61: record A, field active: default must be true or false, got string \"yes\"", kind: ErrInvalidValue},
	{name: "renamed_from not a field name", files: one(head + "  - name: A\n    fields:\n      - {name: a, type: int, renamed_from: Old}\n"), want: "s.yaml:5:44: record A, field a: renamed_from \"Old\" is not a valid field name (must match ^[a-z][a-z0-9_]*$)", kind: ErrInvalidName},
	{name: "renamed_from itself", files: one(head + "  - name: A\n    fields:\n      - {name: a, type: int, renamed_from: a}\n"), want: "s.yaml:5:44: record A, field a: renamed_from names the field itself", kind: ErrInvalidValue},
	{name: "renamed_from a field still there", files: one(head + "  - name: A\n    fields:\n      - {name: a, type: int}\n      - {name: b, type: int, renamed_from: a}\n      - {name: c, type: int, renamed_from: id}\n"), want: "s.yaml:6:44: record A, field b: renamed_from \"a\" names a field or id the record still has\n" +
		"s.yaml:7:44: record A, field c: renamed_from \"id\" names a field or id the record still has", kind: ErrDuplicate},
	{name: "two fields renamed from one", files: one(head + "  - name: A\n    fields:\n      - {name: b, type: int, renamed_from: a}\n      - {name: c, type: int, renamed_from: a}\n"), want: "s.yaml:6:44: record A, field c: two fields are renamed from \"a\" (the other at s.yaml:5:44)", kind: ErrDuplicate},
	{name: "record renamed_from", files: one(head + "  - name: A\n    renamed_from: A\n    fields: [{name: x, type: int}]\n  - name: B\n    renamed_from: A\n    fields: [{name: x, type: int}]\n  - name: C\n    renamed_from: 9x\n    fields: [{name: x, type: int}]\n  - name: D\n    renamed_from: Z\n    fields: [{name: x, type: int}]\n  - name: E\n    renamed_from: Z\n    fields: [{name: x, type: int}]\n"),
		want: "s.yaml:4:19: record A: renamed_from names the record itself\n" +
			"s.yaml:7:19: record B: renamed_from \"A\" names a record the set still has (s.yaml:3:11)\n" +
			"s.yaml:10:19: record C: renamed_from \"9x\" is not a valid record name (must match ^[A-Za-z][A-Za-z0-9_]*$)\n" +
			"s.yaml:16:19: record E: two records are renamed from \"Z\" (the other at s.yaml:13:19)", kind: ErrInvalidValue},
	{name: "default on a list", files: one(head + "  - name: A\n    fields:\n      - {name: tags, type: list<string>, default: x}\n"), want: "s.yaml:5:51: record A, field tags: a list<string> field cannot have a default", kind: ErrInvalidValue},
	{name: "default on bytes and json", files: one(head + "  - name: A\n    fields:\n      - {name: image, type: bytes, default: x}\n      - {name: attrs, type: json, default: \"{}\"}\n"), want: "s.yaml:5:45: record A, field image: a bytes field cannot have a default\n" +
		"s.yaml:6:44: record A, field attrs: a json field cannot have a default",
		kind: ErrInvalidValue},
	{name: "time default not RFC 3339", files: one(head + "  - name: A\n    fields:\n      - {name: at, type: time, default: 2024-01-31}\n"), want: "s.yaml:5:41: record A, field at: default \"2024-01-31\" is not an RFC 3339 time such as 2024-01-31T12:00:00Z", kind: ErrInvalidValue},
	{name: "uuid default not canonical", files: one(head + "  - name: A\n    fields:\n      - {name: ref, type: uuid, default: 0192F3C4-1111-7000-8000-000000000000}\n"), want: "s.yaml:5:42: record A, field ref: default \"0192F3C4-1111-7000-8000-000000000000\" is not a canonical lower-case UUID", kind: ErrInvalidValue},
	{name: "float default infinite", files: one(head + "  - name: A\n    fields:\n      - {name: ratio, type: float, default: .inf}\n"), want: "s.yaml:5:45: record A, field ratio: default must be a finite number, got number +Inf", kind: ErrInvalidValue},
	{name: "bool default is a string", files: one(head + "  - name: A\n    fields:\n      - {name: on, type: bool, default: \"true\"}\n"), want: "s.yaml:5:41: record A, field on: default must be true or false, got string \"true\"", kind: ErrInvalidValue},
	{name: "string default with NUL", files: one(head + "  - name: A\n    fields:\n      - {name: s, type: string, default: \"a\\0b\"}\n"), want: "s.yaml:5:42: record A, field s: default contains a NUL character", kind: ErrInvalidValue},
	{name: "unique on a list", files: one(head + "  - name: A\n    fields:\n      - {name: tags, type: list<string>, unique: true}\n"), want: "s.yaml:5:50: record A, field tags: unique is not supported on list<string> fields", kind: ErrInvalidValue},
	{name: "unknown search language", files: one(head + "  - name: A\n    fields:\n      - {name: body, type: text, search: klingon}\n"), want: "s.yaml:5:42: record A, field body: unknown search language \"klingon\" (expected english or simple)", kind: ErrInvalidValue},
	{name: "search on string", files: one(head + "  - name: A\n    fields:\n      - {name: body, type: string, search: english}\n"), want: "s.yaml:5:44: record A, field body: search is only allowed on text fields, not on string", kind: ErrInvalidValue},
	{name: "search on list", files: one(head + "  - name: A\n    fields:\n      - {name: body, type: list<text>, search: simple}\n"), want: "s.yaml:5:48: record A, field body: search is only allowed on text fields, not on list<text>", kind: ErrInvalidValue},
	{name: "indexed on json", files: one(head + "  - name: A\n    fields:\n      - {name: attrs, type: json, indexed: true}\n"), want: "s.yaml:5:44: record A, field attrs: indexed is not supported on json fields", kind: ErrInvalidValue},

	// --- Validate: per-backend names ---
	{name: "invalid table name", files: one(head + "  - name: A\n    postgres: {table: my-table}\n"), want: "s.yaml:4:23: record A: invalid table name \"my-table\" (must match ^[A-Za-z_][A-Za-z0-9_]*$)", kind: ErrInvalidName},
	{name: "empty table name", files: one(head + "  - name: A\n    postgres: {table: \"\"}\n"), want: "s.yaml:4:23: record A: table name is empty", kind: ErrInvalidName},
	{name: "table name too long", files: one(head + "  - name: A\n    postgres: {table: " + strings.Repeat("t", 64) + "}\n"), want: "s.yaml:4:23: record A: table name \"tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt\" is longer than 63 bytes (the PostgreSQL identifier limit)", kind: ErrInvalidName},
	{name: "index name in upper case", files: one(head + "  - name: A\n    elasticsearch: {index: Products}\n"), want: "s.yaml:4:28: record A: index name \"Products\" must be lower case", kind: ErrInvalidName},
	{name: "index name with a comma", files: one(head + "  - name: A\n    elasticsearch: {index: \"a,b\"}\n"), want: "s.yaml:4:28: record A: index name \"a,b\" cannot contain spaces or any of \\ / * ? \" < > | , # :", kind: ErrInvalidName},
	{name: "index name starting with _", files: one(head + "  - name: A\n    elasticsearch: {index: _all}\n"), want: "s.yaml:4:28: record A: index name \"_all\" cannot start with _, - or +", kind: ErrInvalidName},
	{name: "index name ..", files: one(head + "  - name: A\n    elasticsearch: {index: \"..\"}\n"), want: "s.yaml:4:28: record A: index name \"..\" cannot be . or ..", kind: ErrInvalidName},
	{name: "prefix with leading slash", files: one(head + "  - name: A\n    s3: {prefix: /catalog}\n"), want: "s.yaml:4:18: record A: key prefix \"/catalog\" cannot start or end with /", kind: ErrInvalidName},
	{name: "prefix with //", files: one(head + "  - name: A\n    s3: {prefix: a//b}\n"), want: "s.yaml:4:18: record A: key prefix \"a//b\" cannot contain //", kind: ErrInvalidName},
	{name: "prefix with ..", files: one(head + "  - name: A\n    s3: {prefix: a/../b}\n"), want: "s.yaml:4:18: record A: key prefix \"a/../b\" cannot have a . or .. segment", kind: ErrInvalidName},
	{name: "prefix with the reserved segment", files: one(head + "  - name: A\n    s3: {prefix: a/.repokit-unique}\n"), want: "s.yaml:4:18: record A: key prefix \"a/.repokit-unique\" cannot have a .repokit-unique segment (reserved for the S3 backend's reservations of unique values)", kind: ErrInvalidName},
	{name: "prefix with a space", files: one(head + "  - name: A\n    s3: {prefix: a b}\n"), want: "s.yaml:4:18: record A: key prefix \"a b\" must be printable ASCII without spaces", kind: ErrInvalidName},
	{name: "duplicate table", files: one(head + "  - name: A\n    postgres: {table: things}\n  - name: B\n    postgres: {table: Things}\n"), want: "s.yaml:6:23: record B: table \"Things\" is already used by record A (s.yaml:4:23)", kind: ErrDuplicate},
	{name: "explicit table equals a derived one", files: []tfile{
		{"a.yaml", head + "  - name: OrderLine\n"},
		{"b.yaml", head + "  - name: Line\n    postgres: {table: order_line}\n"},
	}, want: "b.yaml:4:23: record Line: table \"order_line\" is already used by record OrderLine (a.yaml:3:11)", kind: ErrDuplicate},
	{name: "duplicate index", files: one(head + "  - name: A\n    elasticsearch: {index: things}\n  - name: B\n    elasticsearch: {index: things}\n"), want: "s.yaml:6:28: record B: index \"things\" is already used by record A (s.yaml:4:28)", kind: ErrDuplicate},
	{name: "duplicate prefix", files: one(head + "  - name: A\n    s3: {prefix: x/things}\n  - name: B\n    s3: {prefix: x/things}\n"), want: "s.yaml:6:18: record B: key prefix \"x/things\" is already used by record A (s.yaml:4:18)", kind: ErrDuplicate},
	{name: "nested prefix", files: one(head + "  - name: A\n    s3: {prefix: catalog/products}\n  - name: B\n    s3: {prefix: catalog}\n"), want: "s.yaml:4:18: record A: key prefix \"catalog/products\" is inside key prefix \"catalog\" of record B (s.yaml:6:18)", kind: ErrDuplicate},

	// --- Several errors at once, sorted by position ---
	{name: "many errors", files: one(y(`
records:
  - name: Product
    fields:
      - name: price
        type: float
        default: cheap
      - name: status
        type: enum
      - name: Price
        type: int
  - name: Product
`)), want: "s.yaml:1:1: missing version (supported versions: 1)\n" +
		"s.yaml:6:18: record Product, field price: default must be a number, got string \"cheap\"\n" +
		"s.yaml:8:15: record Product, field status: an enum field needs values: a non-empty list of strings\n" +
		"s.yaml:9:15: record Product, field Price: invalid field name \"Price\" (must match ^[a-z][a-z0-9_]*$)\n" +
		"s.yaml:11:11: record Product: duplicate record name (first declared at s.yaml:2:11)",
		kind: ErrVersion},
}

func one(src string) []tfile { return []tfile{{"s.yaml", src}} }

func TestInvalid(t *testing.T) {
	for _, tc := range invalidCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseAndValidate(tc.files...)
			if err == nil {
				t.Fatalf("no error; want:\n%s", tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error:\n%s\nwant:\n%s", got, tc.want)
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("errors.Is(err, %v) = false", tc.kind)
			}
			var e *Error
			if !errors.As(err, &e) || !errors.Is(e.Kind, tc.kind) {
				t.Errorf("errors.As: first error %v, want kind %v", e, tc.kind)
			}
		})
	}
}
