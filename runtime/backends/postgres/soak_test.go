package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/repokit/repokit/internal/faulttest"
	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// serverConns counts the client connections the test server holds for the test's role,
// other than the one that asks (pg_stat_activity).
func serverConns(url string) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			return 0, err
		}
		defer c.Close(context.Background())
		var n int
		err = c.QueryRow(ctx, `select count(*) from pg_stat_activity
			where usename = current_user and pid <> pg_backend_pid() and backend_type = 'client backend'`).Scan(&n)
		return n, err
	}
}

// TestSoak runs the soak test (internal/faulttest) on the PostgreSQL test server.
func TestSoak(t *testing.T) {
	h := newHarness(t) // for the table's cleanup
	table := tableName(t, h.m, h.cfg, "soak")
	cfg := testConfig(t)
	faulttest.Soak(t, faulttest.SoakBackend{
		Name:        "postgres",
		Package:     "./runtime/backends/postgres/",
		ServerConns: serverConns(servicetest.PostgresURL(t)),
		Secrets:     []string{cfg.Password},
		Open: func(ctx context.Context, t *testing.T, m *pool.Manager) (repo.Repository[things.Thing], error) {
			d, err := postgres.New(ctx, m, cfg, things.ThingSchema, postgres.WithTable(table))
			if err != nil {
				return nil, err
			}
			return repo.New(things.ThingSchema, d), nil
		},
	})
}
