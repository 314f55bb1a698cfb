// Package postgres is repokit's PostgreSQL backend on pgx/v5. A Driver stores the records of
// one type in one table with a typed column per field (see pgdialect.ColumnType), the id as
// primary key and a version column, and implements repo.Driver with the semantics of the
// conformance suite (package drivertest):
//
//   - filters are compiled to parameterized SQL with quoted identifiers (two-valued logic,
//     LIKE with this package's own escaping, REGEX with ~ on an anchored POSIX pattern,
//     lists with @>, && and cardinality), sorted with NULLS LAST and the id as tiebreaker;
//   - CreateBatch sends COPY (pgx CopyFrom) in chunks and still reports a result per record;
//   - Update and Delete with an expected version, Upsert with ON CONFLICT;
//   - streams read rows as the loop asks for them and release the connection when it stops;
//   - a command timeout (WithCommandTimeout, PostgresPoolConfig.CommandTimeout) bounds every
//     statement, and for streams every wait for the server, not the caller's loop body
//     (watchdog.go);
//   - unique fields get a unique index each, and a write that meets a taken value fails with
//     ErrAlreadyExists naming the field, like on every backend (see unique.go);
//   - errors are mapped to repo's kinds (see mapErr).
//
// Repositories get their *pgxpool.Pool from a pool.Manager (New, Hooks), so repositories on
// one config share one pool. With the config's Replicas, reads outside a transaction go to a
// hot standby that has replayed the repository's own writes (read-your-writes), and fall back
// to the primary (see replica.go, UsePrimary). InTx and WithTx run repository calls in one transaction.
// EnsureSchema creates a missing table and reports drift instead of altering a table. The
// SQL text itself (table DDL, static statements, quoting) is rendered by package
// runtime/dialect/pgdialect, which the generator shares; generated constructors also pass
// the statements sqlc generated for the calls by id (WithStatements).
//
// The files follow the calls: driver.go (construction, failure mapping), options.go,
// codec.go (records to column values and back), insert.go (the three insert paths: one
// INSERT, COPY, multi-row INSERT) with savepoint.go, crud.go, query.go (SelectSQL, Query,
// Count) with compile.go (filters to SQL), unique.go, errors.go, schema.go, tx.go, pool.go,
// replica.go (read replicas).
// docs/postgres.md has the details.
package postgres
