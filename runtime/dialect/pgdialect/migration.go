package pgdialect

import (
	"fmt"
	"path"
	"strings"

	"github.com/repokit/repokit/runtime/migrate"
)

// MigrationDir is the directory, relative to a package's migration directory, that holds
// the PostgreSQL migrations (goose SQL files).
const MigrationDir = "postgres"

// MigrationFileName returns the goose file of migration m, relative to the package's
// migration directory: "postgres/00002_add_color.sql".
func MigrationFileName(m *migrate.Migration) string {
	return path.Join(MigrationDir, m.BaseName()+".sql")
}

// MigrationFile renders migration m, planned from the state before, as one goose SQL file
// (see docs/migrations-postgres.md) and returns its name (MigrationFileName) and content.
//
// Every statement is idempotent or guarded, so that applying the file again after a failure
// half-way finishes the job. A file that builds an index on an existing table uses CREATE
// INDEX CONCURRENTLY and is therefore marked `-- +goose NO TRANSACTION` (goose then runs
// its statements one by one); any other file runs in one transaction. The statements run in
// this order: table renames (with the names of their indexes and constraints), drops, new
// tables and columns (constant defaults: no table rewrite), default and nullability
// changes, enum CHECK constraints replaced (NOT VALID, then VALIDATE), NOT NULL set through
// a validated CHECK, the indexes (a unique index is preceded by a scan that names stored
// duplicates); then the same for the fields that are renamed or change type, after their
// renames and type changes (ALTER COLUMN ... TYPE ... USING), so that the code of the
// previous version keeps writing as long as possible. A renamed field that keeps its old
// name (migrate.Field.OldName) is renamed online: a new column, a trigger keeping the two in
// step and a batched backfill (see migration_rename.go); the file then runs outside a
// transaction too.
func MigrationFile(before migrate.Schema, m *migrate.Migration) (string, []byte, error) {
	stmts, concurrent, err := MigrationStatements(before, m)
	if err != nil {
		return "", nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "-- repokit migration %s (PostgreSQL), planned by repokit migrate diff and applied with goose.\n", m.BaseName())
	for _, c := range m.Changes {
		fmt.Fprintf(&b, "--   %s\n", c)
	}
	if concurrent {
		b.WriteString("-- Builds indexes with CREATE INDEX CONCURRENTLY, which cannot run in a transaction.\n")
		b.WriteString("-- +goose NO TRANSACTION\n")
	}
	b.WriteString("\n-- +goose Up\n")
	for _, s := range stmts {
		if s.Block {
			b.WriteString("-- +goose StatementBegin\n")
		}
		b.WriteString(s.SQL)
		b.WriteString(";\n")
		if s.Block {
			b.WriteString("-- +goose StatementEnd\n")
		}
	}
	return MigrationFileName(m), []byte(b.String()), nil
}

// Statement is one statement of a PostgreSQL migration.
type Statement struct {
	SQL   string // without the final semicolon
	Block bool   // a DO block (goose needs StatementBegin/End around it)
}

// MigrationStatements returns the statements of migration m planned from the state
// before, and whether they must run outside a transaction (CREATE INDEX CONCURRENTLY).
func MigrationStatements(before migrate.Schema, m *migrate.Migration) ([]Statement, bool, error) {
	r := &renderer{before: before, after: m.Schema, baseline: m.Version == 1}
	if err := r.render(m.Changes); err != nil {
		return nil, false, fmt.Errorf("migration %s: %w", m.BaseName(), err)
	}
	return r.out, r.concurrent, nil
}

type renderer struct {
	before, after migrate.Schema
	baseline      bool
	out           []Statement
	concurrent    bool
	// expand holds the renamed fields that keep their old name (online renames):
	// record, field → the field before.
	expand map[[2]string]*migrate.Field
}

func (r *renderer) add(sql string) {
	r.out = append(r.out, Statement{SQL: sql, Block: strings.HasPrefix(sql, "DO $repokit$")})
}

