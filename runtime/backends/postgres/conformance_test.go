package postgres_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"

	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/open"
	"github.com/repokit/repokit/runtime/pool"
)

// testConfig returns the pool config of the test server, skipping the test when there is
// none (failing under CI).
func testConfig(t testing.TB) pool.PostgresPoolConfig {
	t.Helper()
	cfg, err := pool.PostgresPoolConfigFromMap(map[string]any{"connection_string": servicetest.PostgresURL(t)})
	if err != nil {
		t.Fatalf("%s: %v", servicetest.EnvPostgresURL, err)
	}
	cfg.MaxSize = 8
	cfg.MinSize = 0
	return cfg
}

var tableSeq atomic.Int64

// tableName returns a table name no other test uses and drops the table when t ends.
func tableName(t testing.TB, m *pool.Manager, cfg pool.PostgresPoolConfig, base string) string {
	name := fmt.Sprintf("t_%s_%d_%d", base, os.Getpid(), tableSeq.Add(1))
	servicetest.Cleanup(t, m, cfg, postgres.Hooks(), "dropping "+name, func(ctx context.Context, p *pgxpool.Pool) error {
		_, err := p.Exec(ctx, "DROP TABLE IF EXISTS "+pgdialect.Quote(name))
		return err
	})
	return name
}

type harness struct {
	m   *pool.Manager
	cfg pool.PostgresPoolConfig
}

func newHarness(t *testing.T) harness {
	cfg := testConfig(t)
	m := pool.New(pool.Options{KeepIdle: true})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	return harness{m: m, cfg: cfg}
}

// exec runs statements on h's pool (what a test needs beyond the schema: a constraint, a
// table of its own) and fails the test on an error. It may run in a cleanup.
func (h harness) exec(t testing.TB, stmts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lease, err := pool.Get(ctx, h.m, h.cfg, postgres.Hooks())
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	for _, sql := range stmts {
		if _, err := lease.Pool().Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

func (h harness) Manager() *pool.Manager { return h.m }

// Target returns the test server with a table of the test's own (WithTable), dropped when
// the test ends.
func (h harness) Target(_ context.Context, t *testing.T, table string) (open.Target, []open.Option, error) {
	return open.FromPoolConfig(h.cfg), []open.Option{postgres.WithTable(tableName(t, h.m, h.cfg, table))}, nil
}

// LeakOptions ignores pgxpool's background goroutines (health checks, connection
// creation), which belong to the shared pool, not to a stream.
func (harness) LeakOptions() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreTopFunction("github.com/jackc/pgx/v5/pgxpool.(*Pool).backgroundHealthCheck"),
		goleak.IgnoreAnyFunction("github.com/jackc/puddle/v2.(*Pool[...]).createIdleResources"),
		goleak.IgnoreAnyFunction("github.com/jackc/pgx/v5/pgxpool.(*Pool).createIdleResources"),
		goleak.IgnoreAnyFunction("github.com/jackc/pgx/v5/pgxpool.(*Pool).triggerHealthCheck.func1"),
	}
}

func TestConformance(t *testing.T) {
	drivertest.RunConformanceTests(t, drivertest.On(newHarness(t)))
}

// genHarness opens repositories with the generated constructors
// (things.New<Record>PostgresRepository, without WithTable), whose statements by id run the code sqlc generated
// (postgres.Statements). Their tables keep the records' own names, so they live in a database
// of their own, emptied by every Make.
type genHarness struct {
	harness
}

func newGenHarness(t *testing.T) genHarness {
	base := newHarness(t)
	ctx := context.Background()
	admin, err := pool.Get(ctx, base.m, base.cfg, postgres.Hooks())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Release)
	name := fmt.Sprintf("repokit_gen_%d", os.Getpid())
	for _, sql := range []string{"DROP DATABASE IF EXISTS " + pgdialect.Quote(name) + " WITH (FORCE)", "CREATE DATABASE " + pgdialect.Quote(name)} {
		if _, err := admin.Pool().Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	cfg := base.cfg
	cfg.Database = name
	t.Cleanup(func() {
		if _, err := base.m.Remove(ctx, cfg); err != nil {
			t.Errorf("closing the pool of %s: %v", name, err)
		}
		if _, err := admin.Pool().Exec(ctx, "DROP DATABASE IF EXISTS "+pgdialect.Quote(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	return genHarness{harness{m: base.m, cfg: cfg}}
}

// Target returns the generated database: the records keep their own tables.
func (h genHarness) Target(context.Context, *testing.T, string) (open.Target, []open.Option, error) {
	return open.FromPoolConfig(h.cfg), nil, nil
}

// Opened empties the record's table, which an earlier test may have filled.
func (h genHarness) Opened(ctx context.Context, t *testing.T, table string, _ any) error {
	lease, err := pool.Get(ctx, h.m, h.cfg, postgres.Hooks())
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = lease.Pool().Exec(ctx, "TRUNCATE "+pgdialect.Quote(table))
	return err
}

// The suite again, on repositories whose statements by id run the sqlc-generated code.
func TestConformanceGenerated(t *testing.T) {
	drivertest.RunConformanceTests(t, drivertest.On(newGenHarness(t)))
}
