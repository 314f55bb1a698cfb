package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// VersionColumn is the column holding a record's version (a bigint drawn at random for every
// write; the token a repository returns is its decimal form). No field may use this name.
const VersionColumn = "repokit_version"

// ErrSchemaDrift is wrapped by the error EnsureSchema returns when a table exists but does
// not match the record (see DriftError).
var ErrSchemaDrift = errors.New("postgres: table does not match the schema")

// Column is one column of a record's table.
type Column struct {
	Name    string // column name, unquoted
	Type    string // PostgreSQL type as format_type prints it, e.g. "text", "bigint[]"
	Collate string // "C" for text columns, "" otherwise
	NotNull bool
}

// ColumnType returns the PostgreSQL type and collation of a field of the given kind: text
// COLLATE "C" for string, text and enum (so that ORDER BY and comparisons are byte order,
// as on every backend), uuid, bigint, double precision, boolean, timestamp with time zone,
// bytea and json (not jsonb: json keeps the document's bytes as written); lists are arrays
// of the element type.
func ColumnType(k query.Kind, list bool) (typ, collate string) {
	switch k {
	case query.KindString, query.KindText, query.KindEnum:
		typ, collate = "text", "C"
	case query.KindUUID:
		typ = "uuid"
	case query.KindInt:
		typ = "bigint"
	case query.KindFloat:
		typ = "double precision"
	case query.KindBool:
		typ = "boolean"
	case query.KindTime:
		typ = "timestamp with time zone"
	case query.KindBytes:
		typ = "bytea"
	case query.KindJSON:
		typ = "json"
	default:
		return "", ""
	}
	if list {
		typ += "[]"
	}
	return typ, collate
}

// Columns returns the columns of desc's table, in field order, then the version column.
func Columns[T any](desc *record.Desc[T]) []Column { return TableDefOf(desc, "").ColumnList() }

// Quote returns name as a quoted SQL identifier (a dotted name is not split).
func Quote(name string) string { return pgx.Identifier{name}.Sanitize() }

func quoteTable(table string) string {
	if s, t, ok := strings.Cut(table, "."); ok {
		return pgx.Identifier{s, t}.Sanitize()
	}
	return Quote(table)
}

// Literal returns s as a SQL string literal.
func Literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// indexName returns a PostgreSQL identifier of at most 63 bytes for an index or constraint.
func indexName(table, col, suffix string) string {
	table = table[strings.LastIndexByte(table, '.')+1:]
	n := table + "_" + suffix
	if col != "" {
		n = table + "_" + col + "_" + suffix
	}
	if len(n) <= 63 {
		return n
	}
	h := uint32(2166136261)
	for i := 0; i < len(n); i++ {
		h = (h ^ uint32(n[i])) * 16777619
	}
	return fmt.Sprintf("%s_%08x", n[:63-9], h)
}

// TableDef describes a record's table independently of its Go type: what SchemaSQL
// renders, and what the generator renders into postgres_schema.sql (with defaults).
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
}

// TableDefOf returns the table definition of desc under the given table name (no
// defaults: the runtime descriptor does not carry them, and Prepare applies them on every
// write).
func TableDefOf[T any](desc *record.Desc[T], table string) TableDef {
	t := TableDef{Table: table}
	for i := range desc.Fields {
		f := &desc.Fields[i]
		t.Columns = append(t.Columns, ColumnDef{Name: f.Column, Kind: f.Kind, List: f.List,
			Optional: f.Optional, Unique: f.Unique, Indexed: f.Indexed, Enum: f.Enum})
	}
	return t
}

// ColumnList returns the table's columns as the drift check compares them: the fields in
// order, then the version column.
func (t TableDef) ColumnList() []Column {
	out := make([]Column, 0, len(t.Columns)+1)
	for _, c := range t.Columns {
		typ, coll := ColumnType(c.Kind, c.List)
		out = append(out, Column{Name: c.Name, Type: typ, Collate: coll, NotNull: !c.Optional && !c.List})
	}
	return append(out, Column{Name: VersionColumn, Type: "bigint", NotNull: true})
}