// doIf adds a DO block running body when cond holds.
func (r *renderer) doIf(cond, body string) {
	r.out = append(r.out, Statement{Block: true,
		SQL: fmt.Sprintf("DO $repokit$\nBEGIN\n\tIF %s THEN\n\t\t%s;\n\tEND IF;\nEND\n$repokit$", cond, body)})
}

// oldRecord returns the state before of the record named name after the migration.
func (r *renderer) oldRecord(changes []migrate.Change, name string) *migrate.Record {
	for _, c := range changes {
		if c.Kind == migrate.RenameRecord && c.Record == name {
			return r.before.Record(c.From)
		}
	}
	if has(changes, migrate.AddRecord, name, "") {
		return nil
	}
	return r.before.Record(name)
}

// oldField returns the field before the migration of field name of record rec.
func oldField(changes []migrate.Change, old *migrate.Record, rec, name string) *migrate.Field {
	if old == nil {
		return nil
	}
	for _, c := range changes {
		if c.Kind == migrate.RenameField && c.Record == rec && c.Field == name {
			return old.Field(c.From)
		}
	}
	if has(changes, migrate.AddField, rec, name) {
		return nil
	}
	return old.Field(name)
}

func has(changes []migrate.Change, k migrate.Kind, rec, field string) bool {
	for _, c := range changes {
		if c.Kind == k && c.Record == rec && c.Field == field {
			return true
		}
	}
	return false
}

func (r *renderer) render(changes []migrate.Change) error {
	r.expand = r.expandRenames(changes)
	byKind := func(kinds ...migrate.Kind) []migrate.Change {
		var out []migrate.Change
		for _, c := range changes {
			for _, k := range kinds {
				if c.Kind == k {
					out = append(out, c)
				}
			}
		}
		return out
	}
	for _, c := range byKind(migrate.ChangeTable) {
		if err := r.renameTable(changes, c); err != nil {
			return err
		}
	}
	for _, c := range byKind(migrate.DropOldName) {
		if t := r.after.Record(c.Record); t != nil {
			r.dropOldName(t.Table, c.Field, c.From)
		}
	}
	for _, c := range byKind(migrate.DropField) {
		rec := r.oldRecord(changes, c.Record)
		if t := r.after.Record(c.Record); t != nil && rec != nil {
			if f := rec.Field(c.Field); f != nil && f.OldName != "" {
				r.dropOldName(t.Table, c.Field, f.OldName)
			}
			if f := rec.Field(c.Field); f != nil && f.Search != "" {
				r.add(TableDef{Table: t.Table}.DropSearchSQL(c.Field)) // it depends on the column
			}
			r.add(fmt.Sprintf("ALTER TABLE %s DROP COLUMN IF EXISTS %s", QuoteTable(t.Table), Quote(c.Field)))
		}
	}
	for _, c := range byKind(migrate.DropRecord) {
		if rec := r.before.Record(c.Record); rec != nil {
			r.add("DROP TABLE IF EXISTS " + QuoteTable(rec.Table))
		}
	}
	// Fields renamed or changing type come last: code of the previous version keeps
	// writing until then (it fails once a column it names is renamed; a renamed field that
	// keeps its old name adds its new column instead, which that code does not notice).
	late := func(c migrate.Change) bool {
		return c.Field != "" && (has(changes, migrate.RenameField, c.Record, c.Field) || has(changes, migrate.ChangeType, c.Record, c.Field))
	}
	for _, lateHalf := range []bool{false, true} {
		if lateHalf {
			for _, c := range byKind(migrate.RenameField) {
				t, old := r.after.Record(c.Record), r.oldRecord(changes, c.Record)
				if t == nil || old == nil || old.Field(c.From) == nil {
					return fmt.Errorf("change %s: no such record or field", c)
				}
				if of := r.expand[[2]string{c.Record, c.Field}]; of != nil {
					td, err := RecordTableDef(t)
					if err != nil {
						return err
					}
					want, err := fieldColumn(t.Field(c.Field))
					if err != nil {
						return err
					}
					if err := r.expandColumn(td, of, want); err != nil {
						return err
					}
					continue
				}
				if err := r.renameColumn(t.Table, old.Field(c.From), c.Field); err != nil {
					return err
				}
			}
		}
		for _, c := range changes {
			if late(c) != lateHalf {
				continue
			}
			if err := r.change(c); err != nil {
				return fmt.Errorf("change %s: %w", c, err)
			}
		}
		for _, pass := range []func(rec *migrate.Record, td TableDef, pairs []columnPair){r.checks, r.required, r.indexes, r.searches} {
			for i := range r.after.Records {
				rec := &r.after.Records[i]
				if r.oldRecord(changes, rec.Name) == nil {
					continue // a new table: CREATE TABLE made everything
				}
				td, pairs, err := r.pairs(changes, rec)
				if err != nil {
					return err
				}
				var half []columnPair
				for _, p := range pairs {
					if late(migrate.Change{Record: rec.Name, Field: p.want.Name}) == lateHalf {
						half = append(half, p)
					}
				}
				pass(rec, td, half)
			}
		}
	}
	return nil
}

