package generator

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/schema"
)

// migrationsFile is the package-wide file that embeds the package's migrations.
const migrationsFile = "migrations.go"

// Names of the package-level identifiers migrations.go declares.
const (
	migrationsFunc    = "Migrations"
	migrationsVar     = "migrationFiles"
	migrateURLFunc    = "Migrate"
	migrateTargetFunc = "MigrateTarget"
)

// migrateFunc is the name of the generated function that applies the package's pending
// migrations on backend b: MigratePostgres.
func (b *backendDef) migrateFunc() string { return "Migrate" + b.title }

// loadModelHistory reads the migrations of the package being generated, and checks that
// the schema is the state the newest of them leads to: code generated from a schema with
// changes no migration makes would expect a store no migration creates.
func loadModelHistory(set *schema.Set, outDir string) (migrate.History, error) {
	h, err := LoadHistory(outDir)
	if err != nil || h == nil {
		return nil, err
	}
	changes, err := migrate.Diff(&h.Last().Schema, SchemaState(set), true)
	if err != nil {
		return nil, fmt.Errorf("%w: the schema cannot follow %s: %v", ErrMigrate, h.Last().FileName(), err)
	}
	if len(changes) > 0 {
		list := make([]string, len(changes))
		for i, c := range changes {
			list[i] = c.String()
		}
		return nil, fmt.Errorf("%w: the schema has changes that no migration under %s makes (%s): run repokit migrate diff -out %s -name NAME first",
			ErrMigrate, MigrationsDir(outDir), strings.Join(list, "; "), outDir)
	}
	return h, nil
}

// migrationOption returns the constructor option of backend b that hands the package's
// migrations to the backend, or nil when the package has none.
func migrationOption(m *Model, b *backendDef) jen.Code {
	if m.History == nil || !b.migrates {
		return nil
	}
	return jen.Qual(b.pkg, "WithMigrations").Call(jen.Lit(m.Package), jen.Id(migrationsFunc).Call())
}

// ctorOptions returns the options argument a generated constructor of backend b passes to
// its backend: base, the migration option when the package has migrations, then the
// caller's opts.
func ctorOptions(m *Model, b *backendDef, base ...jen.Code) jen.Code {
	if o := migrationOption(m, b); o != nil {
		base = append(base, o)
	}
	if len(base) == 0 {
		return jen.Id("opts").Op("...")
	}
	return jen.Append(jen.Index().Qual(b.pkg, "Option").Values(base...), jen.Id("opts").Op("...")).Op("...")
}

// emitMigrations builds migrations.go: the embedded migration directory and, per selected
// backend that applies migrations, Migrate<Backend>.
func emitMigrations(m *Model) *jen.File {
	f := newFile(m)
	f.Anon("embed")
	f.Comment("//go:embed " + migrate.Dir)
	f.Var().Id(migrationsVar).Qual("embed", "FS")
	last := m.History.Last()
	f.Commentf("%s returns the package's migrations (%s/ next to this file), up to %s.", migrationsFunc, migrate.Dir, last.BaseName())
	f.Comment("Generated constructors pass them to their backend, which refuses a store that has not")
	f.Comment("applied them all (repo.ErrSchemaBehind); Migrate<Backend> applies them.")
	f.Func().Id(migrationsFunc).Params().Qual("io/fs", "FS").Block(
		jen.List(jen.Id("sub"), jen.Err()).Op(":=").Qual("io/fs", "Sub").Call(jen.Id(migrationsVar), jen.Lit(migrate.Dir)),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Panic(jen.Err())),
		jen.Return(jen.Id("sub")),
	)
	for _, b := range m.backendDefs() {
		if !b.migrates {
			continue
		}
		fn := b.migrateFunc()
		f.Commentf("%s applies the package's pending migrations to the %s store m holds for cfg,", fn, b.name)
		f.Comment("under a lock that makes concurrent callers apply each migration once, and returns the")
		f.Commentf("versions it applied (none when the store was up to date). See %s.NewMigrator for", b.name)
		f.Comment("plan and status, and docs/migrations.md.")
		f.Func().Id(fn).Params(
			jen.Id("ctx").Qual(pkgContext, "Context"),
			jen.Id("m").Op("*").Qual(pkgPool, "Manager"),
			jen.Id("cfg").Qual(pkgPool, "Config"),
			jen.Id("opts").Op("...").Qual(b.pkg, "MigrateOption"),
		).Params(jen.Index().Int64(), jen.Error()).Block(
			jen.List(jen.Id("mg"), jen.Err()).Op(":=").Qual(b.pkg, "NewMigrator").Call(
				jen.Id("ctx"), jen.Id("m"), jen.Id("cfg"), jen.Lit(m.Package), jen.Id(migrationsFunc).Call(), jen.Id("opts").Op("...")),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
			jen.Defer().Id("mg").Dot("Close").Call(),
			jen.Return(jen.Id("mg").Dot("Apply").Call(jen.Id("ctx"))),
		)
	}
	emitMigrateTarget(f, m)
	return f
}

