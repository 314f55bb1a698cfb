package generator

import (
	"bytes"
	"fmt"
	"go/format"
	"strings"
	"text/template"

	"github.com/dave/jennifer/jen"

	"github.com/repokit/repokit/generator/templates"
	"github.com/repokit/repokit/runtime/dialect/esdialect"
)

// Names and import paths of the Elasticsearch outputs.
const (
	elasticsearchFile         = "elasticsearch.go"
	elasticsearchMappingsFile = "elasticsearch_mappings.go"
	pkgElasticsearch          = "github.com/repokit/repokit/runtime/backends/elasticsearch"
)

// elasticsearchMappingConst is the exported constant holding r's index mapping.
func elasticsearchMappingConst(r *Record) string { return r.GoName() + "ElasticsearchMapping" }

// elasticsearchMapping renders r's mapping with esdialect.MappingFor, the code the
// Elasticsearch backend checks it with at run time, so the two cannot disagree.
func elasticsearchMapping(r *Record) []byte {
	var fields []esdialect.FieldSpec
	for _, f := range r.All() {
		fields = append(fields, esdialect.FieldSpec{JSON: f.Name(), Kind: queryKind(f.Type()), Search: f.Search()})
	}
	return esdialect.MappingFor(fields)
}

// emitElasticsearch builds elasticsearch.go (one constructor per record) and
// elasticsearch_mappings.go (the mapping constants, rendered from templates/elasticsearch:
// JSON has no comments, so the mappings are Go raw-string constants in a file that carries
// the generated-code header).
func emitElasticsearch(m *Model, b *backendDef) ([]File, error) {
	type rec struct {
		Record, Const, Index, Mapping string
	}
	var recs []rec
	f := newFile(m)
	f.ImportName(pkgElasticsearch, "elasticsearch")
	f.ImportName(pkgPool, "pool")
	for _, r := range m.Records {
		mc := elasticsearchMappingConst(r)
		mapping := string(elasticsearchMapping(r))
		if strings.Contains(mapping, "`") {
			return nil, fmt.Errorf("generator: the Elasticsearch mapping of %s contains a backquote", r.Name())
		}
		recs = append(recs, rec{Record: r.GoName(), Const: mc, Index: r.Schema().Index, Mapping: mapping})
		ctor := b.constructor(r)
		f.Commentf("%s returns the %s records stored in Elasticsearch index %q", ctor, r.GoName(), r.Schema().Index)
		f.Comment("(elasticsearch.WithIndex changes it), on the client m holds for cfg (a")
		f.Comment("pool.ElasticsearchPoolConfig or a *pool.Prepared made from one): repositories on one")
		f.Commentf("config share one client. It creates the index with %s when it is missing and fails", mc)
		f.Comment("with an *elasticsearch.DriftError when the live mapping differs (elasticsearch.WithoutEnsureIndex")
		f.Comment("skips both). Writes wait for a refresh by default (elasticsearch.WithRefresh).")
		f.Func().Id(ctor).Params(
			jen.Id("ctx").Qual(pkgContext, "Context"),
			jen.Id("m").Op("*").Qual(pkgPool, "Manager"),
			jen.Id("cfg").Qual(pkgPool, "Config"),
			jen.Id("opts").Op("...").Qual(pkgElasticsearch, "Option"),
		).Params(jen.Op("*").Qual(pkgRepo, "Collection").Types(jen.Id(r.GoName())), jen.Error()).Block(
			jen.Return(jen.Qual(pkgElasticsearch, "NewRepository").Call(
				jen.Id("ctx"), jen.Id("m"), jen.Id("cfg"), jen.Id(r.SchemaVar()),
				ctorOptions(m, b, jen.Qual(pkgElasticsearch, "WithMapping").Call(jen.Index().Byte().Parens(jen.Id(mc)))),
			)),
		)
	}
	tmpl, err := template.ParseFS(templates.FS, "elasticsearch/mappings.go.tmpl")
	if err != nil {
		return nil, fmt.Errorf("generator: elasticsearch template: %w", err)
	}
	var buf bytes.Buffer
	err = tmpl.Execute(&buf, map[string]any{
		"Header": Header, "Package": m.Package, "Sources": strings.Join(m.Sources, ", "), "Records": recs,
	})
	if err != nil {
		return nil, fmt.Errorf("generator: rendering %s: %w", elasticsearchMappingsFile, err)
	}
	src, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("generator: formatting %s: %w", elasticsearchMappingsFile, err)
	}
	gf, err := renderGo(elasticsearchFile, f)
	if err != nil {
		return nil, err
	}
	return []File{gf, {Name: elasticsearchMappingsFile, Data: src}}, nil
}
