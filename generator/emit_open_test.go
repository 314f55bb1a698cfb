package generator

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The openers' names (open.go) are declared to the collision check whenever a backend is
// generated: a record whose names clash with them is a *CollisionError with both positions,
// and the same schema generates without backends (no open.go).
func TestCollisionsOpeners(t *testing.T) {
	tests := []struct {
		records []string // the last one's names clash
		ident   string
		other   string // what the clash is with
	}{
		{[]string{"Open"}, "Open", "the opener of the package's repositories"},
		{[]string{"Repositories"}, "Repositories", "the type of the package's repositories"},
		{[]string{"Close"}, "Close", "the Close method of Repositories"},
		{[]string{"ThingMemory", "Thing"}, "NewThingMemoryRepository", "record ThingMemory"},
	}
	for _, tt := range tests {
		t.Run(tt.ident, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("version: 1\nrecords:\n")
			for _, r := range tt.records {
				b.WriteString("  - name: " + r + "\n    fields:\n      - {name: x, type: string}\n")
			}
			path := filepath.Join(t.TempDir(), "s.yaml")
			if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := Config{Paths: []string{path}, OutDir: "unused", Package: "x"}
			if _, err := Render(cfg); err != nil {
				t.Fatalf("without backends: %v", err)
			}
			cfg.Backends = []Backend{BackendMemory}
			_, err := Render(cfg)
			var ce *CollisionError
			if !errors.As(err, &ce) {
				t.Fatalf("-backends=memory: got %v, want a *CollisionError", err)
			}
			if ce.Ident != tt.ident || !strings.Contains(ce.Other, tt.other) {
				t.Errorf("-backends=memory: %v, want a clash of %s with %s", err, tt.ident, tt.other)
			}
		})
	}
}

// A record named Open gets the file open_record.go: open.go is the openers' file.
func TestOpenFileName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(path, []byte("version: 1\nrecords:\n  - name: Open\n    fields:\n      - {name: x, type: string}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := Render(Config{Paths: []string{path}, OutDir: "unused", Package: "x"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	if strings.Join(names, " ") != "open_record.go repokit.go" {
		t.Errorf("files = %v, want open_record.go and repokit.go", names)
	}
}
