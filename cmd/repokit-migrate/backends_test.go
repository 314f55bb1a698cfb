package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/repokit/repokit/generator"
	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/open"
	"github.com/repokit/repokit/runtime/pool"
)

// storeCase is one backend the command is run on: the store's URL, the schema line that
// names the record's storage, and the removal of what the test left there.
type storeCase struct {
	backend string
	url     func(t testing.TB, pkg string) string
	storage func(name string) string
	cleanup func(t *testing.T, target, pkg, name string)
	plan    []string // what plan prints for the two migrations
}

var storeCases = []storeCase{{
	backend: "postgres",
	url:     func(t testing.TB, _ string) string { return servicetest.PostgresOpenURL(t) },
	storage: func(name string) string { return "postgres: {table: " + name + "}" },
	cleanup: func(t *testing.T, target, pkg, name string) {
		m := pool.New(pool.Options{})
		t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
		tg, err := open.Parse(target)
		if err != nil {
			t.Fatal(err)
		}
		servicetest.Cleanup(t, m, tg.Config, postgres.Hooks(), "dropping "+name, func(ctx context.Context, p *pgxpool.Pool) error {
			_, err := p.Exec(ctx, "DROP TABLE IF EXISTS "+pgdialect.Quote(name)+", "+pgdialect.Quote(postgres.VersionTable(pkg)))
			return err
		})
	},
	plan: []string{"-- version 1 (postgres)", "CREATE TABLE IF NOT EXISTS", "-- version 2 (postgres)", `"color"`, "CONCURRENTLY"},
}, {
	backend: "elasticsearch",
	url:     func(t testing.TB, _ string) string { return servicetest.ElasticsearchOpenURL(t) },
	storage: func(name string) string { return "elasticsearch: {index: " + name + "}" },
	cleanup: func(t *testing.T, _, pkg, name string) {
		base := servicetest.ElasticsearchURL(t)
		t.Cleanup(func() {
			var indices []struct{ Index string }
			if err := esCall(http.MethodGet, base+"/_cat/indices/"+name+"*?format=json&h=index", &indices); err != nil {
				t.Errorf("listing the indices of %s: %v", name, err)
			}
			paths := []string{}
			for _, ix := range indices {
				paths = append(paths, "/"+ix.Index)
			}
			for _, id := range []string{"v:" + pkg + ":1", "v:" + pkg + ":2", "lock:" + pkg} {
				paths = append(paths, "/"+elasticsearch.DefaultStateIndex+"/_doc/"+url.PathEscape(id))
			}
			for _, p := range paths {
				if err := esCall(http.MethodDelete, base+p, nil); err != nil && !strings.Contains(err.Error(), "404") {
					t.Errorf("cleanup: %v", err)
				}
			}
		})
	},
	plan: []string{"version 1 (elasticsearch)", "version 2 (elasticsearch)", "color"},
}, {
	backend: "s3",
	url:     func(t testing.TB, pkg string) string { return servicetest.S3OpenURL(t, "repokit-test/"+pkg) },
	storage: func(name string) string { return "s3: {prefix: " + name + "}" },
	cleanup: func(t *testing.T, target, pkg, _ string) {
		m := pool.New(pool.Options{})
		t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
		cfg := servicetest.S3Config(t)
		servicetest.Cleanup(t, m, cfg, s3.Hooks(), "removing repokit-test/"+pkg, func(ctx context.Context, c *s3.Client) error {
			return servicetest.RemoveS3Objects(ctx, c.API, cfg.Bucket, "repokit-test/"+pkg+"/")
		})
	},
	plan: []string{"version 1 (s3)", "version 2 (s3)"},
}}

// esCall sends a request to the Elasticsearch node and decodes its JSON answer into out.
func esCall(method, u string, out any) error {
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s", method, u, resp.Status)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// TestBackends runs the command as a user does, on each real server: two migrations planned
// by repokit migrate diff, then status (pending), plan, apply, status (clean), apply and
// plan again (nothing to do).
func TestBackends(t *testing.T) {
	for _, sc := range storeCases {
		t.Run(sc.backend, func(t *testing.T) {
			pkg := fmt.Sprintf("migcmd%d", os.Getpid())
			target := sc.url(t, pkg)
			name := pkg + "_gadget"
			sc.cleanup(t, target, pkg, name)
			dir := pkgDir(t, pkg, false)
			schemaFile := filepath.Join(t.TempDir(), "gadget.yaml")
			diff := func(migration, fields string) {
				t.Helper()
				y := "version: 1\nrecords:\n  - name: Gadget\n    " + sc.storage(name) + "\n    fields:\n      - {name: label, type: string, required: true}\n" + fields
				if err := os.WriteFile(schemaFile, []byte(y), 0o644); err != nil {
					t.Fatal(err)
				}
				cfg := generator.DiffConfig{Paths: []string{schemaFile}, OutDir: dir, Name: migration, Backends: []generator.Backend{generator.Backend(sc.backend)}}
				if _, err := generator.MigrateDiff(cfg); err != nil {
					t.Fatal(err)
				}
			}
			diff("baseline", "")
			diff("add_color", "      - {name: color, type: string, indexed: true}\n")

			cmd := func(wantCode int, args ...string) string {
				t.Helper()
				var out, errb bytes.Buffer
				args = append(append(args[:1:1], "-url", target), append(args[1:], dir)...)
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
			expect("plan", plan, sc.plan...)
			expect("apply", cmd(exitOK, "apply"), "applied version 1\napplied version 2\n")
			expect("status after", cmd(exitOK, "status"), "applied: 1, 2", "pending: none", "drift: none")
			expect("apply again", cmd(exitOK, "apply"), "nothing to apply")
			expect("plan again", cmd(exitOK, "plan"), "nothing to apply")
		})
	}
}
