package generator

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/repokit/repokit/schema"
)

// The migration and query files are generated files like the Go ones: written with the
// others or not at all, left alone when unchanged, removed when the backend is dropped (with
// the package sqlc generated), and never written over a hand-written file of the same name.
func TestPostgresSchemaFile(t *testing.T) {
	needSQLC(t)
	dir := t.TempDir()
	cfg := idsConfig(dir)
	cfg.Backends = []Backend{BackendMemory, BackendPostgres}
	cfg.ImportPath = "example.com/ids"
	writeFile(t, filepath.Join(dir, "mine.sql"), "-- hand-written\n")
	if err := Generate(cfg); err != nil {
		t.Fatal(err)
	}
	got := names(t, dir)
	for _, want := range []string{"postgres.go", "postgres_schema.sql", "postgres_queries.sql", "mine.sql"} {
		if !slices.Contains(got, want) {
			t.Errorf("%s not in %v", want, got)
		}
	}
	if got := names(t, filepath.Join(dir, "idssql")); !slices.Contains(got, "postgres_queries.sql.go") {
		t.Errorf("idssql has %v, want postgres_queries.sql.go", got)
	}
	src, err := os.ReadFile(filepath.Join(dir, "postgres.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), `"example.com/ids/idssql"`) {
		t.Errorf("postgres.go does not import the sqlc package by the configured import path")
	}
	data, err := os.ReadFile(filepath.Join(dir, "postgres_schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), SQLHeader+"\n") || !strings.Contains(string(data), `CREATE TABLE IF NOT EXISTS "book"`) {
		t.Errorf("postgres_schema.sql:\n%s", data)
	}

	// Dropping the backend removes both files and keeps the hand-written one.
	cfg.Backends = []Backend{BackendMemory}
	if err := Generate(cfg); err != nil {
		t.Fatal(err)
	}
	got = names(t, dir)
	if slices.Contains(got, "postgres.go") || slices.Contains(got, "postgres_schema.sql") || slices.Contains(got, "postgres_queries.sql") || !slices.Contains(got, "mine.sql") {
		t.Errorf("after dropping postgres: %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "idssql")); !os.IsNotExist(err) {
		t.Errorf("after dropping postgres, idssql is still there (%v)", err)
	}

	// A hand-written postgres_schema.sql stops the run before anything is written.
	writeFile(t, filepath.Join(dir, "postgres_schema.sql"), "-- mine\n")
	cfg.Backends = []Backend{BackendMemory, BackendPostgres}
	if err := Generate(cfg); !errors.Is(err, ErrWrite) {
		t.Fatalf("got %v, want ErrWrite", err)
	}
	if slices.Contains(names(t, dir), "postgres.go") {
		t.Errorf("postgres.go was written although the run failed")
	}
}

// Defaults become SQL constants of the column's type.
func TestSQLDefault(t *testing.T) {
	for _, c := range []struct {
		typ  string
		v    any
		want string
	}{
		{"string", "it's", `'it''s'`},
		{"int", int64(-3), "-3"},
		{"float", int64(2), "2"},
		{"float", 0.25, "0.25"},
		{"bool", true, "TRUE"},
		{"time", "2024-01-02T03:04:05.1234567+02:00", `'2024-01-02T01:04:05.123456Z'::timestamptz`},
		{"uuid", "0190a6c4-1b2c-7d3e-8f40-123456789abc", `'0190a6c4-1b2c-7d3e-8f40-123456789abc'::uuid`},
	} {
		got, err := sqlDefault(schema.Type(c.typ), c.v)
		if err != nil || got != c.want {
			t.Errorf("sqlDefault(%s, %v) = %q, %v; want %q", c.typ, c.v, got, err, c.want)
		}
	}
}

// The import path of the sqlc package comes from -import or from the go.mod above the output
// directory; without either the postgres backend cannot be generated.
func TestSQLCImportPath(t *testing.T) {
	mod := t.TempDir()
	writeFile(t, filepath.Join(mod, "go.mod"), "// comment\nmodule \"example.com/m\" // trailing\n\ngo 1.26\n")
	for _, c := range []struct{ dir, want string }{
		{mod, "example.com/m"},
		{filepath.Join(mod, "a", "b"), "example.com/m/a/b"}, // need not exist yet
	} {
		if got, err := moduleImportPath(c.dir); err != nil || got != c.want {
			t.Errorf("moduleImportPath(%s) = %q, %v; want %q", c.dir, got, err, c.want)
		}
	}
	cfg := Config{OutDir: filepath.Join(mod, "out"), Package: "shop"}
	if got, err := cfg.sqlcImport(); err != nil || got != "example.com/m/out/shopsql" {
		t.Errorf("sqlcImport = %q, %v", got, err)
	}
	cfg.ImportPath = "example.com/other"
	if got, err := cfg.sqlcImport(); err != nil || got != "example.com/other/shopsql" {
		t.Errorf("sqlcImport with ImportPath = %q, %v", got, err)
	}

	out := t.TempDir() // no go.mod above it
	cfg = idsConfig(out)
	cfg.Backends = []Backend{BackendPostgres}
	err := Generate(cfg)
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "-import") {
		t.Fatalf("got %v, want an ErrConfig error asking for -import", err)
	}
	if got := names(t, out); len(got) != 0 {
		t.Errorf("files written although the run failed: %v", got)
	}
}
