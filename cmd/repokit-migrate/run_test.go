package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/pool"
)

// withBackends makes sure the named backends are registered for a test of the command
// line alone (the real openers when this command is built with them); a stand-in opener
// fails if it is ever called.
func withBackends(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if migrators[n] != nil {
			continue
		}
		migrators[n] = func(context.Context, *pool.Manager, pool.Config, string, fs.FS, func(migrate.Progress)) (migrate.Migrator, error) {
			return nil, errors.New("not built into this test")
		}
		t.Cleanup(func() { delete(migrators, n) })
	}
}

// pkgDir makes a package directory named pkg, with migrations when withMigrations is set.
func pkgDir(t *testing.T, pkg string, withMigrations bool) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte("// Package "+pkg+" is a test package.\npackage "+pkg+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if withMigrations {
		if err := os.Mkdir(filepath.Join(dir, migrate.Dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestUsageErrors(t *testing.T) {
	withBackends(t, "postgres", "elasticsearch", "s3")
	good := pkgDir(t, "shopdb", true)
	noMigrations := pkgDir(t, "shopdb", false)
	empty := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte("databases:\n  postgres:\n    host: 127.0.0.1\n    password: cfg-secret-pw\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"none", nil, "no command"},
		{"unknown verb", []string{"upgrade"}, `unknown command "upgrade"`},
		{"no store", []string{"plan", good}, "no store: give -url URL or -config FILE"},
		{"both", []string{"plan", "-url", "postgres://h/db", "-config", cfg, good}, "-url and -config exclude each other"},
		{"memory", []string{"apply", "-url", "mem://", good}, "the memory backend keeps no store between runs"},
		{"backend mismatch", []string{"status", "-backend", "s3", "-url", "postgres://h/db", good}, "-backend s3, but the URL is a postgres URL"},
		{"config without backend", []string{"status", "-config", cfg, good}, "-config needs -backend"},
		{"bad url", []string{"plan", "-url", "elasticsearch://u:url-secret-pw@h:notaport", good}, "elasticsearch"},
		{"unknown scheme", []string{"plan", "-url", "mysql://h/db", good}, "mysql"},
		{"no dir", []string{"plan", "-url", "postgres://h/db"}, "want one package directory, got 0 arguments"},
		{"two dirs", []string{"plan", "-url", "postgres://h/db", good, good}, "want one package directory, got 2 arguments"},
		{"not a package", []string{"plan", "-url", "postgres://h/db", empty}, "no Go package here"},
		{"no migrations", []string{"plan", "-url", "postgres://h/db", noMigrations}, "no migrations (run repokit migrate diff -out"},
		{"unknown flag", []string{"plan", "-dry", good}, "flag provided but not defined: -dry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(context.Background(), tc.args, &out, &errb); code != exitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, errb.String())
			}
			if !strings.Contains(errb.String(), tc.want) {
				t.Errorf("stderr does not say %q:\n%s", tc.want, errb.String())
			}
			if !strings.Contains(errb.String(), "usage: repokit-migrate plan|apply|status") {
				t.Errorf("stderr has no usage:\n%s", errb.String())
			}
			for _, secret := range []string{"url-secret-pw", "cfg-secret-pw"} {
				if strings.Contains(errb.String()+out.String(), secret) {
					t.Errorf("output shows the secret %q:\n%s", secret, errb.String())
				}
			}
		})
	}
}

func TestParse(t *testing.T) {
	withBackends(t, "postgres")
	dir := pkgDir(t, "shopdb", true)
	c, err := parse([]string{"status", "-url", "postgres://u@127.0.0.1:1/db", dir}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.verb != "status" || c.backend != "postgres" || c.pkg != "shopdb" || c.dir != dir || c.fsys == nil {
		t.Errorf("parsed %+v", c)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"plan", "-h"}} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != exitOK {
			t.Errorf("%v: exit %d; stderr %s", args, code, errb.String())
		}
		if !strings.HasPrefix(out.String(), "usage: repokit-migrate") {
			t.Errorf("%v: stdout %q", args, out.String())
		}
	}
}

func TestProgressPrinter(t *testing.T) {
	var b bytes.Buffer
	p := progressPrinter(&b)
	p(migrate.Progress{Version: 2, Step: "copy", Done: 10, Total: 100, Elapsed: time.Second})
	p(migrate.Progress{Version: 2, Step: "copy", Done: 20, Total: 100, Elapsed: time.Second}) // too soon: skipped
	p(migrate.Progress{Version: 2, Step: "copy", Done: 100, Total: 100, Elapsed: 2 * time.Second})
	p(migrate.Progress{Version: 3, Step: "rewrite", Done: 7, Elapsed: time.Second})
	want := "version 2: copy: 10/100 (10%) after 1s\n" +
		"version 2: copy: 100/100 (100%) after 2s\n" +
		"version 3: rewrite: 7 after 1s\n"
	if b.String() != want {
		t.Errorf("got\n%swant\n%s", b.String(), want)
	}
}
