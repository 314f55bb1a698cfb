package generator

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Without REPOKIT_SQLC, sqlc on PATH or a built sqlc in the cache, the generator builds sqlc;
// when that is impossible (here: no C compiler for cgo) it fails with ErrSQLC, saying what it
// tried, what failed and how to install sqlc, after one line saying that it builds it.
func TestSQLCBuildFails(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	// Before HOME and XDG_CACHE_HOME change their defaults:
	goenv := map[string]string{}
	for _, k := range []string{"GOCACHE", "GOPATH", "GOMODCACHE"} {
		goenv[k] = goEnv(t, goBin, k)
	}
	cache := t.TempDir()
	t.Setenv(EnvSQLC, "")
	t.Setenv("PATH", filepath.Dir(goBin)) // no sqlc there
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("HOME", cache)
	t.Setenv("CC", filepath.Join(cache, "no-such-cc"))
	// No download: the module cache as the proxy (it has sqlc when the suite built it; else
	// the build fails earlier, which is as impossible).
	t.Setenv("GOPROXY", "file://"+filepath.ToSlash(filepath.Join(goenv["GOMODCACHE"], "cache", "download")))
	t.Setenv("GOSUMDB", "off")
	for k, v := range goenv {
		t.Setenv(k, v)
	}
	var log bytes.Buffer
	_, err = sqlcCommand(&log)
	if !errors.Is(err, ErrSQLC) || !strings.Contains(err.Error(), "building it failed") ||
		!strings.Contains(err.Error(), "go install github.com/sqlc-dev/sqlc/cmd/sqlc@v1.31.1, or set REPOKIT_SQLC") {
		t.Errorf("sqlcCommand = %v, want ErrSQLC saying the build failed and how to install sqlc", err)
	}
	want := "repokit: sqlc is not installed; building github.com/sqlc-dev/sqlc/cmd/sqlc@v1.31.1 into " +
		filepath.Join(cache, "repokit-tools", "sqlc-v1.31.1") + " (once; needs cgo, about a minute)\n"
	if log.String() != want {
		t.Errorf("log = %q, want %q", log.String(), want)
	}
	dir := filepath.Join(cache, "repokit-tools", "sqlc-v1.31.1")
	if left, err := os.ReadDir(dir); err != nil || len(left) > 0 {
		t.Errorf("a failed build left %v in %s (%v)", left, dir, err)
	}

	// A binary in the cache is used as it is, without building.
	if err := os.WriteFile(filepath.Join(dir, "sqlc"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	log.Reset()
	if bin, err := sqlcCommand(&log); err != nil || bin != filepath.Join(dir, "sqlc") || log.Len() != 0 {
		t.Errorf("sqlcCommand with a cached sqlc = %q, %v (log %q)", bin, err, log.String())
	}
}

func goEnv(t *testing.T, goBin, name string) string {
	out, err := exec.Command(goBin, "env", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}
