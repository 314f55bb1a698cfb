package generator

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/repokit/repokit/schema"
)

// Names and import paths of the openers: open.go opens every record's repository on the
// backend a URL, a config file entry or a runtime/open Target names, with the constructors
// of the backend table's rows.
const (
	openFile = "open.go"
	pkgOpen  = "github.com/repokit/repokit/runtime/open"
	// repositoriesType holds one repository per record; Open* return it.
	repositoriesType = "Repositories"
	openFunc         = "Open"
	openConfigFunc   = "OpenFromConfig"
	openTargetFunc   = "OpenFromTarget"
)

// openerFunc, openerConfigFunc and openerTargetFunc name r's openers.
func openerFunc(r *Record) string       { return "New" + r.GoName() + "Repository" }
func openerConfigFunc(r *Record) string { return openerFunc(r) + "FromConfig" }
func openerTargetFunc(r *Record) string { return openerFunc(r) + "FromTarget" }

// declareOpeners declares the names of open.go (generated with at least one backend): its
// file, the package-level functions and type, each record's openers, and the fields and
// method of the Repositories struct in a scope of their own.
func (m *Model) declareOpeners(pkg, files *scope) {
	if len(m.backendDefs()) == 0 {
		return
	}
	files.declare(openFile, "the openers", schema.Pos{})
	pkg.declare(repositoriesType, "the type of the package's repositories", schema.Pos{})
	pkg.declare(openFunc, "the opener of the package's repositories", schema.Pos{})
	pkg.declare(openConfigFunc, "the config-file opener of the package's repositories", schema.Pos{})
	pkg.declare(openTargetFunc, "the target opener of the package's repositories", schema.Pos{})
	st := newScope("Go identifier", pkg.errs)
	st.declare("Close", "the Close method of "+repositoriesType, schema.Pos{})
	for _, r := range m.Records {
		what := "record " + r.Name()
		pkg.declare(openerFunc(r), "the URL opener of "+what, r.s.Pos)
		pkg.declare(openerConfigFunc(r), "the config-file opener of "+what, r.s.Pos)
		pkg.declare(openerTargetFunc(r), "the target opener of "+what, r.s.Pos)
		st.declare(r.GoName(), "the "+repositoriesType+" field of "+what, r.s.Pos)
	}
}

