package postgres

import (
	"io/fs"
	"time"
)

// Option configures New and NewWithDB.
type Option func(*options)

type options struct {
	table      string
	noEnsure   bool
	script     string
	cmdTimeout time.Duration
	stmts      any // a Statements[T] (WithStatements)
	mig        *migSpec
}

// WithTable stores the records in the named table (optionally "schema.table") instead of
// the record's own table name (record.Desc.Table).
func WithTable(name string) Option { return func(o *options) { o.table = name } }

// WithoutSchemaCheck skips EnsureSchema when the repository is made: the table must exist
// and match (see EnsureSchema), or calls fail.
func WithoutSchemaCheck() Option { return func(o *options) { o.noEnsure = true } }

// WithSchemaScript makes the schema check create a missing table with this SQL script (a
// generated postgres_schema.sql, which also carries the schema's defaults) instead of
// pgdialect.SchemaSQL. Generated constructors pass it.
func WithSchemaScript(script string) Option { return func(o *options) { o.script = script } }

// WithCommandTimeout bounds the server's work of every statement (NewWithDB; New takes it
// from PostgresPoolConfig.CommandTimeout, and this option overrides it): a write, Get,
// Exists or Count as a whole, and for Find and Stream the Query call and each wait for the
// next row, never the time the caller's loop body takes. A statement ended by it fails with
// repo.ErrUnavailable wrapping ErrCommandTimeout; the pool is not reported broken.
func WithCommandTimeout(d time.Duration) Option { return func(o *options) { o.cmdTimeout = d } }

// migSpec is the package migrations WithMigrations hands to a constructor.
type migSpec struct {
	pkg  string
	fsys fs.FS
}

// WithMigrations makes the constructor check the store against package pkg's migrations
// (fsys: its migration directory) instead of creating the table: the store must have
// applied all of them (else an error with errors.Is(err, repo.ErrSchemaBehind) whose
// *migrate.BehindError names the pending versions; a store without a version table is at
// version 0), and the live table must match the newest state (else a *DriftError). The
// migrations own the table; the constructor never creates or alters it. Generated
// constructors of a package with migrations pass it.
func WithMigrations(pkg string, fsys fs.FS) Option {
	return func(o *options) { o.mig = &migSpec{pkg: pkg, fsys: fsys} }
}
