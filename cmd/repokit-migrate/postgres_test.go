package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/repokit/repokit/generator"
	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/open"
	"github.com/repokit/repokit/runtime/pool"
)

// TestPostgres runs the command as a user does, on the real server: two migrations planned
// by repokit migrate diff, then status (pending), plan, apply, status (clean), apply again.
func TestPostgres(t *testing.T) {
	url := servicetest.PostgresURL(t)
	pkg := fmt.Sprintf("migcmd%d", os.Getpid())
	table := pkg + "_gadget"
	dir := pkgDir(t, pkg, false)
	schemaFile := filepath.Join(t.TempDir(), "gadget.yaml")
	writeSchema := func(fields string) {
		t.Helper()
		y := "version: 1\nrecords:\n  - name: Gadget\n    postgres: {table: " + table + "}\n    fields:\n      - {name: label, type: string, required: true}\n" + fields
		if err := os.WriteFile(schemaFile, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	diff := func(name string) {
		t.Helper()
		if _, err := generator.MigrateDiff(generator.DiffConfig{Paths: []string{schemaFile}, OutDir: dir, Name: name, Backends: []generator.Backend{generator.BackendPostgres}}); err != nil {
			t.Fatal(err)
		}
	}
	writeSchema("")
	diff("baseline")
	writeSchema("      - {name: color, type: string, indexed: true}\n")
	diff("add_color")

	m := pool.New(pool.Options{})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	target, err := open.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	servicetest.Cleanup(t, m, target.Config, postgres.Hooks(), "dropping "+table, func(ctx context.Context, p *pgxpool.Pool) error {
		_, err := p.Exec(ctx, "DROP TABLE IF EXISTS "+pgdialect.Quote(table)+", "+pgdialect.Quote(postgres.VersionTable(pkg)))
		return err
	})

	cmd := func(wantCode int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		args = append(append(args[:1:1], "-url", url), append(args[1:], dir)...)
		if code := run(context.Background(), args, &out, &errb); code != wantCode {
			t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args[0], code, wantCode, out.String(), errb.String())
		}
		if strings.Contains(out.String()+errb.String(), "repokit-test-pw") {
			t.Errorf("%s shows the password", args[0])
		}
		return out.String()
	}
	expect := func(what, got string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s does not say %q:\n%s", what, w, got)
			}
		}
	}
	expect("status before", cmd(exitFailed, "status"), "applied: none", "00001_baseline", "00002_add_color")
	plan := cmd(exitOK, "plan")
	t.Logf("repokit-migrate plan:\n%s", plan)
	expect("plan", plan, "-- version 1 (postgres)", "CREATE TABLE IF NOT EXISTS", "-- version 2 (postgres)", `"color"`, "CONCURRENTLY")
	expect("apply", cmd(exitOK, "apply"), "applied version 1\napplied version 2\n")
	expect("status after", cmd(exitOK, "status"), "applied: 1, 2", "pending: none", "drift: none")
	expect("apply again", cmd(exitOK, "apply"), "nothing to apply")
	expect("plan again", cmd(exitOK, "plan"), "nothing to apply")
}
