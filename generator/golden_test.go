package generator

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the expected files of the golden tests in testdata/*/expected")

// A golden case is a directory testdata/<case>/ holding:
//
//	*.yaml     the schema files, passed in name order
//	args       optional: arguments of repokit generate, separated by white space; lines
//	           starting with # are comments (default: -package <case>)
//	expected/  the expected output files; when the run fails, error.txt holds the exit status
//	           and the exact stderr instead
//	main.go    optional: a program using the generated package (imported as gentest/<case>)
//	           that the compile-and-run test builds, vets and runs
//
// Run `go test ./generator -run TestGolden -update` to rewrite expected/ after a deliberate
// change, and review the diff.
func goldenCases(t testing.TB) []string {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var cases []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "migrate" { // testdata/migrate holds the cases of TestMigrateGolden
			cases = append(cases, e.Name())
		}
	}
	return cases
}

// caseArgs returns the repokit generate arguments of a case, without -out.
func caseArgs(t testing.TB, name string) []string {
	dir := filepath.Join("testdata", name)
	var args []string
	data, err := os.ReadFile(filepath.Join(dir, "args"))
	switch {
	case os.IsNotExist(err):
		args = []string{"-package", name}
	case err != nil:
		t.Fatal(err)
	default:
		for line := range strings.Lines(string(data)) {
			line = strings.TrimSpace(line)
			if !strings.HasPrefix(line, "#") {
				args = append(args, strings.Fields(line)...)
			}
		}
	}
	schemas, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(schemas)
	return append(args, schemas...)
}

// runCase runs repokit generate for the case into out and returns the produced files: the
// output directory's files, or error.txt when the command failed.
func runCase(t testing.TB, name, out string) map[string]string {
	var stdout, stderr bytes.Buffer
	args := append([]string{"generate", "-out", out}, caseArgs(t, name)...)
	code := Main(args, &stdout, &stderr)
	if code != 0 {
		return map[string]string{"error.txt": fmt.Sprintf("exit status %d\n%s", code, stderr.String())}
	}
	if stdout.Len() > 0 || stderr.Len() > 0 {
		t.Errorf("successful run printed stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	return readDir(t, out)
}

// readDir returns the files in dir and in its subdirectories (the package sqlc generates),
// by slash-separated path relative to dir.
func readDir(t testing.TB, dir string) map[string]string {
	files := map[string]string{}
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return files
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestGolden(t *testing.T) {
	for _, name := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			if strings.Contains(strings.Join(caseArgs(t, name), " "), string(BackendPostgres)) {
				needSQLC(t) // the postgres backend runs sqlc
			}
			got := runCase(t, name, t.TempDir())
			expDir := filepath.Join("testdata", name, "expected")
			if *update {
				if err := os.RemoveAll(expDir); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(expDir, 0o755); err != nil {
					t.Fatal(err)
				}
				for n, data := range got {
					writeFile(t, filepath.Join(expDir, filepath.FromSlash(n)), data)
				}
				return
			}
			want := readDir(t, expDir)
			if len(want) == 0 {
				t.Fatalf("%s is empty; run go test -run TestGolden -update", expDir)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("output differs from %s (-want +got):\n%s", expDir, diff)
			}
		})
	}
}

// repoRoot returns the repository root: the nearest parent of the working directory whose
// go.mod declares ModulePath.
func repoRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module "+ModulePath+"\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod of %s above the working directory", ModulePath)
		}
		dir = parent
	}
}

// TestGoldenCompileRun builds one temporary module holding the generated package of every
// golden case (from its expected/ files, so what is compiled is what is committed) and the
// case's main.go, then runs go vet on all of it and runs each program.
func TestGoldenCompileRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs generated code with the go command; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to compile generated code: %v", err)
	}
	root := repoRoot(t)
	mod := t.TempDir()
	gomod := fmt.Sprintf("module gentest\n\ngo 1.26\n\nrequire %s v0.0.0\n\nreplace %s => %s\n\ntool %s/generator/cmd/repokit\n",
		ModulePath, ModulePath, root, ModulePath)
	writeFile(t, filepath.Join(mod, "go.mod"), gomod)
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(mod, "go.sum"), string(sum))

	var mains []string
	for _, name := range goldenCases(t) {
		exp := readDir(t, filepath.Join("testdata", name, "expected"))
		if _, failed := exp["error.txt"]; failed || len(exp) == 0 {
			continue
		}
		for n, data := range exp {
			writeFile(t, filepath.Join(mod, name, n), data)
		}
		if main, err := os.ReadFile(filepath.Join("testdata", name, "main.go")); err == nil {
			writeFile(t, filepath.Join(mod, "cmd", name, "main.go"), string(main))
			mains = append(mains, name)
		}
	}
	gocmd := func(dir string, args ...string) (string, error) {
		cmd := exec.Command(goBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	// The ids case once more, generated by go generate (paths relative to the package
	// directory) and by go tool (the tool directive above); both must match expected/.
	idsSchema, err := os.ReadFile(filepath.Join("testdata", "ids", "ids.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(mod, "viagenerate", "ids.yaml"), string(idsSchema))
	writeFile(t, filepath.Join(mod, "viagenerate", "gen.go"), "package ids\n\n"+
		"//go:generate go run "+ModulePath+"/generator/cmd/repokit generate -out . -package $GOPACKAGE ids.yaml\n")
	writeFile(t, filepath.Join(mod, "viatool", "ids.yaml"), string(idsSchema))
	if out, err := gocmd(filepath.Join(mod, "viagenerate"), "generate", "."); err != nil {
		t.Fatalf("go generate: %v\n%s", err, out)
	}
	if out, err := gocmd(mod, "tool", "repokit", "generate", "-out", "viatool", "-package", "ids", "viatool/ids.yaml"); err != nil {
		t.Fatalf("go tool repokit: %v\n%s", err, out)
	}
	want := readDir(t, filepath.Join("testdata", "ids", "expected"))
	for _, dir := range []string{"viagenerate", "viatool"} {
		got := readDir(t, filepath.Join(mod, dir))
		delete(got, "ids.yaml")
		delete(got, "gen.go")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s differs from testdata/ids/expected (-want +got):\n%s", dir, diff)
		}
	}

	if out, err := gocmd(mod, "vet", "./..."); err != nil {
		t.Fatalf("go vet on the generated packages: %v\n%s", err, out)
	}
	bin := filepath.Join(mod, "bin")
	if out, err := gocmd(mod, "build", "-o", bin+string(filepath.Separator), "./cmd/..."); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, name := range mains {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(filepath.Join(bin, name))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("running the %s program: %v\n%s", name, err, out)
			}
			if !strings.Contains(string(out), "ok\n") {
				t.Fatalf("the %s program did not print ok:\n%s", name, out)
			}
			t.Logf("%s", out)
		})
	}
}

func writeFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
