package generator

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"

	"github.com/dave/jennifer/jen"

	"github.com/repokit/repokit/generator/templates"
	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/schema"
)

// Names and import paths of the PostgreSQL outputs.
const (
	postgresFile       = "postgres.go"
	postgresSchemaFile = "postgres_schema.sql"
	pkgPostgres        = "github.com/repokit/repokit/runtime/backends/postgres"
	pkgPool            = "github.com/repokit/repokit/runtime/pool"
	pkgContext         = "context"
	// ensurePostgresSchema is the function of postgres.go that creates or checks every table.
	ensurePostgresSchema = "EnsurePostgresSchema"
)

// SQLHeader is Header as an SQL comment: the first line of every generated SQL file.
var SQLHeader = "-- " + strings.TrimPrefix(Header, "// ")

// postgresTable returns the table definition of r, with the schema's defaults as column
// defaults; it is rendered with pgdialect.TableDef.SQL, the same code the PostgreSQL
// backend creates tables with at run time, so the two cannot disagree.
func postgresTable(r *Record) (pgdialect.TableDef, error) {
	t := pgdialect.TableDef{Table: r.Schema().Table}
	for _, f := range r.All() {
		c := pgdialect.ColumnDef{Name: f.Name(), Kind: queryKind(f.Type()), List: f.IsList(),
			Optional: f.Optional(), Unique: f.Unique(), Indexed: f.Indexed(), Search: f.Search()}
		if f.Type() == schema.TypeEnum {
			c.Enum = f.Values()
		}
		if d := f.Default(); d != nil {
			lit, err := sqlDefault(f.Type(), d)
			if err != nil {
				return t, fmt.Errorf("%s: default of %s.%s: %w", f.Pos(), r.Name(), f.Name(), err)
			}
			c.Default = lit
		}
		t.Columns = append(t.Columns, c)
	}
	return t, nil
}

func queryKind(t schema.Type) query.Kind {
	switch t {
	case schema.TypeString:
		return query.KindString
	case schema.TypeText:
		return query.KindText
	case schema.TypeUUID:
		return query.KindUUID
	case schema.TypeEnum:
		return query.KindEnum
	case schema.TypeInt:
		return query.KindInt
	case schema.TypeFloat:
		return query.KindFloat
	case schema.TypeBool:
		return query.KindBool
	case schema.TypeTime:
		return query.KindTime
	case schema.TypeBytes:
		return query.KindBytes
	case schema.TypeJSON:
		return query.KindJSON
	}
	return query.KindInvalid
}

// sqlDefault renders a schema default as an SQL constant of the column's type.
func sqlDefault(t schema.Type, v any) (string, error) { return pgdialect.DefaultSQL(string(t), v) }

// postgresScript returns the statements creating r's table, each ending with ";\n".
func postgresScript(t pgdialect.TableDef) string {
	var b strings.Builder
	for _, s := range t.SQL() {
		b.WriteString(s)
		b.WriteString(";\n")
	}
	return b.String()
}

// postgresSchemaVar is the unexported constant holding r's table script.
func postgresSchemaVar(r *Record) string {
	return strings.ToLower(r.GoName()[:1]) + r.GoName()[1:] + "PostgresSchema"
}

