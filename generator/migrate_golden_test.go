package generator

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A migrate golden case is a directory testdata/migrate/<case>/ holding numbered steps and
// what they produce:
//
//	1/, 2/, ...  one `repokit migrate diff` run each, in order, into one package directory:
//	             the step's *.yaml schema files and an args file (the arguments besides -out
//	             and the schema files, e.g. "-name baseline -backends memory,postgres")
//	expected/    the package's migrations/ directory after the last step, and output.txt:
//	             per step its command line, exit status, stdout and stderr (the package
//	             directory written as OUT)
//
// Run `go test ./generator -run TestMigrateGolden -update` to rewrite expected/ after a
// deliberate change, and review the diff.
func TestMigrateGolden(t *testing.T) {
	root := filepath.Join("testdata", "migrate")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			dir := filepath.Join(root, e.Name())
			out := t.TempDir()
			got := map[string]string{"output.txt": runMigrateSteps(t, dir, out)}
			for name, data := range readDir(t, filepath.Join(out, "migrations")) {
				got["migrations/"+name] = data
			}
			expDir := filepath.Join(dir, "expected")
			if *update {
				if err := os.RemoveAll(expDir); err != nil {
					t.Fatal(err)
				}
				for n, data := range got {
					writeFile(t, filepath.Join(expDir, filepath.FromSlash(n)), data)
				}
				return
			}
			want := readDir(t, expDir)
			if len(want) == 0 {
				t.Fatalf("%s is empty; run go test -run TestMigrateGolden -update", expDir)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("output differs from %s (-want +got):\n%s", expDir, diff)
			}
		})
	}
}

// runMigrateSteps runs the steps of the case in dir into out and returns the transcript.
func runMigrateSteps(t *testing.T, dir, out string) string {
	var steps []int
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() {
			steps = append(steps, n)
		}
	}
	slices.Sort(steps)
	if len(steps) == 0 {
		t.Fatalf("%s has no steps", dir)
	}
	var log strings.Builder
	for _, n := range steps {
		step := filepath.Join(dir, strconv.Itoa(n))
		data, err := os.ReadFile(filepath.Join(step, "args"))
		if err != nil {
			t.Fatal(err)
		}
		args := strings.Fields(string(data))
		schemas, err := filepath.Glob(filepath.Join(step, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(schemas)
		full := append(append([]string{"migrate", "diff", "-out", out}, args...), schemas...)
		var stdout, stderr bytes.Buffer
		code := Main(full, &stdout, &stderr)
		clean := func(s string) string { return strings.ReplaceAll(s, out, "OUT") }
		fmt.Fprintf(&log, "$ repokit %s\nexit %d\n", clean(strings.Join(full, " ")), code)
		if stdout.Len() > 0 {
			fmt.Fprintf(&log, "stdout:\n%s", clean(stdout.String()))
		}
		if stderr.Len() > 0 {
			fmt.Fprintf(&log, "stderr:\n%s", clean(stderr.String()))
		}
		log.WriteString("\n")
	}
	return log.String()
}