// emitMigrateTarget adds Migrate (a URL) and MigrateTarget, which apply the package's
// migrations on whichever generated backend a target names, the way Open opens on it: a
// program that chooses its store at run time migrates it with one call.
func emitMigrateTarget(f *jen.File, m *Model) {
	backends := m.backendDefs()
	if len(backends) == 0 {
		return
	}
	var cases, lits []jen.Code
	pooled := false
	for _, b := range backends {
		lits = append(lits, jen.Lit(string(b.name)))
		switch {
		case b.migrates:
			pooled = true
			cases = append(cases, jen.Case(jen.Qual(pkgOpen, b.title)).Block(
				jen.Return(jen.Id(b.migrateFunc()).Call(jen.Id("ctx"), jen.Id("m"), jen.Id("t").Dot("Config")))))
		case !b.pooled:
			cases = append(cases, jen.Case(jen.Qual(pkgOpen, b.title)).Block(jen.Return(jen.Nil(), jen.Nil())))
		}
	}
	var check []jen.Code
	if pooled {
		check = []jen.Code{jen.If(jen.Err().Op(":=").Id("t").Dot("CheckManager").Call(jen.Id("m")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Nil(), jen.Err()))}
	}
	params := func(last jen.Code) []jen.Code {
		return []jen.Code{jen.Id("ctx").Qual(pkgContext, "Context"), jen.Id("m").Op("*").Qual(pkgPool, "Manager"), last}
	}
	f.Commentf("%s applies the package's pending migrations to the store a URL names (the forms of", migrateURLFunc)
	f.Commentf("%s) and returns the versions it applied. The memory backend keeps nothing between", openFunc)
	f.Comment("runs: there is nothing to apply.")
	f.Func().Id(migrateURLFunc).Params(params(jen.Id("target").String())...).Params(jen.Index().Int64(), jen.Error()).Block(
		jen.List(jen.Id("t"), jen.Err()).Op(":=").Qual(pkgOpen, "Parse").Call(jen.Id("target")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Return(jen.Id(migrateTargetFunc).Call(jen.Id("ctx"), jen.Id("m"), jen.Id("t"))),
	)
	f.Commentf("%s applies the package's pending migrations to the store of t with the", migrateTargetFunc)
	f.Comment("Migrate<Backend> function of t's backend; see Migrate.")
	f.Func().Id(migrateTargetFunc).Params(params(jen.Id("t").Qual(pkgOpen, "Target"))...).Params(jen.Index().Int64(), jen.Error()).Block(append(check,
		jen.Switch(jen.Id("t").Dot("Backend")).Block(cases...),
		jen.Return(jen.Nil(), jen.Qual(pkgOpen, "NotGenerated").Call(append([]jen.Code{jen.Id("t"), jen.Lit(m.Package)}, lits...)...)),
	)...)
}
