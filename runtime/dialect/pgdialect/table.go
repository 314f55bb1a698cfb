package pgdialect

import (
	"fmt"
	"strings"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// TableDef describes a record's table independently of its Go type: what the PostgreSQL
// backend creates at run time (TableDefOf) and what the generator renders into
// postgres_schema.sql (built from the schema, with defaults).
type TableDef struct {
	Table   string // table name, optionally "schema.table"
	Columns []ColumnDef
}

// ColumnDef is one field's column in a TableDef. Columns[0] is the id.
type ColumnDef struct {
	Name     string
	Kind     query.Kind
	List     bool
	Optional bool
	Unique   bool
	Indexed  bool
	Enum     []string // allowed values of an enum field, checked by a CHECK constraint
	Default  string   // SQL expression of the column default, "" for none
	// Search is the full-text language of a searchable text column ("" for none): the table
	// gets a generated tsvector column (SearchColumn) and a GIN index on it.
	Search string
	// OldName is the old column of a renamed field that code of the previous version still
	// uses, kept in step by a trigger (CompatName) until a later migration drops it; "" for
	// none. CreateTable does not create it: only a migration that renames makes it.
	OldName string
}

// TableDefOf returns the table definition of desc under the given table name (no
// defaults: the runtime descriptor does not carry them, and Prepare applies them on every
// write).
func TableDefOf[T any](desc *record.Desc[T], table string) TableDef {
	t := TableDef{Table: table}
	for i := range desc.Fields {
		f := &desc.Fields[i]
		t.Columns = append(t.Columns, ColumnDef{Name: f.Column, Kind: f.Kind, List: f.List,
			Optional: f.Optional, Unique: f.Unique, Indexed: f.Indexed, Enum: f.Enum, Search: f.Search})
	}
	return t
}

// Columns returns the columns of desc's table, in field order, then the version column.
func Columns[T any](desc *record.Desc[T]) []Column { return TableDefOf(desc, "").ColumnList() }

// SchemaSQL returns the statements that create desc's table under the given name (see
// TableDef.SQL).
func SchemaSQL[T any](desc *record.Desc[T], table string) []string {
	return TableDefOf(desc, table).SQL()
}

// column returns c as a drift check compares it.
func (c ColumnDef) column() Column {
	typ, coll := ColumnType(c.Kind, c.List)
	return Column{Name: c.Name, Type: typ, Collate: coll, NotNull: !c.Optional && !c.List}
}

// ColumnList returns the table's columns as the drift check compares them: the fields in
// order, the version column, then the generated tsvector column of each searchable field.
func (t TableDef) ColumnList() []Column {
	out := make([]Column, 0, len(t.Columns)+1)
	for _, c := range t.Columns {
		out = append(out, c.column())
	}
	out = append(out, Column{Name: VersionColumn, Type: "bigint", NotNull: true})
	for _, c := range t.Columns {
		if c.Search != "" {
			out = append(out, c.searchColumn())
		}
	}
	return out
}

// SQL returns the statements that create the table: SearchSetupSQL when a column is
// searchable, CreateTable, then CreateIndexes. Every statement is idempotent.
func (t TableDef) SQL() []string {
	var out []string
	if t.searchable() {
		out = append(out, SearchSetupSQL())
	}
	out = append(out, t.CreateTable())
	return append(out, t.CreateIndexes()...)
}

// CreateTable returns the CREATE TABLE IF NOT EXISTS statement: every column (the fields,
// then the version column) with its type, collation, default and NOT NULL, the primary key
// on the id and a CHECK constraint per enum field.
func (t TableDef) CreateTable() string {
	var parts []string
	for i, c := range t.ColumnList() {
		def := ""
		if i < len(t.Columns) {
			def = t.Columns[i].Default
		}
		parts = append(parts, columnSQL(c, def))
	}
	parts = append(parts, fmt.Sprintf("CONSTRAINT %s PRIMARY KEY (%s)", Quote(PkeyName(t.Table)), Quote(t.Columns[0].Name)))
	for _, c := range t.Columns {
		if chk, ok := t.checkConstraint(c); ok {
			parts = append(parts, chk)
		}
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n\t%s\n)", QuoteTable(t.Table), strings.Join(parts, ",\n\t"))
}

// CreateIndexes returns the CREATE INDEX IF NOT EXISTS statements of the table, in field
// order: a unique index per unique field and an index per indexed field (GIN for lists,
// B-tree otherwise), then a GIN index per searchable field.
func (t TableDef) CreateIndexes() []string {
	var stmts []string
	for _, c := range t.Columns[1:] {
		if s, ok := t.createIndex(c); ok {
			stmts = append(stmts, s)
		}
	}
	for _, c := range t.Columns[1:] {
		if ix, ok := t.SearchIndexOf(c); ok {
			stmts = append(stmts, ix.CreateSQL(t.Table, false))
		}
	}
	return stmts
}

// columnSQL returns a column definition: name, type, collation, default (def, unless "")
// and NOT NULL.
func columnSQL(c Column, def string) string {
	s := Quote(c.Name) + " " + c.TypeSQL()
	if c.Generated != "" {
		s += " GENERATED ALWAYS AS (" + c.Generated + ") STORED"
	}
	if def != "" {
		s += " DEFAULT " + def
	}
	if c.NotNull {
		s += " NOT NULL"
	}
	return s
}

// Check is the CHECK constraint of an enum column: its values are the allowed ones.
type Check struct {
	Name   string // constraint name, IndexName(table, column, "check")
	Column string
	List   bool
	Values []string
}

// SQL returns the constraint as a table definition or ADD writes it:
// CONSTRAINT name CHECK (...).
func (c Check) SQL() string {
	vals := make([]string, len(c.Values))
	for j, v := range c.Values {
		vals[j] = Literal(v)
	}
	name, col := Quote(c.Name), Quote(c.Column)
	if c.List {
		return fmt.Sprintf("CONSTRAINT %s CHECK (%s <@ ARRAY[%s]::text[])", name, col, strings.Join(vals, ", "))
	}
	return fmt.Sprintf("CONSTRAINT %s CHECK (%s IN (%s))", name, col, strings.Join(vals, ", "))
}

// CheckOf returns the CHECK constraint of column c of the table, and false when c is not an
// enum with values.
func (t TableDef) CheckOf(c ColumnDef) (Check, bool) {
	if c.Kind != query.KindEnum || len(c.Enum) == 0 {
		return Check{}, false
	}
	return Check{Name: IndexName(t.Table, c.Name, "check"), Column: c.Name, List: c.List, Values: c.Enum}, true
}

// checkConstraint returns the CHECK constraint of an enum column with values, and false for
// other columns.
func (t TableDef) checkConstraint(c ColumnDef) (string, bool) {
	if chk, ok := t.CheckOf(c); ok {
		return chk.SQL(), true
	}
	return "", false
}

// Index is the secondary index of a unique or indexed column.
type Index struct {
	Name   string // IndexName(table, column, "key") for a unique column, "idx" otherwise
	Column string
	Unique bool
	GIN    bool // an indexed list column
}

// IndexOf returns the index of column c of the table, and false when c is neither unique nor
// indexed. A unique column has only its unique index.
func (t TableDef) IndexOf(c ColumnDef) (Index, bool) {
	switch {
	case c.Unique:
		return Index{Name: IndexName(t.Table, c.Name, "key"), Column: c.Name, Unique: true}, true
	case c.Indexed:
		return Index{Name: IndexName(t.Table, c.Name, "idx"), Column: c.Name, GIN: c.List}, true
	}
	return Index{}, false
}

// CreateSQL returns the CREATE [UNIQUE] INDEX [CONCURRENTLY] IF NOT EXISTS statement of the
// index on table.
func (ix Index) CreateSQL(table string, concurrently bool) string {
	s := "CREATE INDEX "
	if ix.Unique {
		s = "CREATE UNIQUE INDEX "
	}
	if concurrently {
		s += "CONCURRENTLY "
	}
	using := ""
	if ix.GIN {
		using = "USING gin "
	}
	return fmt.Sprintf("%sIF NOT EXISTS %s ON %s %s(%s)", s, Quote(ix.Name), QuoteTable(table), using, Quote(ix.Column))
}

// createIndex returns the statement creating the index of a unique or indexed column, and
// false for other columns.
func (t TableDef) createIndex(c ColumnDef) (string, bool) {
	if ix, ok := t.IndexOf(c); ok {
		return ix.CreateSQL(t.Table, false), true
	}
	return "", false
}
