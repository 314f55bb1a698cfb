package open_test

import (
	"os/exec"
	"strings"
	"testing"
)

// Package open links no backend and no driver: a program (or a tool such as a migration
// command) can parse targets without pgx, go-elasticsearch or the AWS SDK.
func TestLinksNoDriver(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list; skipped with -short")
	}
	out, err := exec.Command("go", "list", "-deps", "-test=false", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list printed %d dependencies", len(deps))
	}
	for _, dep := range deps {
		for _, bad := range []string{"github.com/jackc", "github.com/elastic", "github.com/aws", "github.com/repokit/repokit/runtime/backends"} {
			if dep == bad || strings.HasPrefix(dep, bad+"/") {
				t.Errorf("runtime/open depends on %s", dep)
			}
		}
	}
}
