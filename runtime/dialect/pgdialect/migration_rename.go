package pgdialect

import (
	"fmt"

	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/query"
)

// Online field renames (expand, then contract). A rename_field whose field keeps its old name
// (migrate.Field.OldName) does not rename the column: code of the previous version still
// names it in its INSERT, UPDATE, SELECT and COPY statements. The migration instead
//
//   - adds the new column (nullable, with the field's default);
//   - installs a BEFORE INSERT OR UPDATE trigger that keeps the two columns in step: an
//     UPDATE copies the side it changed to the other one (the new one when it changed both);
//     an INSERT copies the old column to the new one when only the old one differs from its
//     default (code of the previous version wrote it), and the new one to the old one
//     otherwise;
//   - copies the old column into the new one in batches of BackfillBatch rows by primary
//     key, each batch committed (so no row stays locked for long);
//   - then gives the new column what the field needs: its enum CHECK, NOT NULL (through a
//     validated CHECK) and index, built concurrently; the old column's CHECK and NOT NULL are
//     dropped (values the new code writes reach it through the trigger), and its index too
//     unless the new column gets the same kind of index.
//
// The drift check ignores the old column and its index and requires the trigger. A later
// migration, drop_old_name (planned when the schema no longer says renamed_from), drops the
// trigger, its function and the old column.

// BackfillBatch is the number of rows a rename's backfill copies per committed batch.
const BackfillBatch = 1000

// CompatName returns the name of the trigger, and of its trigger function (in the table's
// PostgreSQL schema), that keeps the old column of a renamed field in step with the column
// col of table: "<table>_<col>_compat".
func CompatName(table, col string) string { return IndexName(table, col, "compat") }

// expandRenames returns the renamed fields of the migration that keep their old name:
// record, new field name → old field.
func (r *renderer) expandRenames(changes []migrate.Change) map[[2]string]*migrate.Field {
	out := map[[2]string]*migrate.Field{}
	for _, c := range changes {
		if c.Kind != migrate.RenameField {
			continue
		}
		rec, old := r.after.Record(c.Record), r.oldRecord(changes, c.Record)
		if rec == nil || old == nil {
			continue
		}
		if f := rec.Field(c.Field); f != nil && f.OldName == c.From && old.Field(c.From) != nil {
			out[[2]string{c.Record, c.Field}] = old.Field(c.From)
		}
	}
	return out
}

