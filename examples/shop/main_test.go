package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/repokit/repokit/examples/shop/shopdb"
	"github.com/repokit/repokit/examples/shop/shopdb/shopdbsql"
	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/open"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

var update = flag.Bool("update", false, "rewrite testdata/output.txt")

// TestDemoOutput runs the demo on the memory backend and compares its output with
// testdata/output.txt (rewrite it with -update).
func TestDemoOutput(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, memTarget(t)); err != nil {
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

// memTarget is the target of -backend memory.
func memTarget(t *testing.T) open.Target {
	tg, err := target("memory", "", os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// openURL returns the URL of a backend's test server, as -url takes it; it skips the test when
// the server is not running (fails it under CI).
var openURL = map[string]func(testing.TB) string{
	"postgres":      servicetest.PostgresOpenURL,
	"s3":            func(t testing.TB) string { return servicetest.S3OpenURL(t, "repokit-demo-url") },
	"elasticsearch": servicetest.ElasticsearchOpenURL,
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
// return the same records in the same order, the same writes fail with the same kinds. Each
// backend runs twice: selected with -backend (the test services' variables) and with -url.
func TestDemoOnBackends(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "output.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, backend := range []string{"postgres", "s3", "elasticsearch"} {
		for _, how := range []string{"backend", "url"} {
			t.Run(backend+"/"+how, func(t *testing.T) {
				url := openURL[backend](t) // skips (fails under CI) without the server
				if how == "backend" {
					url = ""
				}
				tg, err := target(backend, url, os.LookupEnv)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
				defer cancel()
				var out bytes.Buffer
				if err := run(ctx, &out, tg); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(normalize(string(want)), normalize(out.String())); diff != "" {
					t.Errorf("demo on %s differs from the memory backend's (-memory +%s):\n%s", backend, backend, diff)
				}
			})
		}
	}
}

// TestTarget checks the -backend and -url selection without a server: a URL wins, a missing
// variable and an unknown backend name what to do.
func TestTarget(t *testing.T) {
	env := map[string]string{"REPOKIT_ES_URL": "http://127.0.0.1:9200"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if tg, err := target("elasticsearch", "", lookup); err != nil || tg.String() != "http://127.0.0.1:9200 index=records connections=10 maxsize=10" {
		t.Errorf("-backend elasticsearch = %v, %v", tg, err)
	}
	if tg, err := target("elasticsearch", "mem://", lookup); err != nil || tg.Backend != "memory" {
		t.Errorf("-url mem:// = %v, %v; want the URL to win", tg, err)
	}
	for _, tc := range []struct{ backend, url, want string }{
		{"postgres", "", "-backend postgres needs REPOKIT_POSTGRES_URL"},
		{"s3", "", "-backend s3 needs REPOKIT_S3_ENDPOINT"},
		{"mongo", "", `unknown -backend "mongo"`},
		{"memory", "mongodb://h", `unknown scheme "mongodb"`},
	} {
		if _, err := target(tc.backend, tc.url, lookup); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("target(%q, %q) = %v, want an error containing %q", tc.backend, tc.url, err, tc.want)
		}
	}
}

// TestHandWrittenSQL runs the demo on PostgreSQL and then the schema set's hand-written
// queries (schema/shop.queries.sql), which sqlc turned into package shopdbsql.
func TestHandWrittenSQL(t *testing.T) {
	url := servicetest.PostgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tg, err := target("", url, os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, io.Discard, tg); err != nil {
		t.Fatal(err)
	}
	db, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := shopdbsql.New(db)

	revenue, err := q.RevenueByStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The demo's ten orders: i%3 picks pending, paid, shipped; the total is 29.99 × (1 + i%2).
	wantRevenue := []shopdbsql.RevenueByStatusRow{
		{Status: "paid", Orders: 3, Revenue: 29.99 * 5},
		{Status: "pending", Orders: 4, Revenue: 29.99 * 6},
		{Status: "shipped", Orders: 3, Revenue: 29.99 * 4},
	}
	if diff := cmp.Diff(wantRevenue, revenue, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("RevenueByStatus (-want +got):\n%s", diff)
	}

	low, err := q.LowStock(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	wantLow := []shopdbsql.LowStockRow{{SKU: "BK-001", Name: "Structure and Interpretation", Stock: 3}}
	if diff := cmp.Diff(wantLow, low); diff != "" {
		t.Errorf("LowStock (-want +got):\n%s", diff)
	}
}

// TestUniqueEmail checks that a unique field (Customer.email) is enforced the same way on
// every backend (memory, PostgreSQL, S3, Elasticsearch): a taken value fails Create, Update and Upsert with
// ErrAlreadyExists and frees up when its record is deleted or changes it.
func TestUniqueEmail(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	backends := map[string]func(t *testing.T) shopdb.CustomerRepository{
		"memory": func(*testing.T) shopdb.CustomerRepository { return shopdb.NewCustomerMemoryRepository() },
		"postgres": func(t *testing.T) shopdb.CustomerRepository {
			cfg, err := pool.PostgresPoolConfigFromMap(map[string]any{"connection_string": servicetest.PostgresURL(t)})
			if err != nil {
				t.Fatal(err)
			}
			m := pool.New(pool.Options{})
			t.Cleanup(func() { m.CloseAll(context.Background()) })
			if _, err := shopdb.MigratePostgres(ctx, m, cfg); err != nil {
				t.Fatal(err)
			}
			r, err := shopdb.NewCustomerPostgresRepository(ctx, m, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := clear(ctx, r, shopdb.CustomerSchema.GetID, shopdb.CustomerQuery()); err != nil {
				t.Fatal(err)
			}
			return r
		},
		"s3": func(t *testing.T) shopdb.CustomerRepository {
			cfg := servicetest.S3Config(t)
			cfg.Prefix = "repokit-unique-test"
			m := pool.New(pool.Options{})
			t.Cleanup(func() { m.CloseAll(context.Background()) })
			if _, err := shopdb.MigrateS3(ctx, m, cfg); err != nil {
				t.Fatal(err)
			}
			r, err := shopdb.NewCustomerS3Repository(ctx, m, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := clear(ctx, r, shopdb.CustomerSchema.GetID, shopdb.CustomerQuery()); err != nil {
				t.Fatal(err)
			}
			return r
		},
		"elasticsearch": func(t *testing.T) shopdb.CustomerRepository {
			cfg, err := pool.ElasticsearchPoolConfigFromMap(map[string]any{"hosts": []any{servicetest.ElasticsearchURL(t)}})
			if err != nil {
				t.Fatal(err)
			}
			m := pool.New(pool.Options{})
			t.Cleanup(func() { m.CloseAll(context.Background()) })
			if _, err := shopdb.MigrateElasticsearch(ctx, m, cfg); err != nil {
				t.Fatal(err)
			}
			r, err := shopdb.NewCustomerElasticsearchRepository(ctx, m, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := clear(ctx, r, shopdb.CustomerSchema.GetID, shopdb.CustomerQuery()); err != nil {
				t.Fatal(err)
			}
			return r
		},
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			r := open(t)
			defer r.Close()
			day := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			a, err := r.Create(ctx, shopdb.Customer{Email: "a@example.com", Name: "A", SignedUp: day})
			if err != nil {
				t.Fatal(err)
			}
			b, err := r.Create(ctx, shopdb.Customer{Email: "b@example.com", Name: "B", SignedUp: day})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Create(ctx, shopdb.Customer{Email: "a@example.com", Name: "A2", SignedUp: day}); !errors.Is(err, repo.ErrAlreadyExists) {
				t.Errorf("Create with a taken email: %v, want ErrAlreadyExists", err)
			}
			res, err := r.CreateBatch(ctx, []shopdb.Customer{
				{Email: "c@example.com", Name: "C", SignedUp: day},
				{Email: "c@example.com", Name: "C2", SignedUp: day},
			})
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Err != nil || !errors.Is(res[1].Err, repo.ErrAlreadyExists) {
				t.Errorf("CreateBatch repeating an email: %v, %v; want nil, ErrAlreadyExists", res[0].Err, res[1].Err)
			}
			b.Email = "a@example.com"
			if _, err := r.Update(ctx, b); !errors.Is(err, repo.ErrAlreadyExists) {
				t.Errorf("Update to a taken email: %v, want ErrAlreadyExists", err)
			}
			if _, err := r.Upsert(ctx, b); !errors.Is(err, repo.ErrAlreadyExists) {
				t.Errorf("Upsert to a taken email: %v, want ErrAlreadyExists", err)
			}
			if got, err := r.Get(ctx, b.ID); err != nil || got.Email != "b@example.com" {
				t.Errorf("after the failed writes, b = %q, %v; want its old email", got.Email, err)
			}
			// A record keeps its own value, and a value freed by a change or a delete is free.
			a.Name = "A renamed"
			if _, err := r.Update(ctx, a); err != nil {
				t.Errorf("Update keeping its own email: %v", err)
			}
			a.Email = "a2@example.com"
			if _, err := r.Update(ctx, a); err != nil {
				t.Fatalf("Update to a free email: %v", err)
			}
			if _, err := r.Update(ctx, b); err != nil {
				t.Errorf("Update to an email freed by a change: %v", err)
			}
			if err := r.Delete(ctx, b.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Create(ctx, shopdb.Customer{Email: "a@example.com", Name: "D", SignedUp: day}); err != nil {
				t.Errorf("Create with an email freed by a delete: %v", err)
			}
		})
	}
}
