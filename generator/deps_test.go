package generator

import (
	"os/exec"
	"strings"
	"testing"
)

// goList runs go list with args in the repository root and returns its output lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs go list; skipped with -short")
	}
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	var lines []string
	for l := range strings.Lines(string(out)) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// under reports whether package path is pkg or inside it.
func under(path, pkg string) bool { return path == pkg || strings.HasPrefix(path, pkg+"/") }

// The runtime and generated code must not link the generator's dependencies.
func TestRuntimeDoesNotImportGenerator(t *testing.T) {
	for _, dep := range goList(t, "-deps", "-test=false", "./runtime/...") {
		for _, bad := range []string{ModulePath + "/generator", "github.com/dave/jennifer"} {
			if under(dep, bad) {
				t.Errorf("a package under runtime/ depends on %s", dep)
			}
		}
	}
}

// The generator must not link a backend or a driver: it renders SQL and mappings with the
// driver-free packages under runtime/dialect, so building it does not build pgx,
// go-elasticsearch or the AWS SDK.
func TestGeneratorLinksNoDriver(t *testing.T) {
	deps := goList(t, "-deps", "-test=false", "./generator/cmd/repokit")
	if len(deps) == 0 {
		t.Fatal("go list printed no dependencies")
	}
	for _, dep := range deps {
		for _, bad := range []string{"github.com/jackc", "github.com/elastic", "github.com/aws", ModulePath + "/runtime/backends"} {
			if under(dep, bad) {
				t.Errorf("the generator depends on %s", dep)
			}
		}
	}
}

// The dialect packages import the standard library, runtime/query, runtime/record,
// runtime/migrate (driver-free: the migration state they render) and runtime/textsearch
// (the full-text analysis: text only) only.
func TestDialectImports(t *testing.T) {
	lines := goList(t, "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./runtime/dialect/...")
	if len(lines) < 2 {
		t.Fatalf("go list found %d dialect packages, want pgdialect and esdialect", len(lines))
	}
	for _, line := range lines {
		pkg, imports, _ := strings.Cut(line, " ")
		for _, imp := range strings.Fields(imports) {
			std := !strings.Contains(strings.Split(imp, "/")[0], ".")
			if !std && imp != ModulePath+"/runtime/query" && imp != ModulePath+"/runtime/record" && imp != ModulePath+"/runtime/migrate" && imp != ModulePath+"/runtime/textsearch" {
				t.Errorf("%s imports %s", pkg, imp)
			}
		}
	}
}
