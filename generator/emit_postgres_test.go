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

// The migration file is a generated file like the Go ones: written with the others or not
// at all, left alone when unchanged, removed when the backend is dropped, and never written
// over a hand-written file of the same name.
func TestPostgresSchemaFile(t *testing.T) {
	dir := t.TempDir()
	cfg := idsConfig(dir)
	cfg.Backends = []Backend{BackendMemory, BackendPostgres}
	writeFile(t, filepath.Join(dir, "mine.sql"), "-- hand-written\n")
	if err := Generate(cfg); err != nil {
		t.Fatal(err)
	}
	got := names(t, dir)
	for _, want := range []string{"postgres.go", "postgres_schema.sql", "mine.sql"} {
		if !slices.Contains(got, want) {
			t.Errorf("%s not in %v", want, got)
		}
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
	if slices.Contains(got, "postgres.go") || slices.Contains(got, "postgres_schema.sql") || !slices.Contains(got, "mine.sql") {
		t.Errorf("after dropping postgres: %v", got)
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
