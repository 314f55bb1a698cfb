package generator

import "github.com/dave/jennifer/jen"

// Names and import paths of the S3 output.
const (
	s3File = "s3.go"
	pkgS3  = "github.com/repokit/repokit/runtime/backends/s3"
)

// emitS3 builds s3.go: one S3 repository constructor per record. Records are stored as
// JSON objects with the record type's struct tags, so no per-record codec is generated.
func emitS3(m *Model, b *backendDef) ([]File, error) {
	f := newFile(m)
	f.ImportName(pkgS3, "s3")
	f.ImportName("github.com/repokit/repokit/runtime/pool", "pool")
	for _, r := range m.Records {
		ctor := b.constructor(r)
		f.Commentf("%s returns the %s records stored in S3, one JSON object each,", ctor, r.GoName())
		f.Commentf("under the key prefix %q (after cfg's prefix, if any), on the client m holds for cfg (a", r.Schema().Prefix+"/")
		f.Comment("pool.S3PoolConfig or a *pool.Prepared made from one): repositories on one config share one")
		f.Comment("client and its connections. Options: s3.WithConcurrency, s3.WithCache, s3.WithPrefix.")
		f.Func().Id(ctor).Params(
			jen.Id("ctx").Qual("context", "Context"),
			jen.Id("m").Op("*").Qual("github.com/repokit/repokit/runtime/pool", "Manager"),
			jen.Id("cfg").Qual("github.com/repokit/repokit/runtime/pool", "Config"),
			jen.Id("opts").Op("...").Qual(pkgS3, "Option"),
		).Params(jen.Op("*").Qual(pkgRepo, "Collection").Types(jen.Id(r.GoName())), jen.Error()).Block(
			jen.List(jen.Id("d"), jen.Err()).Op(":=").Qual(pkgS3, "New").Call(
				jen.Id("ctx"), jen.Id("m"), jen.Id("cfg"), jen.Id(r.SchemaVar()), ctorOptions(m, b),
			),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
			jen.Return(jen.Qual(pkgRepo, "New").Call(jen.Id(r.SchemaVar()), jen.Id("d")), jen.Nil()),
		)
	}
	gf, err := renderGo(s3File, f)
	return []File{gf}, err
}
