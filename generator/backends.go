package generator

import "strings"

// backendDef is one row of the backend table: everything the generator emits for one
// backend. The emit stage runs the rows of the selected backends and the collision check
// declares their names, so adding a backend is adding a row (see docs/generator.md).
type backendDef struct {
	name Backend
	// title is the backend's name inside Go identifiers: New<R><title>Repository.
	title string
	// files are the names of the package-wide files emit returns (Go and SQL).
	files []string
	// names returns the package-level Go names the backend emits for r, besides its
	// constructor, each with what it is ("mapping" becomes "the elasticsearch mapping of
	// record R" in a collision message).
	names func(r *Record) []emitted
	// globals are the package-level Go names the backend emits once per package.
	globals []emitted
	// emit builds the backend's files.
	emit func(m *Model, b *backendDef) ([]File, error)
	// pkg is the import path of the backend's runtime package.
	pkg string
	// migrates is set for a backend that applies migrations: its runtime package has
	// WithMigrations, NewMigrator and MigrateOption, and the package gets Migrate<title>.
	migrates bool
	// pooled is set for a backend whose constructor takes (ctx, m *pool.Manager, cfg
	// pool.Config, opts ...<pkg>.Option) and returns an error; the openers of open.go call it
	// with the target's config and the options of type <pkg>.Option (runtime/open.OptionsFor).
	// A backend without it has a constructor without arguments.
	pooled bool
	// urlForm is the form of the backend's URLs (runtime/open), for the openers' documentation.
	urlForm string
}

// emitted is a package-level Go name a backend emits, and what it is.
type emitted struct {
	ident, what string
}

// backendTable has one row per backend, in the order of KnownBackends.
var backendTable = []*backendDef{
	{
		name: BackendMemory, title: "Memory",
		files:   []string{memoryFile},
		emit:    emitMemory,
		pkg:     pkgMemory,
		urlForm: "mem://",
	},
	{
		name: BackendPostgres, title: "Postgres",
		files: []string{postgresFile, postgresSchemaFile, postgresQueriesFile},
		names: func(r *Record) []emitted {
			return []emitted{{postgresSchemaVar(r), "table script"}, {statementsType(r), "statements type"}}
		},
		globals:  []emitted{{ensurePostgresSchema, "the schema check of the postgres backend"}},
		emit:     emitPostgres,
		pkg:      pkgPostgres,
		migrates: true,
		pooled:   true,
		urlForm:  "postgres://USER:PASSWORD@HOST:PORT/DB",
	},
	{
		name: BackendElasticsearch, title: "Elasticsearch",
		files:    []string{elasticsearchFile, elasticsearchMappingsFile},
		names:    func(r *Record) []emitted { return []emitted{{elasticsearchMappingConst(r), "mapping"}} },
		emit:     emitElasticsearch,
		pkg:      pkgElasticsearch,
		migrates: true,
		pooled:   true,
		urlForm:  "elasticsearch://HOST:PORT",
	},
	{
		name: BackendS3, title: "S3",
		files:    []string{s3File},
		emit:     emitS3,
		pkg:      pkgS3,
		migrates: true,
		pooled:   true,
		urlForm:  "s3://BUCKET/PREFIX?endpoint=URL&region=NAME&path_style=true",
	},
}

// constructor returns the name of r's repository constructor on the backend.
func (b *backendDef) constructor(r *Record) string {
	return "New" + r.GoName() + b.title + "Repository"
}

// recordNames returns every package-level Go name the backend emits for r: its
// constructor, then names(r).
func (b *backendDef) recordNames(r *Record) []emitted {
	out := []emitted{{b.constructor(r), "constructor"}}
	if b.names != nil {
		out = append(out, b.names(r)...)
	}
	return out
}

// backendDefs returns the rows of the selected backends, in table order.
func (m *Model) backendDefs() []*backendDef {
	var out []*backendDef
	for _, b := range backendTable {
		if m.has(b.name) {
			out = append(out, b)
		}
	}
	return out
}

// reservedFile reports whether snake.go is the name of a package-wide Go file of some
// backend (selected or not, so that a record's file name does not depend on the backends)
// or of the package: a record with that name gets snake_record.go.
func reservedFile(snake string) bool {
	if snake+".go" == packageFile || snake+".go" == migrationsFile || snake+".go" == openFile || snake == "doc" {
		return true
	}
	for _, b := range backendTable {
		for _, f := range b.files {
			if strings.TrimSuffix(f, ".go") == snake {
				return true
			}
		}
	}
	return false
}
