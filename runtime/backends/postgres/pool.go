package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// Hooks returns the pool-manager hooks for PostgreSQL: Create builds a *pgxpool.Pool from a
// pool.PostgresPoolConfig (sizes, connect timeout, lifetimes, health-check period and TLS
// mode through its connection string) and pings it — a failed ping is transient, unless the
// server refused the settings (authentication, a missing database: pool.ErrInvalidConfig) —,
// Validate pings it, Close closes it, and Stats returns pgxpool's Stat as a PoolStats value.
func Hooks() pool.Hooks[*pgxpool.Pool] {
	return pool.Hooks[*pgxpool.Pool]{
		Create:   createPool,
		Validate: func(ctx context.Context, p *pgxpool.Pool) error { return p.Ping(ctx) },
		Close: func(_ context.Context, p *pgxpool.Pool) error {
			p.Close()
			return nil
		},
		Stats: func(p *pgxpool.Pool) any { return statsOf(p) },
	}
}

// PgxConfig returns the pgxpool configuration for c. It holds the password: do not log it.
func PgxConfig(c pool.PostgresPoolConfig) (*pgxpool.Config, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	pc, err := pgxpool.ParseConfig(c.ConnectionString())
	if err != nil {
		// The parse error may quote the connection string: never return its text.
		return nil, fmt.Errorf("%w: postgres connection settings for %s are not accepted by pgx", pool.ErrInvalidConfig, c.Redacted())
	}
	if c.ConnectTimeout > 0 {
		pc.ConnConfig.ConnectTimeout = c.ConnectTimeout
	}
	return pc, nil
}

func createPool(ctx context.Context, cfg pool.Config) (*pgxpool.Pool, error) {
	c, err := pool.ConfigAs[pool.PostgresPoolConfig](cfg)
	if err != nil {
		return nil, err
	}
	pc, err := PgxConfig(c)
	if err != nil {
		return nil, err
	}
	instrument(ctx, pc)
	p, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, errors.New(c.RedactSecrets(err.Error()))
	}
	if err := p.Ping(ctx); err != nil {
		p.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg := fmt.Sprintf("postgres: ping %s: %s", c.Redacted(), c.RedactSecrets(err.Error()))
		if rejectsConfig(err) || pool.IsCertificateError(err) {
			// The server answered and refused these settings, or a certificate does not
			// verify: retrying cannot help.
			return nil, fmt.Errorf("%w: %s", pool.ErrInvalidConfig, msg)
		}
		return nil, pool.MarkTransient(errors.New(msg))
	}
	return p, nil
}

// rejectsConfig reports a connection the server refused because of the settings, not
// because of its state: authentication or authorization failures (class 28: a wrong
// password, no pg_hba.conf entry) and a database that does not exist (3D000).
func rejectsConfig(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "28") || pe.Code == "3D000")
}

// PoolStats is a snapshot of pgxpool's statistics, as Manager.Stats reports them.
type PoolStats struct {
	AcquireCount            int64
	AcquiredConns           int32
	CanceledAcquireCount    int64
	ConstructingConns       int32
	EmptyAcquireCount       int64
	IdleConns               int32
	MaxConns                int32
	TotalConns              int32
	NewConnsCount           int64
	MaxLifetimeDestroyCount int64
	MaxIdleDestroyCount     int64
}

func statsOf(p *pgxpool.Pool) PoolStats {
	s := p.Stat()
	return PoolStats{
		AcquireCount: s.AcquireCount(), AcquiredConns: s.AcquiredConns(),
		CanceledAcquireCount: s.CanceledAcquireCount(), ConstructingConns: s.ConstructingConns(),
		EmptyAcquireCount: s.EmptyAcquireCount(), IdleConns: s.IdleConns(), MaxConns: s.MaxConns(),
		TotalConns: s.TotalConns(), NewConnsCount: s.NewConnsCount(),
		MaxLifetimeDestroyCount: s.MaxLifetimeDestroyCount(), MaxIdleDestroyCount: s.MaxIdleDestroyCount(),
	}
}

// getPool leases the pool m holds for cfg; a server that cannot be reached is
// repo.ErrUnavailable (the constructors' and the migrator's rule).
func getPool(ctx context.Context, m *pool.Manager, cfg pool.Config) (pool.Lease[*pgxpool.Pool], error) {
	lease, err := pool.Get(ctx, m, cfg, Hooks())
	if err != nil && pool.Unreachable(ctx, err) {
		err = repo.E(repo.ErrUnavailable, err)
	}
	return lease, err
}
