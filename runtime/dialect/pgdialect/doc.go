// Package pgdialect renders repokit's PostgreSQL text: the table of a record (columns, types,
// constraints, indexes), the static statements by id, quoted identifiers and literals, and
// the comparison of a live table's columns with the wanted ones. It imports no driver (only
// the standard library, runtime/query and runtime/record), so that the PostgreSQL backend,
// which runs this SQL, and the generator, which writes it into postgres_schema.sql and
// postgres_queries.sql, share one function per statement without the generator linking pgx
// (the way ent's generator renders DDL with dialect/sql/schema).
//
// The pieces:
//
//   - Quote, QuoteTable, Literal: identifiers and string constants (Quote is
//     pgx.Identifier.Sanitize, byte for byte);
//   - ColumnType: the column type and collation of a field kind; VersionColumn;
//   - TableDef (TableDefOf from a descriptor, or built by the generator with the schema's
//     defaults) renders one statement per kind: CreateTable, CreateIndexes, and SQL for all
//     of them; ColumnList is what a drift check compares;
//   - Drift lists how live columns differ from the wanted ones;
//   - StaticSQL: the get, insert, upsert, update, delete and exists statements by id;
//   - MigrationFile: a schema migration (runtime/migrate) as a goose SQL file, RecordTableDef
//     the table of a migration's state, and TableDef.LiveDrift the comparison of a live
//     table (columns, defaults, indexes, CHECK constraints) with it.
//
// Nothing here talks to a database: the backend (runtime/backends/postgres) runs the
// statements, reads the live columns and wraps Drift's findings in its DriftError.
package pgdialect