// emitPostgres builds postgres.go (constructors, table scripts, statements types,
// EnsurePostgresSchema), postgres_schema.sql (the migration file, rendered from
// templates/postgres) and postgres_queries.sql.
func emitPostgres(m *Model, b *backendDef) ([]File, error) {
	type table struct {
		Record     string
		Statements []string
	}
	var tables []table
	f := newFile(m)
	f.ImportName(pkgPostgres, "postgres")
	f.ImportName(pkgPool, "pool")
	var ensure []jen.Code
	for _, r := range m.Records {
		td, err := postgresTable(r)
		if err != nil {
			return nil, err
		}
		tables = append(tables, table{Record: r.Name(), Statements: td.SQL()})
		sv := postgresSchemaVar(r)
		f.Commentf("%s creates the table of %s (the statements of %s).", sv, r.GoName(), postgresSchemaFile)
		f.Const().Id(sv).Op("=").Lit(postgresScript(td))
		ctor := b.constructor(r)
		f.Commentf("%s returns the %s records stored in PostgreSQL table %q,", ctor, r.GoName(), r.Schema().Table)
		f.Comment("on the pool m holds for cfg (a pool.PostgresPoolConfig or a *pool.Prepared made from one):")
		f.Comment("repositories on one config share one pool. It creates the table when it is missing and fails")
		f.Comment("with a *postgres.DriftError when the live table does not match the schema")
		f.Comment("(postgres.WithoutSchemaCheck skips the check).")
		f.Commentf("Its statements by id run the code sqlc generated in package %s.", SQLCPackage(m.Package))
		f.Func().Id(ctor).Params(
			jen.Id("ctx").Qual(pkgContext, "Context"),
			jen.Id("m").Op("*").Qual(pkgPool, "Manager"),
			jen.Id("cfg").Qual(pkgPool, "Config"),
			jen.Id("opts").Op("...").Qual(pkgPostgres, "Option"),
		).Params(jen.Op("*").Qual(pkgRepo, "Collection").Types(jen.Id(r.GoName())), jen.Error()).Block(
			jen.List(jen.Id("d"), jen.Err()).Op(":=").Qual(pkgPostgres, "New").Call(
				jen.Id("ctx"), jen.Id("m"), jen.Id("cfg"), jen.Id(r.SchemaVar()),
				ctorOptions(m, b,
					jen.Qual(pkgPostgres, "WithSchemaScript").Call(jen.Id(sv)),
					jen.Qual(pkgPostgres, "WithStatements").Types(jen.Id(r.GoName())).Call(jen.Id(statementsType(r)).Values()),
				),
			),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
			jen.Return(jen.Qual(pkgRepo, "New").Call(jen.Id(r.SchemaVar()), jen.Id("d")), jen.Nil()),
		)
		emitStatements(f, m, r, m.SQLCImport)
		ensure = append(ensure, jen.Qual(pkgPostgres, "EnsureSchemaSQL").Call(
			jen.Id("ctx"), jen.Id("db"), jen.Id(r.SchemaVar()), jen.Id(r.SchemaVar()).Dot("Table"), jen.Id(sv)))
	}
	f.Commentf("%s creates the table of every record that is missing (with the statements", ensurePostgresSchema)
	f.Commentf("of %s) and checks the others against the schema: a table that differs is", postgresSchemaFile)
	f.Comment("reported in a *postgres.DriftError (errors.Is(err, postgres.ErrSchemaDrift)) and never altered.")
	f.Comment("db is a *pgxpool.Pool, a *pgx.Conn or a pgx.Tx.")
	f.Func().Id(ensurePostgresSchema).Params(
		jen.Id("ctx").Qual(pkgContext, "Context"), jen.Id("db").Qual(pkgPostgres, "Execer"),
	).Error().Block(jen.Return(jen.Qual(pkgErrors, "Join").Custom(jen.Options{Open: "(", Close: ")", Separator: ",", Multi: true}, ensure...)))

	tmpl, err := template.ParseFS(templates.FS, "postgres/schema.sql.tmpl")
	if err != nil {
		return nil, fmt.Errorf("generator: postgres template: %w", err)
	}
	var buf bytes.Buffer
	err = tmpl.Execute(&buf, map[string]any{
		"Header": SQLHeader, "Package": m.Package, "Sources": strings.Join(m.Sources, ", "), "Tables": tables,
	})
	if err != nil {
		return nil, fmt.Errorf("generator: rendering %s: %w", postgresSchemaFile, err)
	}
	gf, err := renderGo(postgresFile, f)
	if err != nil {
		return nil, err
	}
	return []File{gf, {Name: postgresSchemaFile, Data: buf.Bytes()}, postgresQueries(m)}, nil
}
