package generator

import "github.com/dave/jennifer/jen"

// memoryFile is the Go file of the memory backend.
const memoryFile = "memory.go"

// emitMemory builds memory.go: one in-memory repository constructor per record.
func emitMemory(m *Model, b *backendDef) ([]File, error) {
	f := newFile(m)
	for _, r := range m.Records {
		ctor := b.constructor(r)
		f.Commentf("%s returns an in-memory %s, safe for concurrent use.", ctor, r.RepositoryType())
		f.Func().Id(ctor).Params().Op("*").Qual(pkgRepo, "Collection").Types(jen.Id(r.GoName())).Block(
			jen.Return(jen.Qual(pkgRepo, "New").Call(jen.Id(r.SchemaVar()), jen.Qual(pkgMemory, "New").Call(jen.Id(r.SchemaVar())))),
		)
	}
	gf, err := renderGo(memoryFile, f)
	return []File{gf}, err
}
