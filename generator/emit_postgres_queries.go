package generator

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/schema"
)

// postgresQueriesFile holds the static statements of every record, annotated for sqlc, which
// turns them into the typed methods the generated postgres.Statements call.
const postgresQueriesFile = "postgres_queries.sql"

// staticQuery describes how one statement of pgdialect.StaticSQL becomes a sqlc query.
type staticQuery struct {
	name func(rec string) string // the sqlc query (and Go method) name
	cmd  string                  // the sqlc command
}

var staticQueries = map[string]staticQuery{
	pgdialect.StmtGet:             {func(r string) string { return "Get" + r }, ":one"},
	pgdialect.StmtInsert:          {func(r string) string { return "Insert" + r }, ":execrows"},
	pgdialect.StmtUpsert:          {func(r string) string { return "Upsert" + r }, ":exec"},
	pgdialect.StmtUpdate:          {func(r string) string { return "Update" + r }, ":execrows"},
	pgdialect.StmtUpdateIfVersion: {func(r string) string { return "Update" + r + "IfVersion" }, ":execrows"},
	pgdialect.StmtDelete:          {func(r string) string { return "Delete" + r }, ":execrows"},
	pgdialect.StmtDeleteIfVersion: {func(r string) string { return "Delete" + r + "IfVersion" }, ":execrows"},
	pgdialect.StmtExists:          {func(r string) string { return r + "Exists" }, ":one"},
}

// queryName returns the sqlc query name of statement stmt of r.
func queryName(r *Record, stmt string) string { return staticQueries[stmt].name(r.GoName()) }

func columnNames(r *Record) []string {
	cols := make([]string, 0, len(r.fields)+1)
	for _, f := range r.All() {
		cols = append(cols, f.Name())
	}
	return cols
}

// sqlcParam renders the parameters of the statements in postgres_queries.sql: positional,
// except the expected version, which is named so that sqlc names its field.
func sqlcParam(n int, name string) string {
	if name == pgdialect.ExpectedVersionParam {
		return "sqlc.arg(" + name + ")"
	}
	return fmt.Sprintf("$%d", n)
}

// postgresQueries renders postgres_queries.sql.
func postgresQueries(m *Model) File {
	var b strings.Builder
	b.WriteString(SQLHeader + "\n")
	fmt.Fprintf(&b, "--\n-- Static statements of package %s, generated from %s: the statements its\n", m.Package, strings.Join(m.Sources, ", "))
	fmt.Fprintf(&b, "-- PostgreSQL repositories run, annotated for sqlc, which generates their pgx/v5 code in\n")
	fmt.Fprintf(&b, "-- package %s (usable on its own, e.g. in a transaction).\n", SQLCPackage(m.Package))
	for _, r := range m.Records {
		for _, st := range pgdialect.StaticSQL(r.Schema().Table, columnNames(r), sqlcParam) {
			q := staticQueries[st.Name]
			fmt.Fprintf(&b, "\n-- name: %s %s\n%s;\n", q.name(r.GoName()), q.cmd, st.SQL)
		}
	}
	return File{Name: postgresQueriesFile, Data: []byte(b.String())}
}