// expandColumn renders the first part of an online rename of field old to want on table
// td.Table: the new column, the trigger and the backfill; the constraints of the new column
// follow in the CHECK, NOT NULL and index passes (which treat it as a new column).
func (r *renderer) expandColumn(td TableDef, old *migrate.Field, want ColumnDef) error {
	was, err := fieldColumn(old)
	if err != nil {
		return err
	}
	r.concurrent = true // the backfill commits between batches: no transaction around it
	qt, qo, qn := QuoteTable(td.Table), Quote(was.Name), Quote(want.Name)
	col := want.column()
	col.NotNull = false // set after the backfill, through a validated CHECK
	r.add(fmt.Sprintf("ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s", qt, columnSQL(col, want.Default)))
	oldExists := columnExists(td.Table, was.Name)

	fn := QuoteTable(sibling(td.Table, CompatName(td.Table, want.Name)))
	trig := Quote(CompatName(td.Table, want.Name))
	val := func(row string, c ColumnDef) string {
		v := row + "." + Quote(c.Name)
		if c.Kind == query.KindJSON {
			v += "::text" // json has no equality
		}
		return v
	}
	orNull := func(s string) string {
		if s == "" {
			return "NULL"
		}
		return s
	}
	body := fmt.Sprintf(`BEGIN
	IF TG_OP = 'INSERT' THEN
		IF %s IS NOT DISTINCT FROM %s AND %s IS DISTINCT FROM %s THEN
			NEW.%s := NEW.%s;
		ELSE
			NEW.%s := NEW.%s;
		END IF;
	ELSIF %s IS DISTINCT FROM %s THEN
		NEW.%s := NEW.%s;
	ELSIF %s IS DISTINCT FROM %s THEN
		NEW.%s := NEW.%s;
	END IF;
	RETURN NEW;
END`, val("NEW", want), orNull(want.Default), val("NEW", was), orNull(was.Default), qn, qo, qo, qn,
		val("NEW", want), val("OLD", want), qo, qn,
		val("NEW", was), val("OLD", was), qn, qo)
	r.out = append(r.out, Statement{Block: true, SQL: fmt.Sprintf(`DO $repokit$
BEGIN
	IF %s THEN
		EXECUTE %s;
		IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND tgname = %s) THEN
			EXECUTE %s;
		END IF;
	END IF;
END
$repokit$`, oldExists,
		dollar("fn", fmt.Sprintf("CREATE OR REPLACE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS %s", fn, dollar("body", body))),
		Literal(qt), Literal(CompatName(td.Table, want.Name)),
		Literal(fmt.Sprintf("CREATE TRIGGER %s BEFORE INSERT OR UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION %s()", trig, qt, fn)))})

	id := td.Columns[0].column()
	idType := id.TypeSQL()
	qid := Quote(id.Name)
	oldVal := qo
	if was.column().Type != col.Type {
		oldVal = fmt.Sprintf("CAST(%s AS %s)", qo, col.Type)
	}
	cmpNew, cmpOld := qn, oldVal
	if want.Kind == query.KindJSON {
		cmpNew, cmpOld = qn+"::text", oldVal+"::text"
	}
	r.out = append(r.out, Statement{Block: true, SQL: fmt.Sprintf(`DO $repokit$
DECLARE
	last %s;
	ids %s[];
BEGIN
	IF NOT %s THEN
		RETURN;
	END IF;
	LOOP
		SELECT array_agg(%s ORDER BY %s) INTO ids FROM (SELECT %s FROM %s WHERE last IS NULL OR %s > last ORDER BY %s LIMIT %d) b;
		EXIT WHEN ids IS NULL;
		UPDATE %s SET %s = %s WHERE %s = ANY (ids) AND %s IS DISTINCT FROM %s;
		last := ids[cardinality(ids)];
		COMMIT;
	END LOOP;
END
$repokit$`, idType, id.Type, oldExists, qid, qid, qid, qt, qid, qid, BackfillBatch,
		qt, qn, oldVal, qid, cmpNew, cmpOld)})

	// The old column takes what the new code writes: no CHECK of the old values, no NOT NULL,
	// and no index of another kind than the new column's.
	if chk, ok := td.CheckOf(was); ok {
		r.add(fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s", qt, Quote(chk.Name)))
	}
	if was.column().NotNull {
		r.doIf(oldExists, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s DROP NOT NULL", qt, qo))
	}
	if ix, ok := td.IndexOf(was); ok {
		if nix, ok := td.IndexOf(want); !ok || nix.Unique != ix.Unique || nix.GIN != ix.GIN {
			r.add("DROP INDEX CONCURRENTLY IF EXISTS " + QuoteTable(sibling(td.Table, ix.Name)))
		}
	}
	return nil
}

// dropOldName renders the contract of an online rename: the trigger that keeps the old
// column oldCol in step with column col of table, its function, and the old column.
func (r *renderer) dropOldName(table, col, oldCol string) {
	r.add(fmt.Sprintf("DROP TRIGGER IF EXISTS %s ON %s", Quote(CompatName(table, col)), QuoteTable(table)))
	r.add(fmt.Sprintf("DROP FUNCTION IF EXISTS %s()", QuoteTable(sibling(table, CompatName(table, col)))))
	r.add(fmt.Sprintf("ALTER TABLE %s DROP COLUMN IF EXISTS %s", QuoteTable(table), Quote(oldCol)))
}

// renameCompat renames the trigger and function of a field that keeps its old name after
// its table was renamed from oldTable to table.
func (r *renderer) renameCompat(table, oldTable, col string) {
	from, to := CompatName(oldTable, col), CompatName(table, col)
	if from == to {
		return
	}
	r.doIf(fmt.Sprintf("EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND tgname = %s)", Literal(QuoteTable(table)), Literal(from)),
		fmt.Sprintf("ALTER TRIGGER %s ON %s RENAME TO %s", Quote(from), QuoteTable(table), Quote(to)))
	fn := QuoteTable(sibling(table, from)) + "()"
	r.doIf(fmt.Sprintf("to_regprocedure(%s) IS NOT NULL", Literal(fn)), fmt.Sprintf("ALTER FUNCTION %s RENAME TO %s", fn, Quote(to)))
}

// dollar returns s dollar-quoted with tag ($tag$s$tag$).
func dollar(tag, s string) string { return "$" + tag + "$" + s + "$" + tag + "$" }
