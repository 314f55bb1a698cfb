package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Statements runs the static statements of one record type — get, insert, upsert, update and
// delete by id, and the existence check — with code that sqlc generated from the schema set's
// postgres_queries.sql (the generator writes both; see docs/postgres.md). Generated
// constructors pass it with WithStatements. Its SQL is the SQL of StaticSQL for the record's
// own table, so a driver runs the same statements with or without it; a driver on another
// table (WithTable) builds them from the descriptor instead.
//
// Every method runs one statement on db and returns pgx's errors unchanged (the driver maps
// them). Versions are the values of the version column.
type Statements[T any] interface {
	// Get returns the record with the id and its version (pgx.ErrNoRows when there is none).
	Get(ctx context.Context, db DB, id string) (T, int64, error)
	// Insert inserts rec with the version unless its id (or a unique value) is taken, and
	// returns the number of rows inserted (0 or 1).
	Insert(ctx context.Context, db DB, rec *T, version int64) (int64, error)
	// Upsert inserts rec with the version, or replaces the record with its id.
	Upsert(ctx context.Context, db DB, rec *T, version int64) error
	// Update replaces the record with rec's id, setting the version, and returns the number
	// of rows changed (0 or 1).
	Update(ctx context.Context, db DB, rec *T, version int64) (int64, error)
	// UpdateIfVersion is Update for a stored record whose version is want.
	UpdateIfVersion(ctx context.Context, db DB, rec *T, version, want int64) (int64, error)
	// Delete deletes the record with the id and returns the number of rows deleted.
	Delete(ctx context.Context, db DB, id string) (int64, error)
	// DeleteIfVersion is Delete for a stored record whose version is want.
	DeleteIfVersion(ctx context.Context, db DB, id string, want int64) (int64, error)
	// Exists reports whether a record with the id is stored.
	Exists(ctx context.Context, db DB, id string) (bool, error)
}

// Names of the static statements of StaticSQL.
const (
	StmtGet             = "Get"
	StmtInsert          = "Insert"
	StmtUpsert          = "Upsert"
	StmtUpdate          = "Update"
	StmtUpdateIfVersion = "UpdateIfVersion"
	StmtDelete          = "Delete"
	StmtDeleteIfVersion = "DeleteIfVersion"
	StmtExists          = "Exists"
)

// StaticStatement is one statement of StaticSQL.
type StaticStatement struct {
	Name string // one of the Stmt* names
	SQL  string
}

// ExpectedVersionParam names the parameter holding the expected version in the
// UpdateIfVersion and DeleteIfVersion statements (for param).
const ExpectedVersionParam = "repokit_expected_version"

// StaticSQL returns the static statements of a table whose columns are cols (the id column
// first, then the fields in order; without the version column), in the order of the Stmt*
// constants. param renders parameter n (1-based) that binds the named column, or
// ExpectedVersionParam; nil renders $n. The driver runs these statements, and the generator
// writes them, annotated, into postgres_queries.sql for sqlc.
func StaticSQL(table pgx.Identifier, cols []string, param func(n int, name string) string) []StaticStatement {
	if param == nil {
		param = func(n int, _ string) string { return "$" + strconv.Itoa(n) }
	}
	qt := table.Sanitize()
	all := append(append(make([]string, 0, len(cols)+1), cols...), VersionColumn)
	quoted := make([]string, len(all))
	params := make([]string, len(all))
	for i, c := range all {
		quoted[i] = Quote(c)
		params[i] = param(i+1, c)
	}
	allCols := strings.Join(quoted, ", ")
	id, idParam := quoted[0], params[0]
	sets := make([]string, 0, len(all)-1)
	excl := make([]string, 0, len(all)-1)
	for i := 1; i < len(all); i++ {
		sets = append(sets, quoted[i]+" = "+params[i])
		excl = append(excl, quoted[i]+" = EXCLUDED."+quoted[i])
	}
	values := strings.Join(params, ", ")
	update := fmt.Sprintf("UPDATE %s SET %s WHERE %s = %s", qt, strings.Join(sets, ", "), id, idParam)
	deleteSQL := fmt.Sprintf("DELETE FROM %s WHERE %s = %s", qt, id, idParam)
	ver := Quote(VersionColumn)
	return []StaticStatement{
		{StmtGet, fmt.Sprintf("SELECT %s FROM %s WHERE %s = %s", allCols, qt, id, idParam)},
		{StmtInsert, fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) ON CONFLICT DO NOTHING", qt, allCols, values)},
		{StmtUpsert, fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (%s) DO UPDATE SET %s", qt, allCols, values, id, strings.Join(excl, ", "))},
		{StmtUpdate, update},
		{StmtUpdateIfVersion, fmt.Sprintf("%s AND %s = %s", update, ver, param(len(all)+1, ExpectedVersionParam))},
		{StmtDelete, deleteSQL},
		{StmtDeleteIfVersion, fmt.Sprintf("%s AND %s = %s", deleteSQL, ver, param(2, ExpectedVersionParam))},
		{StmtExists, fmt.Sprintf("SELECT EXISTS (SELECT 1 FROM %s WHERE %s = %s)", qt, id, idParam)},
	}
}

// The helpers below convert between a record's Go fields and the types of the code sqlc
// generates; generated Statements call them.

// NilIfEmpty returns nil for an empty slice and s otherwise: an empty list, bytes or json
// value is stored as NULL (missing), as the driver stores it.
func NilIfEmpty[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}

// UTCPtr returns t in UTC (nil stays nil); the value is changed in place.
func UTCPtr(t *time.Time) *time.Time {
	if t != nil {
		*t = t.UTC()
	}
	return t
}

// UTCList returns ts with every time in UTC; the slice is changed in place.
func UTCList(ts []time.Time) []time.Time {
	for i := range ts {
		ts[i] = ts[i].UTC()
	}
	return ts
}

// StringsOf returns the values of an enum list as strings (nil for an empty list).
func StringsOf[E ~string](vs []E) []string {
	if len(vs) == 0 {
		return nil
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// EnumsOf returns strings as values of an enum type (nil for an empty list).
func EnumsOf[E ~string](vs []string) []E {
	if len(vs) == 0 {
		return nil
	}
	out := make([]E, len(vs))
	for i, v := range vs {
		out[i] = E(v)
	}
	return out
}

// WithStatements makes the driver run its static statements with s (code generated by sqlc)
// instead of building them from the descriptor. It applies to the record's own table only:
// with WithTable naming another table the driver builds its statements as without it. New
// fails when s is not a Statements of the driver's record type.
func WithStatements[T any](s Statements[T]) Option {
	return func(o *options) { o.stmts = s }
}
