package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/repo"
)

// backendName names PostgreSQL in migration steps and errors.
const backendName = "postgres"

var pkgPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// VersionTable returns the goose version table of a package's migrations:
// repokit_migrations_<pkg> (lower case).
func VersionTable(pkg string) string { return "repokit_migrations_" + strings.ToLower(pkg) }

// loadHistory reads a package's migrations (the JSON history at fsys's root).
func loadHistory(pkg string, fsys fs.FS) (migrate.History, error) {
	if !pkgPattern.MatchString(pkg) {
		return nil, fmt.Errorf("postgres: migrations: package name %q is not a Go identifier", pkg)
	}
	if fsys == nil {
		return nil, fmt.Errorf("postgres: migrations of package %s: no file system", pkg)
	}
	h, err := migrate.Load(fsys)
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations of package %s: %w", pkg, err)
	}
	return h, nil
}

// appliedVersions returns the versions of pkg that goose recorded as applied, ascending;
// none when the version table does not exist (a store made before migrations, or empty).
// It only reads.
func appliedVersions(ctx context.Context, q querier, pkg string) ([]int64, error) {
	rows, err := q.Query(ctx, "SELECT to_regclass($1) IS NOT NULL", pgdialect.Quote(VersionTable(pkg)))
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	exists, err := pgx.CollectExactlyOneRow(rows, pgx.RowTo[bool])
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	if !exists {
		return nil, nil
	}
	rows, err = q.Query(ctx, fmt.Sprintf(`SELECT version_id FROM %s WHERE version_id > 0 GROUP BY version_id
		HAVING bool_and(is_applied) ORDER BY version_id`, pgdialect.Quote(VersionTable(pkg))))
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	v, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return v, mapErr(ctx, err)
}

// checkApplied is the check of a constructor given WithMigrations: the store must have
// applied every migration of the package (else repo.ErrSchemaBehind with a
// *migrate.BehindError), and the live table of the record must match the state of the
// newest one (else a *DriftError). A store that applied versions newer than the package
// knows must still serve it (pgdialect.TableDef.OlderCodeDrift; else repo.ErrSchemaAhead
// with a *migrate.AheadError).
func checkApplied(ctx context.Context, db querier, spec *migSpec, record, table string) error {
	h, err := loadHistory(spec.pkg, spec.fsys)
	if err != nil {
		return err
	}
	applied, err := appliedVersions(ctx, db, spec.pkg)
	if err != nil {
		return err
	}
	cur := int64(0)
	if len(applied) > 0 {
		cur = applied[len(applied)-1]
	}
	if err := h.Behind(backendName, cur); err != nil {
		return repo.E(repo.ErrSchemaBehind, err)
	}
	state := h.State(cur)
	rec := state.Record(record)
	if rec == nil {
		return fmt.Errorf("postgres: record %s is not in the state of migration %d of package %s", record, cur, spec.pkg)
	}
	td, err := pgdialect.RecordTableDef(rec)
	if err != nil {
		return err
	}
	td.Table = table
	live, err := liveTable(ctx, db, table)
	if errors.Is(err, errNoTable) {
		return &DriftError{Table: table, Problems: []string{fmt.Sprintf(
			"the table does not exist, though package %s has applied migration %d (its migrations make table %s for record %s)",
			spec.pkg, cur, rec.Table, record)}}
	}
	if err != nil {
		return err
	}
	if cur > h.Version() {
		// A newer version's migrations ran (a rolling deploy, a rollback): this code opens
		// as long as the table still serves it.
		if probs := td.OlderCodeDrift(live); len(probs) > 0 {
			return repo.E(repo.ErrSchemaAhead, &migrate.AheadError{Backend: backendName, Record: record, Applied: cur, Known: h.Version(), Problems: probs})
		}
		return nil
	}
	if probs := td.LiveDrift(live); len(probs) > 0 {
		return &DriftError{Table: table, Problems: probs}
	}
	return nil
}

// errNoTable reports a table that does not exist.
var errNoTable = errors.New("table does not exist")

// liveTable reads a table's columns, defaults, indexes, CHECK constraints and triggers from
// the catalog; errNoTable when it does not exist.
func liveTable(ctx context.Context, q querier, table string) (pgdialect.LiveTable, error) {
	var lt pgdialect.LiveTable
	cols, err := liveColumns(ctx, q, table)
	if err != nil {
		return lt, err
	}
	if len(cols) == 0 {
		return lt, errNoTable
	}
	lt.Columns = cols
	qt := pgdialect.QuoteTable(table)
	rows, err := q.Query(ctx, `SELECT a.attname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d
		JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = to_regclass($1)`, qt)
	if err != nil {
		return lt, mapErr(ctx, err)
	}
	lt.Defaults = map[string]string{}
	var name, expr string
	if _, err := pgx.ForEachRow(rows, []any{&name, &expr}, func() error { lt.Defaults[name] = expr; return nil }); err != nil {
		return lt, mapErr(ctx, err)
	}
	rows, err = q.Query(ctx, `SELECT c.relname, i.indisunique, i.indisvalid, am.amname,
			array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o)::text[]
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
		WHERE i.indrelid = to_regclass($1) AND NOT i.indisprimary ORDER BY c.relname`, qt)
	if err != nil {
		return lt, mapErr(ctx, err)
	}
	var ix pgdialect.LiveIndex
	if _, err := pgx.ForEachRow(rows, []any{&ix.Name, &ix.Unique, &ix.Valid, &ix.Method, &ix.Columns}, func() error {
		lt.Indexes = append(lt.Indexes, ix)
		return nil
	}); err != nil {
		return lt, mapErr(ctx, err)
	}
	rows, err = q.Query(ctx, `SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
		WHERE conrelid = to_regclass($1) AND contype = 'c' ORDER BY conname`, qt)
	if err != nil {
		return lt, mapErr(ctx, err)
	}
	var ck pgdialect.LiveCheck
	if _, err := pgx.ForEachRow(rows, []any{&ck.Name, &ck.Def}, func() error { lt.Checks = append(lt.Checks, ck); return nil }); err != nil {
		return lt, mapErr(ctx, err)
	}
	rows, err = q.Query(ctx, `SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass($1) AND NOT tgisinternal AND tgenabled <> 'D' ORDER BY tgname`, qt)
	if err != nil {
		return lt, mapErr(ctx, err)
	}
	if lt.Triggers, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return lt, mapErr(ctx, err)
	}
	return lt, nil
}

// stateDrift compares every table of a migration state with the live database.
func stateDrift(ctx context.Context, q querier, state migrate.Schema) ([]string, error) {
	var out []string
	for i := range state.Records {
		rec := &state.Records[i]
		td, err := pgdialect.RecordTableDef(rec)
		if err != nil {
			return nil, err
		}
		live, err := liveTable(ctx, q, rec.Table)
		if errors.Is(err, errNoTable) {
			out = append(out, fmt.Sprintf("table %s (record %s) does not exist", rec.Table, rec.Name))
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, p := range td.LiveDrift(live) {
			out = append(out, fmt.Sprintf("table %s: %s", rec.Table, p))
		}
	}
	return out, nil
}