// change renders the changes of the middle of the file: new tables and columns, defaults,
// nullability and types.
func (r *renderer) change(c migrate.Change) error {
	rec := r.after.Record(c.Record)
	if rec == nil {
		return nil // a dropped record
	}
	td, err := RecordTableDef(rec)
	if err != nil {
		return err
	}
	qt := QuoteTable(rec.Table)
	var col ColumnDef
	if f := rec.Field(c.Field); f != nil {
		if col, err = fieldColumn(f); err != nil {
			return err
		}
	}
	switch c.Kind {
	case migrate.AddRecord:
		for _, s := range td.SQL() {
			r.add(s)
		}
		if r.baseline { // a table made before by a constructor without the defaults
			for _, col := range td.Columns[1:] {
				if col.Default != "" {
					r.add(fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s", qt, Quote(col.Name), col.Default))
				}
			}
		}
	case migrate.AddField:
		r.add(fmt.Sprintf("ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s", qt, columnSQL(col.column(), col.Default)))
	case migrate.SetDefault:
		if col.Default == "" {
			r.add(fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT", qt, Quote(col.Name)))
		} else {
			r.add(fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s", qt, Quote(col.Name), col.Default))
		}
	case migrate.SetOptional:
		r.add(fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s DROP NOT NULL", qt, Quote(col.Name)))
	case migrate.ChangeType:
		if r.expand[[2]string{rec.Name, col.Name}] != nil {
			return nil // a new column, added with the new type
		}
		c := col.column()
		r.doIf(fmt.Sprintf("(SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped) <> %s",
			Literal(qt), Literal(col.Name), Literal(c.Type)),
			fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TYPE %s USING %s::%s", qt, Quote(col.Name), c.TypeSQL(), Quote(col.Name), c.Type))
	}
	return nil
}

// setRequired backfills the default and sets NOT NULL through a CHECK (col IS NOT NULL)
// added NOT VALID and validated (which locks out no writer), so that SET NOT NULL finds the
// proof and does not scan under its exclusive lock.
func (r *renderer) setRequired(td TableDef, col ColumnDef) {
	qt, qc := QuoteTable(td.Table), Quote(col.Name)
	if col.Default != "" {
		r.add(fmt.Sprintf("UPDATE %s SET %s = %s WHERE %s IS NULL", qt, qc, col.Default, qc))
	}
	if !col.column().NotNull {
		return // lists are never NOT NULL
	}
	chk := Quote(IndexName(td.Table, col.Name, "required"))
	r.add(fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s, ADD CONSTRAINT %s CHECK (%s IS NOT NULL) NOT VALID", qt, chk, chk, qc))
	r.add(fmt.Sprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s", qt, chk))
	r.add(fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s SET NOT NULL", qt, qc))
	r.add(fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s", qt, chk))
}

// renameTable moves a record's table (change_table) and renames its primary key, indexes
// and CHECK constraints to the names the new table name gives them.
func (r *renderer) renameTable(changes []migrate.Change, c migrate.Change) error {
	fromSchema, _, _ := strings.Cut(c.From, ".")
	toSchema, _, _ := strings.Cut(c.To, ".")
	if strings.Contains(c.From, ".") != strings.Contains(c.To, ".") || (strings.Contains(c.From, ".") && fromSchema != toSchema) {
		return fmt.Errorf("change %s: moving a table to another PostgreSQL schema is not supported; move it by hand", c)
	}
	old := r.oldRecord(changes, c.Record)
	if old == nil {
		return fmt.Errorf("change %s: no such record before", c)
	}
	to := c.To[strings.LastIndexByte(c.To, '.')+1:]
	r.add(fmt.Sprintf("ALTER TABLE IF EXISTS %s RENAME TO %s", QuoteTable(c.From), Quote(to)))
	r.add(fmt.Sprintf("ALTER INDEX IF EXISTS %s RENAME TO %s", QuoteTable(sibling(c.To, PkeyName(c.From))), Quote(PkeyName(c.To))))
	for i := range old.Fields {
		if err := r.renameNames(c.To, c.From, &old.Fields[i], c.To, old.Fields[i].Name); err != nil {
			return err
		}
		if old.Fields[i].OldName != "" {
			r.renameCompat(c.To, c.From, old.Fields[i].Name)
		}
	}
	return nil
}

// renameColumn renames a column (when it is still there) and its index and CHECK.
func (r *renderer) renameColumn(table string, old *migrate.Field, to string) error {
	r.doIf(fmt.Sprintf("%s AND NOT %s", columnExists(table, old.Name), columnExists(table, to)),
		fmt.Sprintf("ALTER TABLE %s RENAME COLUMN %s TO %s", QuoteTable(table), Quote(old.Name), Quote(to)))
	return r.renameNames(table, table, old, table, to)
}

// renameNames renames the index and CHECK constraint that field old had on oldTable to the
// names they have for column newCol of newTable; the table is already named table.
func (r *renderer) renameNames(table, oldTable string, old *migrate.Field, newTable, newCol string) error {
	col, err := fieldColumn(old)
	if err != nil {
		return err
	}
	was, now := TableDef{Table: oldTable}, TableDef{Table: newTable}
	if ix, ok := was.IndexOf(col); ok {
		col.Name = newCol
		to, _ := now.IndexOf(col)
		r.add(fmt.Sprintf("ALTER INDEX IF EXISTS %s RENAME TO %s", QuoteTable(sibling(table, ix.Name)), Quote(to.Name)))
		col.Name = old.Name
	}
	if chk, ok := was.CheckOf(col); ok {
		col.Name = newCol
		to, _ := now.CheckOf(col)
		r.doIf(fmt.Sprintf("EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(%s) AND conname = %s)", Literal(QuoteTable(table)), Literal(chk.Name)),
			fmt.Sprintf("ALTER TABLE %s RENAME CONSTRAINT %s TO %s", QuoteTable(table), Quote(chk.Name), Quote(to.Name)))
	}
	return nil
}

// sibling returns name qualified with the schema of table ("s.t", "n" → "s.n").
func sibling(table, name string) string {
	if s, _, ok := strings.Cut(table, "."); ok {
		return s + "." + name
	}
	return name
}

func columnExists(table, col string) string {
	return fmt.Sprintf("EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped)",
		Literal(QuoteTable(table)), Literal(col))
}

// columnPair is a field's column before (zero when new) and after the migration, both
// under the name after it.
type columnPair struct {
	was, want ColumnDef
	required  bool // the field became required (set_required)
}

// pairs returns the table after the migration of an existing record and its fields' columns
// before and after.
func (r *renderer) pairs(changes []migrate.Change, rec *migrate.Record) (TableDef, []columnPair, error) {
	old := r.oldRecord(changes, rec.Name)
	td, err := RecordTableDef(rec)
	if err != nil {
		return td, nil, err
	}
	var pairs []columnPair
	for i := range rec.Fields {
		p := columnPair{want: td.Columns[i+1], required: has(changes, migrate.SetRequired, rec.Name, rec.Fields[i].Name)}
		if r.expand[[2]string{rec.Name, rec.Fields[i].Name}] != nil {
			// an online rename: a new column, which gets every constraint of the field
			p.required = p.want.column().NotNull
			pairs = append(pairs, p)
			continue
		}
		if of := oldField(changes, old, rec.Name, rec.Fields[i].Name); of != nil {
			if p.was, err = fieldColumn(of); err != nil {
				return td, nil, err
			}
			p.was.Name = p.want.Name
		}
		pairs = append(pairs, p)
	}
	return td, pairs, nil
}

// checks replaces the CHECK constraints whose enum values changed: the new one is added NOT
// VALID (no scan under the exclusive lock) and validated (a scan that blocks no writer).
func (r *renderer) checks(rec *migrate.Record, td TableDef, pairs []columnPair) {
	qt := QuoteTable(rec.Table)
	for _, p := range pairs {
		was, hadCheck := td.CheckOf(p.was)
		want, hasCheck := td.CheckOf(p.want)
		switch {
		case hasCheck && (!hadCheck || want.SQL() != was.SQL()):
			r.add(fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s, ADD %s NOT VALID", qt, Quote(want.Name), want.SQL()))
			r.add(fmt.Sprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s", qt, Quote(want.Name)))
		case hadCheck && !hasCheck:
			r.add(fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s", qt, Quote(was.Name)))
		}
	}
}

// required renders set_required (after the CHECK constraints, which may admit the default).
func (r *renderer) required(_ *migrate.Record, td TableDef, pairs []columnPair) {
	for _, p := range pairs {
		if p.required {
			r.setRequired(td, p.want)
		}
	}
}

// indexes builds the indexes a field gained and drops those it lost.
func (r *renderer) indexes(rec *migrate.Record, td TableDef, pairs []columnPair) {
	for _, p := range pairs {
		was, hadIndex := td.IndexOf(p.was)
		want, hasIndex := td.IndexOf(p.want)
		if hasIndex && (!hadIndex || want != was) {
			r.createIndex(rec, want)
		}
		if hadIndex && (!hasIndex || want.Name != was.Name) {
			r.concurrent = true
			r.add("DROP INDEX CONCURRENTLY IF EXISTS " + QuoteTable(sibling(rec.Table, was.Name)))
		}
	}
}

// createIndex builds an index on an existing table with CREATE INDEX CONCURRENTLY: first an
// invalid index a failed build left behind is dropped, and before a unique index the stored
// duplicates (up to 10) are named.
func (r *renderer) createIndex(rec *migrate.Record, ix Index) {
	r.concurrent = true
	qt, qi := QuoteTable(rec.Table), QuoteTable(sibling(rec.Table, ix.Name))
	r.doIf(fmt.Sprintf("EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(%s) AND NOT indisvalid)", Literal(qi)), "DROP INDEX "+qi)
	if ix.Unique {
		msg := strings.ReplaceAll(fmt.Sprintf("cannot make %s.%s unique: these values are stored more than once: ", rec.Name, ix.Column), "%", "%%")
		qc := Quote(ix.Column)
		r.out = append(r.out, Statement{Block: true, SQL: fmt.Sprintf(`DO $repokit$
DECLARE
	dups text;
BEGIN
	SELECT string_agg(v, ', ') INTO dups FROM (SELECT quote_literal(%s::text) AS v FROM %s WHERE %s IS NOT NULL GROUP BY %s HAVING count(*) > 1 ORDER BY 1 LIMIT 10) d;
	IF dups IS NOT NULL THEN
		RAISE EXCEPTION %s, dups USING ERRCODE = 'unique_violation';
	END IF;
END
$repokit$`, qc, qt, qc, qc, Literal(msg+"%"))})
	}
	r.add(ix.CreateSQL(rec.Table, true))
}
