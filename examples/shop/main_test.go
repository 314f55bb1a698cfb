package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/output.txt")

// TestDemoOutput runs the demo on the memory backend and compares its output with
// testdata/output.txt (rewrite it with -update).
func TestDemoOutput(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "output.txt")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), out.String()); diff != "" {
		t.Errorf("demo output differs from %s (-want +got):\n%s", golden, diff)
	}
}

// backendEnv names, per real backend, the variable whose absence means "not running here".
var backendEnv = map[string]string{
	"postgres":      "REPOKIT_POSTGRES_URL",
	"s3":            "REPOKIT_S3_ENDPOINT",
	"elasticsearch": "REPOKIT_ES_URL",
}

var (
	versionRE = regexp.MustCompile(`version[= ]("[^"\n]*"|[^ \n]+)( -> ("[^"\n]*"|[^ \n]+))?`)
	errorRE   = regexp.MustCompile(`repokit: [^()\n]*\(`)
)

// normalize removes what legitimately differs between backends: version tokens are opaque
// (a counter, an ETag, seq:term) and error causes carry the server's own words.
func normalize(s string) string {
	s = versionRE.ReplaceAllString(s, "version V")
	return errorRE.ReplaceAllString(s, "repokit: ERROR (")
}

// TestDemoOnBackends runs the same walkthrough on every real backend and requires the same
// output as on the memory backend, up to version tokens and error causes: the same queries
// return the same records in the same order, the same writes fail with the same kinds.
func TestDemoOnBackends(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "output.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, backend := range []string{"postgres", "s3", "elasticsearch"} {
		t.Run(backend, func(t *testing.T) {
			if os.Getenv(backendEnv[backend]) == "" {
				msg := backendEnv[backend] + " is not set (eval \"$(scripts/services/all.sh start --with-elasticsearch)\")"
				if os.Getenv("CI") != "" {
					t.Fatal(msg)
				}
				t.Skip(msg)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			var out bytes.Buffer
			if err := runOn(ctx, &out, backend, os.LookupEnv); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(normalize(string(want)), normalize(out.String())); diff != "" {
				t.Errorf("demo on %s differs from the memory backend's (-memory +%s):\n%s", backend, backend, diff)
			}
		})
	}
}
