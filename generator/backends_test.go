package generator

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// renderAll renders the schema files of golden case name with every backend and returns
// the model and the files.
func renderAll(t *testing.T, name string) (*Model, []File) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", name, "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("schema files of %s: %v", name, err)
	}
	slices.Sort(paths)
	m, files, err := render(Config{Paths: paths, OutDir: t.TempDir(), Package: name, Backends: KnownBackends, ImportPath: "example.com/" + name})
	if err != nil {
		t.Fatal(err)
	}
	return m, files
}

// topLevel returns the package-level names a Go file declares (not methods).
func topLevel(t *testing.T, f File) []string {
	t.Helper()
	af, err := parser.ParseFile(token.NewFileSet(), f.Name, f.Data, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("%s: %v", f.Name, err)
	}
	var out []string
	for _, d := range af.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				out = append(out, d.Name.Name)
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					out = append(out, s.Name.Name)
				case *ast.ValueSpec:
					for _, n := range s.Names {
						out = append(out, n.Name)
					}
				}
			}
		}
	}
	return out
}

// The backend table tells the truth: each row's emit returns exactly the row's files, and
// its Go files declare exactly the row's constructor, names and globals; and the collision
// check declares every package-level name of every generated file, so no emitted name can
// clash unnoticed.
func TestBackendTable(t *testing.T) {
	for _, name := range []string{"shop", "enums", "reserved", "ids", "defaults"} {
		t.Run(name, func(t *testing.T) {
			m, files := renderAll(t, name)
			byName := map[string]File{}
			for _, f := range files {
				byName[f.Name] = f
			}
			for _, b := range backendTable {
				got, err := b.emit(m, b)
				if err != nil {
					t.Fatal(err)
				}
				var gotFiles []string
				for _, f := range got {
					gotFiles = append(gotFiles, f.Name)
				}
				if !slices.Equal(slices.Sorted(slices.Values(gotFiles)), slices.Sorted(slices.Values(b.files))) {
					t.Errorf("%s: emit returns %v, the table says %v", b.name, gotFiles, b.files)
				}
				var declared, want []string
				for _, f := range b.files {
					if strings.HasSuffix(f, ".go") {
						declared = append(declared, topLevel(t, byName[f])...)
					}
				}
				for _, g := range b.globals {
					want = append(want, g.ident)
				}
				for _, r := range m.Records {
					for _, n := range b.recordNames(r) {
						want = append(want, n.ident)
					}
				}
				slices.Sort(declared)
				slices.Sort(want)
				if !slices.Equal(declared, want) {
					t.Errorf("%s: its files declare %v, the table says %v", b.name, declared, want)
				}
			}

			var errs []error
			pkg, fileScope := newScope("Go identifier", &errs), newScope("file name", &errs)
			m.declare(pkg, fileScope)
			if len(errs) > 0 {
				t.Fatal(errors.Join(errs...))
			}
			for _, f := range files {
				if _, ok := fileScope.names[f.Name]; !ok {
					t.Errorf("file %s is not declared to the collision check", f.Name)
				}
				if !strings.HasSuffix(f.Name, ".go") {
					continue
				}
				for _, n := range topLevel(t, f) {
					if _, ok := pkg.names[n]; !ok {
						t.Errorf("%s declares %s, which the collision check does not know", f.Name, n)
					}
				}
			}
		})
	}
}

// Each backend's names clash only when the backend is selected: the same schema is a
// *CollisionError naming both records with that backend and generates without it.
func TestCollisionsPerBackend(t *testing.T) {
	tests := []struct {
		backend       Backend
		first, second string // records; the second's names clash with the first's
		ident         string
	}{
		{BackendElasticsearch, "Thing", "ThingElasticsearchMapping", "ThingElasticsearchMapping"},
		{BackendMemory, "Thing", "NewThingMemory", "NewThingMemoryRepository"},
		{BackendS3, "Thing", "NewThingS3", "NewThingS3Repository"},
		{BackendPostgres, "Thing", "NewThingPostgres", "NewThingPostgresRepository"},
		{BackendPostgres, "CloneA", "APostgresSchema", "cloneAPostgresSchema"},
		{BackendPostgres, "CloneB", "BPostgresStatements", "cloneBPostgresStatements"},
		{BackendPostgres, "AddrC", "CPostgresSchema", "addrCPostgresSchema"},
		{BackendPostgres, "", "EnsurePostgres", "EnsurePostgresSchema"},
	}
	for _, tt := range tests {
		t.Run(tt.ident, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("version: 1\nrecords:\n")
			for _, r := range []string{tt.first, tt.second} {
				if r != "" {
					b.WriteString("  - name: " + r + "\n    fields:\n      - {name: x, type: string}\n")
				}
			}
			path := filepath.Join(t.TempDir(), "s.yaml")
			if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, bk := range KnownBackends {
				_, err := Render(Config{Paths: []string{path}, OutDir: "unused", Package: "x", Backends: []Backend{bk}, ImportPath: "example.com/x"})
				if bk != tt.backend {
					if err != nil {
						t.Errorf("-backends=%s: %v", bk, err)
					}
					continue
				}
				var ce *CollisionError
				if !errors.As(err, &ce) {
					t.Fatalf("-backends=%s: got %v, want a *CollisionError", bk, err)
				}
				if ce.Ident != tt.ident || !strings.Contains(ce.What, "record "+tt.second) || ce.Pos.Line == 0 {
					t.Errorf("-backends=%s: %+v, want %s of record %s", bk, ce, tt.ident, tt.second)
				}
				if tt.first == "" {
					if ce.OtherPos.Line != 0 || !strings.Contains(ce.Other, string(tt.backend)) {
						t.Errorf("-backends=%s: %+v, want a clash with a name of the %s backend", bk, ce, tt.backend)
					}
				} else if !strings.Contains(ce.Other, "record "+tt.first) || ce.OtherPos.Line == 0 || ce.OtherPos.Line >= ce.Pos.Line {
					t.Errorf("-backends=%s: %+v, want a clash with record %s", bk, ce, tt.first)
				}
			}
		})
	}
}
