package generator

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"
)

// Import paths of the runtime packages generated code uses.
const (
	pkgQuery  = "github.com/repokit/repokit/runtime/query"
	pkgRecord = "github.com/repokit/repokit/runtime/record"
	pkgRepo   = "github.com/repokit/repokit/runtime/repo"
	pkgMemory = "github.com/repokit/repokit/runtime/backends/memory"
	pkgTime   = "time"
	pkgJSON   = "encoding/json"
	pkgBytes  = "bytes"
	pkgSlices = "slices"
	pkgErrors = "errors"
)

// Names of the package-wide generated files.
const (
	packageFile = "repokit.go"
	memoryFile  = "memory.go"
)

// File is one generated file: a name inside the output directory and its content.
type File struct {
	Name string
	Data []byte
}

// emit is the fourth stage: it builds every output file, sorted by name.
func emit(m *Model) ([]File, error) {
	var out []File
	add := func(name string, jf *jen.File) error {
		var buf bytes.Buffer
		if err := jf.Render(&buf); err != nil {
			return fmt.Errorf("generator: rendering %s: %w", name, err)
		}
		out = append(out, File{Name: name, Data: buf.Bytes()})
		return nil
	}
	if err := add(packageFile, emitPackage(m)); err != nil {
		return nil, err
	}
	for _, r := range m.Records {
		if err := add(r.FileName(), emitRecord(m, r)); err != nil {
			return nil, err
		}
	}
	if m.has(BackendMemory) {
		if err := add(memoryFile, emitMemory(m)); err != nil {
			return nil, err
		}
	}
	if m.has(BackendPostgres) {
		jf, sql, err := emitPostgres(m)
		if err != nil {
			return nil, err
		}
		if err := add(postgresFile, jf); err != nil {
			return nil, err
		}
		out = append(out, sql, postgresQueries(m))
	}
	if m.has(BackendS3) {
		if err := add(s3File, emitS3(m)); err != nil {
			return nil, err
		}
	}
	if m.has(BackendElasticsearch) {
		jf, mappings, err := emitElasticsearch(m)
		if err != nil {
			return nil, err
		}
		if err := add(elasticsearchFile, jf); err != nil {
			return nil, err
		}
		out = append(out, mappings)
	}
	sortFiles(out)
	return out, nil
}

// newFile returns a jennifer file with the generated-code header and fixed import names
// (so that no import is renamed).
func newFile(m *Model) *jen.File {
	f := jen.NewFile(m.Package)
	f.NoFormat = true // the gofmt stage formats every file once
	f.HeaderComment(Header)
	f.ImportNames(map[string]string{
		pkgQuery:  "query",
		pkgRecord: "record",
		pkgRepo:   "repo",
		pkgMemory: "memory",
	})
	return f
}

// docComment renders text as // comment lines (jennifer would use /* */ for several lines).
func docComment(text string) jen.Code { return jen.Comment(commentText(text)) }

// commentText returns text as // comment lines.
func commentText(text string) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for i, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			lines[i] = "//"
		} else {
			lines[i] = "// " + l
		}
	}
	return strings.Join(lines, "\n")
}

// multi renders items as a multi-line brace list with trailing commas.
func multi(items ...jen.Code) *jen.Statement {
	return jen.Custom(jen.Options{Open: "{", Close: "}", Separator: ",", Multi: true}, items...)
}

// kv renders "key: value" for a composite literal.
func kv(key string, value jen.Code) jen.Code { return jen.Id(key).Op(":").Add(value) }
