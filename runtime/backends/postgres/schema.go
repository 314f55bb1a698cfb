package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/record"
)

// ErrSchemaDrift is wrapped by the error EnsureSchema returns when a table exists but does
// not match the record (see DriftError).
var ErrSchemaDrift = errors.New("postgres: table does not match the schema")

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

// EnsureSchema creates desc's table (see pgdialect.SchemaSQL) when it does not exist, under an
// advisory lock so that concurrent callers do not race, and otherwise compares the live
// table's columns with the schema: a missing or extra column, a different type, collation
// or nullability is reported in a *DriftError (errors.Is(err, ErrSchemaDrift)); nothing is
// altered.
func EnsureSchema[T any](ctx context.Context, db Execer, desc *record.Desc[T], table string) error {
	return ensureSQL(ctx, db, table, pgdialect.SchemaSQL(desc, table), pgdialect.Columns(desc))
}

// EnsureSchemaSQL is EnsureSchema with the creating statements given (for instance from a
// generated migration file, which also carries the schema's defaults) as one SQL script.
func EnsureSchemaSQL[T any](ctx context.Context, db Execer, desc *record.Desc[T], table, script string) error {
	return ensureSQL(ctx, db, table, []string{script}, pgdialect.Columns(desc))
}

func ensureSQL(ctx context.Context, db Execer, table string, stmts []string, want []pgdialect.Column) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return mapErr(ctx, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", "repokit:"+table); err != nil {
		return mapErr(ctx, err)
	}
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", pgdialect.QuoteTable(table)).Scan(&exists); err != nil {
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
	if probs := pgdialect.Drift(got, want); len(probs) > 0 {
		return &DriftError{Table: table, Problems: probs}
	}
	return mapErr(ctx, tx.Commit(ctx))
}

// querier runs a query: a pool, a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func liveColumns(ctx context.Context, q querier, table string) ([]pgdialect.Column, error) {
	rows, err := q.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod), coalesce(c.collname, ''), a.attnotnull
		FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation AND a.attcollation <> 0
		WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, pgdialect.QuoteTable(table))
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	var out []pgdialect.Column
	for rows.Next() {
		var c pgdialect.Column
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

// checkColumns rejects a descriptor whose columns collide with the version column.
func checkColumns[T any](desc *record.Desc[T]) error {
	for i := range desc.Fields {
		if desc.Fields[i].Column == pgdialect.VersionColumn {
			return fmt.Errorf("postgres: record %s: field %q uses the reserved column name %s", desc.Name, desc.Fields[i].Name, pgdialect.VersionColumn)
		}
		if t, _ := pgdialect.ColumnType(desc.Fields[i].Kind, desc.Fields[i].List); t == "" {
			return fmt.Errorf("postgres: record %s: field %q has unsupported kind %s", desc.Name, desc.Fields[i].Name, desc.Fields[i].Kind)
		}
	}
	if slices.ContainsFunc(desc.Fields, func(f record.Field[T]) bool { return f.Column == "" }) {
		return fmt.Errorf("postgres: record %s has a field without a column name", desc.Name)
	}
	return nil
}