// SQL returns the statements that create the table: the table with its columns, NOT NULL,
// defaults, primary key and enum checks, then a unique index per unique field and an index
// per indexed field (GIN for lists, B-tree otherwise). Every statement is idempotent (IF
// NOT EXISTS).
func (t TableDef) SQL() []string {
	table := t.Table
	qt := quoteTable(table)
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (\n", qt)
	for i, c := range t.ColumnList() {
		fmt.Fprintf(&b, "\t%s %s", Quote(c.Name), c.Type)
		if c.Collate != "" {
			fmt.Fprintf(&b, " COLLATE %s", Quote(c.Collate))
		}
		if i < len(t.Columns) && t.Columns[i].Default != "" {
			fmt.Fprintf(&b, " DEFAULT %s", t.Columns[i].Default)
		}
		if c.NotNull {
			b.WriteString(" NOT NULL")
		}
		b.WriteString(",\n")
	}
	fmt.Fprintf(&b, "\tCONSTRAINT %s PRIMARY KEY (%s)", Quote(pkeyName(table)), Quote(t.Columns[0].Name))
	for _, f := range t.Columns {
		if f.Kind != query.KindEnum || len(f.Enum) == 0 {
			continue
		}
		vals := make([]string, len(f.Enum))
		for j, v := range f.Enum {
			vals[j] = Literal(v)
		}
		if f.List {
			fmt.Fprintf(&b, ",\n\tCONSTRAINT %s CHECK (%s <@ ARRAY[%s]::text[])", Quote(indexName(table, f.Name, "check")), Quote(f.Name), strings.Join(vals, ", "))
		} else {
			fmt.Fprintf(&b, ",\n\tCONSTRAINT %s CHECK (%s IN (%s))", Quote(indexName(table, f.Name, "check")), Quote(f.Name), strings.Join(vals, ", "))
		}
	}
	b.WriteString("\n)")
	stmts := []string{b.String()}
	for _, f := range t.Columns[1:] {
		switch {
		case f.Unique:
			stmts = append(stmts, fmt.Sprintf("CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (%s)", Quote(indexName(table, f.Name, "key")), qt, Quote(f.Name)))
		case f.Indexed && f.List:
			stmts = append(stmts, fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s USING gin (%s)", Quote(indexName(table, f.Name, "idx")), qt, Quote(f.Name)))
		case f.Indexed:
			stmts = append(stmts, fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s)", Quote(indexName(table, f.Name, "idx")), qt, Quote(f.Name)))
		}
	}
	return stmts
}

// SchemaSQL returns the statements that create desc's table under the given name (see
// TableDef.SQL).
func SchemaSQL[T any](desc *record.Desc[T], table string) []string {
	return TableDefOf(desc, table).SQL()
}

func pkeyName(table string) string { return indexName(table, "", "pkey") }

// DriftError lists how a live table differs from the record's schema. EnsureSchema never
// alters a table: it reports this error and leaves the migration to the user.
type DriftError struct {
	Table    string
	Problems []string // e.g. `column "rank" is missing`, `column "name" has type integer, want text`
}

func (e *DriftError) Error() string {
	return fmt.Sprintf("postgres: table %s does not match the schema: %s", e.Table, strings.Join(e.Problems, "; "))
}

// Is reports whether target is ErrSchemaDrift.
func (e *DriftError) Is(target error) bool { return target == ErrSchemaDrift }

// checkEncoding fails with an *EncodingError when the database's server encoding is not
// UTF8: the one-code-point meaning of LIKE's _ and REGEX's . (and byte order of UTF-8
// strings) holds only there.
func checkEncoding(ctx context.Context, db DB) error {
	var name, enc string
	if err := db.QueryRow(ctx, "SELECT current_database(), current_setting('server_encoding')").Scan(&name, &enc); err != nil {
		return mapErr(ctx, err)
	}
	if enc != "UTF8" {
		return &EncodingError{Database: name, Encoding: enc}
	}
	return nil
}

// Execer is what EnsureSchema needs: a *pgxpool.Pool, a *pgx.Conn or a pgx.Tx.
type Execer interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// EnsureSchema creates desc's table (see SchemaSQL) when it does not exist, under an
// advisory lock so that concurrent callers do not race, and otherwise compares the live
// table's columns with the schema: a missing or extra column, a different type, collation
// or nullability is reported in a *DriftError (errors.Is(err, ErrSchemaDrift)); nothing is
// altered.
func EnsureSchema[T any](ctx context.Context, db Execer, desc *record.Desc[T], table string) error {
	return ensureSQL(ctx, db, table, SchemaSQL(desc, table), Columns(desc))
}

// EnsureSchemaSQL is EnsureSchema with the creating statements given (for instance from a
// generated migration file, which also carries the schema's defaults) as one SQL script.
func EnsureSchemaSQL[T any](ctx context.Context, db Execer, desc *record.Desc[T], table, script string) error {
	return ensureSQL(ctx, db, table, []string{script}, Columns(desc))
}

func ensureSQL(ctx context.Context, db Execer, table string, stmts []string, want []Column) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return mapErr(ctx, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", "repokit:"+table); err != nil {
		return mapErr(ctx, err)
	}
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", quoteTable(table)).Scan(&exists); err != nil {
		return mapErr(ctx, err)
	}
	if !exists {
		for _, s := range stmts {
			// Simple protocol: a script may hold several statements.
			if _, err := tx.Exec(ctx, s, pgx.QueryExecModeSimpleProtocol); err != nil {
				return fmt.Errorf("postgres: creating table %s: %w", table, mapErr(ctx, err))
			}
		}
	}
	got, err := liveColumns(ctx, tx, table)
	if err != nil {
		return err
	}
	if err := Drift(table, got, want); err != nil {
		return err
	}
	return mapErr(ctx, tx.Commit(ctx))
}

