package generator

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// benchFieldMix is the field list every benchmark record gets (the id comes on top): every
// type, optional and required, lists, enums and defaults.
var benchFieldMix = []string{
	"{name: name, type: string, required: true, indexed: true}",
	"{name: slug, type: string, required: true, unique: true}",
	"{name: description, type: text}",
	"{name: owner_id, type: uuid}",
	"{name: status, type: enum, values: [draft, active, archived], default: draft}",
	"{name: quantity, type: int, required: true}",
	"{name: position, type: int, default: 0}",
	"{name: price, type: float, required: true}",
	"{name: discount, type: float}",
	"{name: visible, type: bool, default: true}",
	"{name: created_at, type: time, required: true}",
	"{name: updated_at, type: time}",
	"{name: tags, type: list<string>}",
	"{name: scores, type: list<int>}",
	"{name: flags, type: list<enum>, values: [new, sale, hot]}",
	"{name: thumbnail, type: bytes}",
	"{name: attributes, type: json}",
}

// writeBenchSchemas writes n records, ten per file, and returns the file paths.
func writeBenchSchemas(b *testing.B, dir string, n int) []string {
	var paths []string
	for f := 0; f*10 < n; f++ {
		var sb strings.Builder
		sb.WriteString("version: 1\nrecords:\n")
		for r := f * 10; r < min(n, (f+1)*10); r++ {
			fmt.Fprintf(&sb, "  - name: Record%03d\n    doc: Benchmark record %d.\n", r, r)
			if r%2 == 0 {
				sb.WriteString("    id: {name: id, type: uuid, generated: true}\n")
			} else {
				sb.WriteString("    id: {name: code, type: string}\n")
			}
			sb.WriteString("    fields:\n")
			for _, fld := range benchFieldMix {
				fmt.Fprintf(&sb, "      - %s\n", fld)
			}
		}
		path := filepath.Join(dir, fmt.Sprintf("schema%02d.yaml", f))
		writeFile(b, path, sb.String())
		paths = append(paths, path)
	}
	return paths
}

// BenchmarkGenerate100 runs the whole pipeline (load, validate, model, emit, gofmt, write)
// for 100 records in 10 schema files with the memory backend, into a new output directory
// each time.
func BenchmarkGenerate100(b *testing.B) {
	dir := b.TempDir()
	paths := writeBenchSchemas(b, dir, 100)
	cfg := Config{Paths: paths, Package: "bench", Backends: []Backend{BackendMemory}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		cfg.OutDir = filepath.Join(dir, fmt.Sprintf("out%d", i))
		i++
		if err := Generate(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRegenerate100 is BenchmarkGenerate100 into an up-to-date output directory, the
// common go generate case: every file is compared and none is rewritten.
func BenchmarkRegenerate100(b *testing.B) {
	dir := b.TempDir()
	paths := writeBenchSchemas(b, dir, 100)
	cfg := Config{Paths: paths, OutDir: filepath.Join(dir, "out"), Package: "bench", Backends: []Backend{BackendMemory}}
	if err := Generate(cfg); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Generate(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
