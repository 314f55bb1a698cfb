package pgdialect

import (
	"fmt"
	"strconv"
	"strings"
)

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

// StaticSQL returns the static statements of table (optionally "schema.table", quoted with
// QuoteTable) whose columns are cols (the id column first, then the fields in order; without
// the version column), in the order of the Stmt* constants. param renders parameter n
// (1-based) that binds the named column, or ExpectedVersionParam; nil renders $n. The
// PostgreSQL backend runs these statements, and the generator writes them, annotated, into
// postgres_queries.sql for sqlc.
func StaticSQL(table string, cols []string, param func(n int, name string) string) []StaticStatement {
	if param == nil {
		param = func(n int, _ string) string { return "$" + strconv.Itoa(n) }
	}
	qt := QuoteTable(table)
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