// emitOpen builds open.go: per record New<R>Repository (a URL), New<R>RepositoryFromConfig
// (a databases: file entry) and New<R>RepositoryFromTarget, which dispatches on the
// target's backend to the constructor of that backend's row; per package the Repositories
// type with Open, OpenFromConfig and OpenFromTarget.
func emitOpen(m *Model) (File, error) {
	f := newFile(m)
	f.ImportName(pkgOpen, "open")
	f.ImportName(pkgPool, "pool")
	backends := m.backendDefs()
	var lits []jen.Code
	var bnames []string
	formList, pooled := "", false
	for i, b := range backends {
		lits = append(lits, jen.Lit(string(b.name)))
		bnames = append(bnames, string(b.name))
		if i > 0 {
			formList += "\n"
		}
		formList += "\t" + b.urlForm
		if b.pooled {
			f.ImportName(b.pkg, string(b.name))
			pooled = true
		}
	}
	ctxParams := func(last ...jen.Code) []jen.Code {
		return append([]jen.Code{jen.Id("ctx").Qual(pkgContext, "Context"), jen.Id("m").Op("*").Qual(pkgPool, "Manager")},
			append(last, jen.Id("opts").Op("...").Qual(pkgOpen, "Option"))...)
	}
	fail := jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err()))
	// resolve is the body of an opener that makes a Target with call and opens it with next.
	resolve := func(call *jen.Statement, next string) []jen.Code {
		return []jen.Code{
			jen.List(jen.Id("t"), jen.Err()).Op(":=").Add(call), fail,
			jen.Return(jen.Id(next).Call(jen.Id("ctx"), jen.Id("m"), jen.Id("t"), jen.Id("opts").Op("..."))),
		}
	}
	parse := jen.Qual(pkgOpen, "Parse").Call(jen.Id("target"))
	fromFile := jen.Qual(pkgOpen, "FromFile").Call(jen.Id("path"), jen.Id("backend"), jen.Qual("os", "LookupEnv"))
	for _, r := range m.Records {
		coll := jen.Op("*").Qual(pkgRepo, "Collection").Types(jen.Id(r.GoName()))
		ret := []jen.Code{coll, jen.Error()}
		fn := openerFunc(r)
		optDoc := "Of opts, repo.Options (repo.WithCursorKey) configure the repository; the others\nare ignored."
		if pooled {
			optDoc = fmt.Sprintf("The options of the target's backend\n(postgres.Option, ...) go to its constructor, New%s<Backend>Repository;\nrepo.Options (repo.WithCursorKey) configure the repository on every backend; the\nothers are ignored.", r.GoName())
		}
		f.Add(docComment(fmt.Sprintf("%s opens the %s repository on the backend a URL names, one\nthis package was generated with:\n\n%s\n\n"+
			"(runtime/open documents every form and parameter). %s m is not used for mem://.", fn, r.GoName(), formList, optDoc)))
		f.Func().Id(fn).Params(ctxParams(jen.Id("target").String())...).Params(ret...).Block(resolve(parse, openerTargetFunc(r))...)

		fn = openerConfigFunc(r)
		f.Add(docComment(fmt.Sprintf("%s opens the %s repository on backend (one of\n%s),"+
			" configured by its section of the configuration file at path (the seed's\ndatabases: layout,"+
			" see pool.LoadFile) with the seed's environment variables\n(POSTGRES_POOL_MAX_SIZE, ...) applied over it.",
			fn, r.GoName(), strings.Join(bnames, ", "))))
		f.Func().Id(fn).Params(ctxParams(jen.List(jen.Id("path"), jen.Id("backend")).String())...).Params(ret...).Block(resolve(fromFile, openerTargetFunc(r))...)

		fn = openerTargetFunc(r)
		f.Commentf("%s opens the %s repository on t (from open.Parse, open.FromMap,", fn, r.GoName())
		f.Commentf("open.FromFile or open.FromPoolConfig) with the constructor of t's backend; see %s.", openerFunc(r))
		// Each case sets c (and err); open.Configure applies the repo.Options to c.
		var cases []jen.Code
		for _, b := range backends {
			ctor := jen.Id(b.constructor(r))
			if !b.pooled {
				cases = append(cases, jen.Case(jen.Qual(pkgOpen, b.title)).Block(jen.Id("c").Op("=").Add(ctor.Call())))
				continue
			}
			cases = append(cases, jen.Case(jen.Qual(pkgOpen, b.title)).Block(jen.List(jen.Id("c"), jen.Err()).Op("=").Add(ctor.Call(
				jen.Id("ctx"), jen.Id("m"), jen.Id("t").Dot("Config"),
				jen.Qual(pkgOpen, "OptionsFor").Types(jen.Qual(b.pkg, "Option")).Call(jen.Id("opts")).Op("..."),
			))))
		}
		cases = append(cases, jen.Default().Block(
			jen.Return(jen.Nil(), jen.Qual(pkgOpen, "NotGenerated").Call(append([]jen.Code{jen.Id("t"), jen.Lit(m.Package)}, lits...)...))))
		body := []jen.Code{jen.Var().Id("c").Add(coll.Clone())}
		cerr := jen.Nil() // only the constructors of pooled backends fail
		if pooled {
			body = []jen.Code{jen.If(jen.Err().Op(":=").Id("t").Dot("CheckManager").Call(jen.Id("m")), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Nil(), jen.Err())), body[0], jen.Var().Err().Error()}
			cerr = jen.Err()
		}
		f.Func().Id(fn).Params(ctxParams(jen.Id("t").Qual(pkgOpen, "Target"))...).Params(ret...).Block(append(body,
			jen.Switch(jen.Id("t").Dot("Backend")).Block(cases...),
			jen.Return(jen.Qual(pkgOpen, "Configure").Call(jen.Id("c"), cerr, jen.Id("opts"))),
		)...)
	}

	var fields, opens, closes []jen.Code
	for _, r := range m.Records {
		fields = append(fields, jen.Id(r.GoName()).Op("*").Qual(pkgRepo, "Collection").Types(jen.Id(r.GoName())))
		opens = append(opens, jen.If(
			jen.List(jen.Id("r").Dot(r.GoName()), jen.Err()).Op("=").Id(openerTargetFunc(r)).Call(jen.Id("ctx"), jen.Id("m"), jen.Id("t"), jen.Id("opts").Op("...")),
			jen.Err().Op("!=").Nil(),
		).Block(jen.Return(jen.Nil(), jen.Qual(pkgErrors, "Join").Call(jen.Err(), jen.Id("r").Dot("Close").Call()))))
		closes = append(closes, jen.If(jen.Id("r").Dot(r.GoName()).Op("!=").Nil()).Block(
			jen.Id("errs").Op("=").Append(jen.Id("errs"), jen.Id("r").Dot(r.GoName()).Dot("Close").Call())))
	}
	rs := jen.Op("*").Id(repositoriesType)
	f.Commentf("%s holds a repository of every record of package %s, all on one target:", repositoriesType, m.Package)
	f.Commentf("%s, %s and %s open them, Close closes them. A program that adds", openFunc, openConfigFunc, openTargetFunc)
	f.Comment("a record gets its repository here without changing how it opens them.")
	f.Type().Id(repositoriesType).Struct(fields...)

	f.Commentf("%s opens the repository of every record on the target a URL names (see %s).", openFunc, openerFunc(m.Records[0]))
	f.Comment("The options go to every repository of the target's backend.")
	f.Func().Id(openFunc).Params(ctxParams(jen.Id("target").String())...).Params(rs, jen.Error()).Block(resolve(parse.Clone(), openTargetFunc)...)

	f.Commentf("%s opens the repository of every record on one backend of the configuration", openConfigFunc)
	f.Commentf("file at path, with the seed's environment variables applied (see %s).", openerConfigFunc(m.Records[0]))
	f.Func().Id(openConfigFunc).Params(ctxParams(jen.List(jen.Id("path"), jen.Id("backend")).String())...).Params(rs, jen.Error()).Block(resolve(fromFile.Clone(), openTargetFunc)...)

	f.Commentf("%s opens the repository of every record on t. When one fails, those it opened", openTargetFunc)
	f.Comment("are closed and the error is returned.")
	f.Func().Id(openTargetFunc).Params(ctxParams(jen.Id("t").Qual(pkgOpen, "Target"))...).Params(rs, jen.Error()).Block(
		append(append([]jen.Code{
			jen.Id("r").Op(":=").Op("&").Id(repositoriesType).Values(),
			jen.Var().Err().Error(),
		}, opens...), jen.Return(jen.Id("r"), jen.Nil()))...,
	)

	f.Comment("Close closes every repository of r that is open and returns their errors, joined.")
	f.Func().Params(jen.Id("r").Add(rs)).Id("Close").Params().Error().Block(
		append(append([]jen.Code{jen.Var().Id("errs").Index().Error()}, closes...),
			jen.Return(jen.Qual(pkgErrors, "Join").Call(jen.Id("errs").Op("..."))))...,
	)
	return renderGo(openFile, f)
}
