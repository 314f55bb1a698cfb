// Package pool is repokit's shared connection-pool manager, the Go counterpart of the seed's
// ConnectionPoolManager (dataknobs_data.pooling).
//
// A Manager hands every caller a lease on the shared pool for a config. Pools are keyed by the
// config's identity (every connection-relevant field, credentials only through a keyed hash),
// an optional scope (per tenant, per test) and the Go type of the pool, so two users with
// different passwords never share a pool. The pool itself is anything goroutine-safe — a
// *pgxpool.Pool, an Elasticsearch client, an S3 client — made, checked and disposed of by
// Hooks:
//
//	m := pool.New(pool.Options{IdleGrace: time.Minute})
//	defer m.CloseAll(context.Background())
//	cfg := pool.Prepare(pgCfg, pool.WithScope("tenant-42")) // identity computed once
//	lease, err := pool.Get(ctx, m, cfg, hooks)
//	if err != nil { ... }
//	defer lease.Release()
//	db := lease.Pool()
//
// Behaviour:
//
//   - Concurrent cold Gets for one identity create the pool once; the others wait for it. A
//     failed create is not cached, and a waiter whose context ends leaves without failing the
//     others (if the creating caller's own context ends, another waiter takes over).
//   - A pool is validated before reuse at most once per Options.ValidateInterval, and at once
//     after a holder calls Lease.ReportBroken. An invalid pool is retired: nobody is handed it
//     again, a new one is created, and the old one is closed when its last holder releases it.
//   - Release is idempotent. The last Release closes the pool, unless Options.IdleGrace or
//     Options.KeepIdle keep it. Remove retires one identity; CloseAll closes everything
//     (pools still leased and pools being created included), is idempotent, and makes Get
//     return ErrClosed. CloseOnSignal does it on SIGINT/SIGTERM.
//   - Len and Stats report live pools without secrets; logs (log/slog) and error texts never
//     contain a secret either.
//   - Retry retries transient errors with exponential backoff and jitter within a context.
//
// The warm path — Get and Release on a live pool with a *Prepared config — takes no lock,
// does no hashing and allocates nothing. Holding a lease per operation (Get, use, Release)
// is therefore cheap, and it is what lets a repository pick up a recreated pool; keep the
// pool alive between operations with Options.IdleGrace or a long-lived lease.
//
// The configuration types PostgresPoolConfig, ElasticsearchPoolConfig and S3PoolConfig carry
// the seed's fields and defaults. They are built from a map (the seed's from_dict), from the
// seed's environment variables (ApplyEnv) or from a YAML file in the seed's databases: layout
// (LoadFile); every configuration error is a *ConfigError naming the file, line and key.
//
// This package has no driver code: the backends under runtime/backends supply the hooks.
package pool
