package generator

import "github.com/dave/jennifer/jen"

// emitMemory builds memory.go: one in-memory repository constructor per record.
func emitMemory(m *Model) *jen.File {
	f := newFile(m)
	for _, r := range m.Records {
		f.Commentf("%s returns an in-memory %s, safe for concurrent use.", r.MemoryConstructor(), r.RepositoryType())
		f.Func().Id(r.MemoryConstructor()).Params().Op("*").Qual(pkgRepo, "Collection").Types(jen.Id(r.GoName())).Block(
			jen.Return(jen.Qual(pkgRepo, "New").Call(jen.Id(r.SchemaVar()), jen.Qual(pkgMemory, "New").Call(jen.Id(r.SchemaVar())))),
		)
	}
	return f
}
