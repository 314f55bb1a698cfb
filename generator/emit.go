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

// packageFile is the generated file holding the package documentation.
const packageFile = "repokit.go"

// File is one generated file: a name inside the output directory and its content.
type File struct {
	Name string
	Data []byte
}

// emit is the fourth stage: it builds every output file, sorted by name: the package file,
// a file per record, and the files of every selected backend (its row's emit).
func emit(m *Model) ([]File, error) {
	pkg, err := renderGo(packageFile, emitPackage(m))
	if err != nil {
		return nil, err
	}
	out := []File{pkg}
	for _, r := range m.Records {
		f, err := renderGo(r.FileName(), emitRecord(m, r))
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	for _, b := range m.backendDefs() {
		files, err := b.emit(m, b)
		if err != nil {
			return nil, err
		}
		out = append(out, files...)
	}
	if len(m.backendDefs()) > 0 {
		f, err := emitOpen(m)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if m.History != nil {
		f, err := renderGo(migrationsFile, emitMigrations(m))
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	sortFiles(out)
	return out, nil
}

// renderGo renders a jennifer file as the generated file name (unformatted: the gofmt
// stage formats every Go file once).
func renderGo(name string, jf *jen.File) (File, error) {
	var buf bytes.Buffer
	if err := jf.Render(&buf); err != nil {
		return File{}, fmt.Errorf("generator: rendering %s: %w", name, err)
	}
	return File{Name: name, Data: buf.Bytes()}, nil
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