func liveColumns(ctx context.Context, q pgx.Tx, table string) ([]Column, error) {
	rows, err := q.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod), coalesce(c.collname, ''), a.attnotnull
		FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation AND a.attcollation <> 0
		WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, quoteTable(table))
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	var out []Column
	for rows.Next() {
		var c Column
		if err := rows.Scan(&c.Name, &c.Type, &c.Collate, &c.NotNull); err != nil {
			rows.Close()
			return nil, mapErr(ctx, err)
		}
		if c.Collate == "default" {
			c.Collate = ""
		}
		out = append(out, c)
	}
	return out, mapErr(ctx, rows.Err())
}

// Drift compares live columns with the wanted ones and returns a *DriftError listing every
// difference, or nil.
func Drift(table string, live, want []Column) error {
	var probs []string
	byName := map[string]Column{}
	for _, c := range live {
		byName[c.Name] = c
	}
	for _, w := range want {
		g, ok := byName[w.Name]
		if !ok {
			probs = append(probs, fmt.Sprintf("column %q is missing (want %s)", w.Name, describe(w)))
			continue
		}
		delete(byName, w.Name)
		if g.Type != w.Type || g.Collate != w.Collate {
			probs = append(probs, fmt.Sprintf("column %q has type %s, want %s", w.Name, typeWithCollation(g), typeWithCollation(w)))
		}
		if g.NotNull != w.NotNull {
			if w.NotNull {
				probs = append(probs, fmt.Sprintf("column %q allows NULL, want NOT NULL", w.Name))
			} else {
				probs = append(probs, fmt.Sprintf("column %q is NOT NULL, want nullable", w.Name))
			}
		}
	}
	for _, c := range live {
		if _, extra := byName[c.Name]; extra {
			probs = append(probs, fmt.Sprintf("column %q (%s) is not in the schema", c.Name, describe(c)))
		}
	}
	if len(probs) == 0 {
		return nil
	}
	return &DriftError{Table: table, Problems: probs}
}

func typeWithCollation(c Column) string {
	if c.Collate != "" {
		return c.Type + " COLLATE " + Quote(c.Collate)
	}
	return c.Type
}

func describe(c Column) string {
	s := typeWithCollation(c)
	if c.NotNull {
		s += " NOT NULL"
	}
	return s
}

// checkColumns rejects a descriptor whose columns collide with the version column.
func checkColumns[T any](desc *record.Desc[T]) error {
	for i := range desc.Fields {
		if desc.Fields[i].Column == VersionColumn {
			return fmt.Errorf("postgres: record %s: field %q uses the reserved column name %s", desc.Name, desc.Fields[i].Name, VersionColumn)
		}
		if t, _ := ColumnType(desc.Fields[i].Kind, desc.Fields[i].List); t == "" {
			return fmt.Errorf("postgres: record %s: field %q has unsupported kind %s", desc.Name, desc.Fields[i].Name, desc.Fields[i].Kind)
		}
	}
	if slices.ContainsFunc(desc.Fields, func(f record.Field[T]) bool { return f.Column == "" }) {
		return fmt.Errorf("postgres: record %s has a field without a column name", desc.Name)
	}
	return nil
}