// sqlcGoType returns the sqlc go_type override (YAML flow mapping) that makes sqlc use the
// record field's own Go type (or its string form, for enums) for the column.
func sqlcGoType(f *Field) string {
	var parts []string
	switch f.Type() {
	case schema.TypeString, schema.TypeText, schema.TypeUUID, schema.TypeEnum:
		parts = append(parts, `type: "string"`)
	case schema.TypeInt:
		parts = append(parts, `type: "int64"`)
	case schema.TypeFloat:
		parts = append(parts, `type: "float64"`)
	case schema.TypeBool:
		parts = append(parts, `type: "bool"`)
	case schema.TypeTime:
		parts = append(parts, `import: "time"`, `type: "Time"`)
	case schema.TypeBytes:
		parts = append(parts, `type: "byte"`, `slice: true`)
	case schema.TypeJSON:
		parts = append(parts, `import: "encoding/json"`, `type: "RawMessage"`)
	}
	if f.IsList() {
		parts = append(parts, `slice: true`)
	}
	if f.Pointer() {
		parts = append(parts, `pointer: true`)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// sqlcGoSettings returns the rename and overrides settings of sqlc's go generator (YAML,
// indented for the gen.go mapping): every column gets the Go name and type of its record
// field, so the generated Statements convert without copying (see docs/postgres.md).
func sqlcGoSettings(m *Model) string {
	const ind = "        "
	var b strings.Builder
	b.WriteString(ind + "rename:\n")
	seen := map[string]bool{}
	for _, r := range m.Records {
		for _, f := range r.All() {
			if !seen[f.Name()] {
				seen[f.Name()] = true
				fmt.Fprintf(&b, "%s  %q: %q\n", ind, f.Name(), f.GoName())
			}
		}
	}
	fmt.Fprintf(&b, "%s  %q: %q\n", ind, pgdialect.VersionColumn, schema.GoName(pgdialect.VersionColumn))
	b.WriteString(ind + "overrides:\n")
	for _, r := range m.Records {
		for _, f := range r.All() {
			fmt.Fprintf(&b, "%s  - column: %q\n%s    go_type: %s\n", ind, r.Schema().Table+"."+f.Name(), ind, sqlcGoType(f))
		}
	}
	return b.String()
}

// statementsType is the unexported type implementing postgres.Statements for r.
func statementsType(r *Record) string {
	return strings.ToLower(r.GoName()[:1]) + r.GoName()[1:] + "PostgresStatements"
}

// fromRow converts the sqlc value of f (in row) to the record field's type.
func fromRow(f *Field, row *jen.Statement) jen.Code {
	v := row.Clone().Dot(f.GoName())
	switch {
	case f.Type() == schema.TypeEnum && f.IsList():
		return jen.Qual(pkgPostgres, "EnumsOf").Types(jen.Id(f.EnumType())).Call(v)
	case f.Type() == schema.TypeEnum && f.Pointer():
		return jen.Parens(jen.Op("*").Id(f.EnumType())).Call(v)
	case f.Type() == schema.TypeEnum:
		return jen.Id(f.EnumType()).Call(v)
	case f.Type() == schema.TypeTime && f.IsList():
		return jen.Qual(pkgPostgres, "UTCList").Call(v)
	case f.Type() == schema.TypeTime && f.Pointer():
		return jen.Qual(pkgPostgres, "UTCPtr").Call(v)
	case f.Type() == schema.TypeTime:
		return v.Dot("UTC").Call()
	}
	return v
}

// toParam converts the record field f (of rec) to its sqlc parameter: missing values (empty
// lists, bytes and json) become nil, so that they are stored as NULL.
func toParam(f *Field, rec *jen.Statement) jen.Code {
	v := rec.Clone().Dot(f.GoName())
	switch {
	case f.Type() == schema.TypeEnum && f.IsList():
		return jen.Qual(pkgPostgres, "StringsOf").Call(v)
	case f.Type() == schema.TypeEnum && f.Pointer():
		return jen.Parens(jen.Op("*").String()).Call(v)
	case f.Type() == schema.TypeEnum:
		return jen.String().Call(v)
	case f.IsList() || f.Type() == schema.TypeBytes || f.Type() == schema.TypeJSON:
		return jen.Qual(pkgPostgres, "NilIfEmpty").Call(v)
	}
	return v
}

// emitStatements adds the postgres.Statements implementation of r to f: every method calls
// the sqlc-generated method of its statement in package sqlcPkg.
func emitStatements(f *jen.File, m *Model, r *Record, sqlcPkg string) {
	st := statementsType(r)
	rec := r.GoName()
	ctx := jen.Id("ctx").Qual(pkgContext, "Context")
	db := jen.Id("db").Qual(pkgPostgres, "DB")
	q := func(stmt string) *jen.Statement {
		return jen.Qual(sqlcPkg, "New").Call(jen.Id("db")).Dot(queryName(r, stmt))
	}
	params := func(stmt string) *jen.Statement { return jen.Qual(sqlcPkg, queryName(r, stmt)+"Params") }
	recv := jen.Id("s").Id(st)
	version := jen.Id(schema.GoName(pgdialect.VersionColumn))
	expected := jen.Id(schema.GoName(pgdialect.ExpectedVersionParam))

	f.Commentf("%s runs the static statements of %s (%s) with the code sqlc", st, rec, postgresQueriesFile)
	f.Commentf("generated in package %s.", SQLCPackage(m.Package))
	f.Type().Id(st).Struct()
	f.Line()

	f.Comment("Get implements postgres.Statements.")
	f.Func().Params(recv.Clone()).Id("Get").Params(ctx, db, jen.Id("id").String()).Params(jen.Id(rec), jen.Int64(), jen.Error()).Block(
		jen.List(jen.Id("row"), jen.Err()).Op(":=").Add(q(pgdialect.StmtGet)).Call(jen.Id("ctx"), jen.Id("id")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id(rec).Values(), jen.Lit(0), jen.Err())),
		jen.Return(jen.Id(rec).Values(jen.DictFunc(func(d jen.Dict) {
			for _, fd := range r.All() {
				d[jen.Id(fd.GoName())] = fromRow(fd, jen.Id("row"))
			}
		})), jen.Id("row").Dot(schema.GoName(pgdialect.VersionColumn)), jen.Nil()),
	)

	f.Comment("params returns the column values of r with the version, as sqlc's parameters.")
	f.Func().Params(recv.Clone()).Id("params").Params(jen.Id("r").Op("*").Id(rec), jen.Id("version").Int64()).Add(params(pgdialect.StmtInsert)).Block(
		jen.Return(params(pgdialect.StmtInsert).Values(jen.DictFunc(func(d jen.Dict) {
			for _, fd := range r.All() {
				d[jen.Id(fd.GoName())] = toParam(fd, jen.Id("r"))
			}
			d[version.Clone()] = jen.Id("version")
		}))),
	)

	recVer := []jen.Code{ctx, db, jen.Id("r").Op("*").Id(rec), jen.Id("version").Int64()}
	f.Comment("Insert implements postgres.Statements.")
	f.Func().Params(recv.Clone()).Id("Insert").Params(recVer...).Params(jen.Int64(), jen.Error()).Block(
		jen.Return(q(pgdialect.StmtInsert).Call(jen.Id("ctx"), jen.Id("s").Dot("params").Call(jen.Id("r"), jen.Id("version")))),
	)
	f.Comment("Upsert implements postgres.Statements.")
	f.Func().Params(recv.Clone()).Id("Upsert").Params(recVer...).Error().Block(
		jen.Return(q(pgdialect.StmtUpsert).Call(jen.Id("ctx"), params(pgdialect.StmtUpsert).Call(jen.Id("s").Dot("params").Call(jen.Id("r"), jen.Id("version"))))),
	)
	f.Comment("Update implements postgres.Statements.")
	f.Func().Params(recv.Clone()).Id("Update").Params(recVer...).Params(jen.Int64(), jen.Error()).Block(
		jen.Return(q(pgdialect.StmtUpdate).Call(jen.Id("ctx"), params(pgdialect.StmtUpdate).Call(jen.Id("s").Dot("params").Call(jen.Id("r"), jen.Id("version"))))),
	)
	f.Comment("UpdateIfVersion implements postgres.Statements.")
	f.Func().Params(recv.Clone()).Id("UpdateIfVersion").Params(append(recVer, jen.Id("want").Int64())...).Params(jen.Int64(), jen.Error()).Block(
		jen.Id("p").Op(":=").Id("s").Dot("params").Call(jen.Id("r"), jen.Id("version")),
		jen.Return(q(pgdialect.StmtUpdateIfVersion).Call(jen.Id("ctx"), params(pgdialect.StmtUpdateIfVersion).Values(jen.DictFunc(func(d jen.Dict) {
			for _, fd := range r.All() {
				d[jen.Id(fd.GoName())] = jen.Id("p").Dot(fd.GoName())
			}
			d[version.Clone()] = jen.Id("p").Dot(schema.GoName(pgdialect.VersionColumn))
			d[expected.Clone()] = jen.Id("want")
		})))),
	)
	f.Comment("Delete implements postgres.Statements.")
	f.Func().Params(recv.Clone()).Id("Delete").Params(ctx, db, jen.Id("id").String()).Params(jen.Int64(), jen.Error()).Block(
		jen.Return(q(pgdialect.StmtDelete).Call(jen.Id("ctx"), jen.Id("id"))),
	)
	f.Comment("DeleteIfVersion implements postgres.Statements.")
	f.Func().Params(recv.Clone()).Id("DeleteIfVersion").Params(ctx, db, jen.Id("id").String(), jen.Id("want").Int64()).Params(jen.Int64(), jen.Error()).Block(
		jen.Return(q(pgdialect.StmtDeleteIfVersion).Call(jen.Id("ctx"), params(pgdialect.StmtDeleteIfVersion).Values(jen.Dict{
			jen.Id(r.ID().GoName()): jen.Id("id"),
			expected.Clone():        jen.Id("want"),
		}))),
	)
	f.Comment("Exists implements postgres.Statements.")
	f.Func().Params(recv.Clone()).Id("Exists").Params(ctx, db, jen.Id("id").String()).Params(jen.Bool(), jen.Error()).Block(
		jen.Return(q(pgdialect.StmtExists).Call(jen.Id("ctx"), jen.Id("id"))),
	)
}

// moduleImportPath returns the import path of directory dir from the go.mod file in dir or
// above it ("" and no error when there is none).
func moduleImportPath(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			mod := modulePath(data)
			if mod == "" {
				return "", fmt.Errorf("%s has no module line", filepath.Join(d, "go.mod"))
			}
			rel, err := filepath.Rel(d, abs)
			if err != nil {
				return "", err
			}
			if rel == "." {
				return mod, nil
			}
			return mod + "/" + filepath.ToSlash(rel), nil
		}
		if !os.IsNotExist(err) {
			return "", err
		}
		if filepath.Dir(d) == d {
			return "", nil
		}
	}
}

// modulePath returns the module path of a go.mod file ("" when it has none).
func modulePath(gomod []byte) string {
	for line := range strings.Lines(string(gomod)) {
		line, _, _ = strings.Cut(line, "//")
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t' && rest[0] != '"') {
			continue
		}
		rest = strings.TrimSpace(rest)
		if p, err := strconv.Unquote(rest); err == nil {
			return p
		}
		return rest
	}
	return ""
}
