package generator

import (
	"os/exec"
	"strings"
	"testing"
)

// The runtime and generated code must not link the generator's dependencies.
func TestRuntimeDoesNotImportGenerator(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list; skipped with -short")
	}
	cmd := exec.Command("go", "list", "-deps", "-test=false", "./runtime/...")
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for dep := range strings.Lines(string(out)) {
		dep = strings.TrimSpace(dep)
		for _, bad := range []string{ModulePath + "/generator", ModulePath + "/templates", "github.com/dave/jennifer"} {
			if dep == bad || strings.HasPrefix(dep, bad+"/") {
				t.Errorf("a package under runtime/ depends on %s", dep)
			}
		}
	}
}
