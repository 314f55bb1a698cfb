package pool_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/repokit/repokit/runtime/pool"
)

// client stands in for a driver's pool (a *pgxpool.Pool, an Elasticsearch client, ...).
type client struct{ dsn string }

// clientHooks returns the hooks of client pools. Like the backends' Hooks (postgres.Hooks(),
// ...) it is a function, so every caller gets a value of its own to adjust.
func clientHooks() pool.Hooks[*client] {
	return pool.Hooks[*client]{
		Create: func(ctx context.Context, cfg pool.Config) (*client, error) {
			c, err := pool.ConfigAs[pool.PostgresPoolConfig](cfg)
			if err != nil {
				return nil, err
			}
			fmt.Println("create", c.Redacted())
			return &client{dsn: c.ConnectionString()}, nil
		},
		Validate: func(ctx context.Context, c *client) error { return nil }, // e.g. a ping
		Close: func(ctx context.Context, c *client) error {
			fmt.Println("close")
			return nil
		},
	}
}

func Example() {
	ctx := context.Background()
	m := pool.New(pool.Options{KeepIdle: true})

	cfg := pool.NewPostgresPoolConfig()
	cfg.Database, cfg.Password = "shop", "s3cret"
	prepared := pool.Prepare(cfg) // compute the identity once

	for i := 0; i < 3; i++ { // one create, then reuse
		lease, err := pool.Get(ctx, m, prepared, clientHooks())
		if err != nil {
			fmt.Println(err)
			return
		}
		_ = lease.Pool() // use the pool
		lease.Release()
	}
	fmt.Println("pools:", m.Len())

	if err := m.CloseAll(ctx); err != nil {
		fmt.Println(err)
	}
	_, err := pool.Get(ctx, m, prepared, clientHooks())
	fmt.Println(errors.Is(err, pool.ErrClosed))
	// Output:
	// create postgres://postgres:xxxxx@localhost:5432/shop?pool_max_conns=5&pool_min_conns=2
	// pools: 1
	// close
	// true
}

func ExampleLease_ReportBroken() {
	ctx := context.Background()
	m := pool.New(pool.Options{KeepIdle: true})
	cfg := pool.Prepare(pool.NewPostgresPoolConfig())
	h := clientHooks()
	h.Validate = func(ctx context.Context, c *client) error { return errors.New("ping: connection reset") }

	lease, _ := pool.Get(ctx, m, cfg, h)
	lease.ReportBroken(errors.New("query: broken pipe")) // the next Get validates first
	lease.Release()                                      // kept idle (KeepIdle)

	lease, _ = pool.Get(ctx, m, cfg, h) // validation fails: closed and recreated
	lease.Release()
	_ = m.CloseAll(ctx)
	// Output:
	// create postgres://postgres@localhost:5432/postgres?pool_max_conns=5&pool_min_conns=2
	// close
	// create postgres://postgres@localhost:5432/postgres?pool_max_conns=5&pool_min_conns=2
	// close
}

func ExampleManager_Stats() {
	ctx := context.Background()
	m := pool.New(pool.Options{})
	cfg := pool.NewPostgresPoolConfig()
	cfg.Password = "s3cret"
	quiet := clientHooks()
	quiet.Create = func(ctx context.Context, cfg pool.Config) (*client, error) { return &client{}, nil }
	quiet.Close = nil

	a, _ := pool.Get(ctx, m, pool.Prepare(cfg, pool.WithScope("tenant-a")), quiet)
	b, _ := pool.Get(ctx, m, pool.Prepare(cfg, pool.WithScope("tenant-b")), quiet)
	for _, st := range m.Stats() {
		fmt.Println(st.Backend, st.Scope, st.Holders, st.Creates, st.Config)
	}
	a.Release()
	b.Release()
	fmt.Println(m.Len())
	// Output:
	// postgres tenant-a 1 1 postgres://postgres:xxxxx@localhost:5432/postgres?pool_max_conns=5&pool_min_conns=2
	// postgres tenant-b 1 1 postgres://postgres:xxxxx@localhost:5432/postgres?pool_max_conns=5&pool_min_conns=2
	// 0
}

func ExampleLoadFile() {
	fc, err := pool.LoadFile("testdata/config.yaml") // the seed's example config.yaml
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(fc.Postgres)
	fmt.Println(fc.Elasticsearch)
	fmt.Println(fc.S3)

	_, err = pool.LoadFile("testdata/bad/type.yaml")
	fmt.Println(err)
	// Output:
	// postgres://postgres@localhost:5432/mydb?connect_timeout=30&pool_max_conns=20&pool_min_conns=10
	// http://node1:9200,http://node2:9200 index=records connections=10 maxsize=20
	// s3://my-bucket/?max_connections=50
	// testdata/bad/type.yaml:6: databases.postgres.pool.max_size: expected an integer, got "twenty"
}

func ExamplePostgresPoolConfigFromMap() {
	cfg, err := pool.PostgresPoolConfigFromMap(map[string]any{
		"connection_string": "postgresql://app:p%40ss@db.internal:6543/shop?sslmode=require",
		"pool":              map[string]any{"max_size": 20},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Password)
	fmt.Println(cfg) // printing never shows the password
	// Output:
	// p@ss
	// postgres://app:xxxxx@db.internal:6543/shop?pool_max_conns=20&pool_min_conns=2&sslmode=require
}

func ExampleElasticsearchPoolConfigFromMap() {
	for _, m := range []map[string]any{
		{"host": "localhost", "port": 9200},
		{"host": "localhost:9200", "port": 9200}, // not localhost:9200:9200
		{"host": "localhost:9200", "port": 9300},
	} {
		cfg, err := pool.ElasticsearchPoolConfigFromMap(m)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(cfg.Hosts)
	}
	// Output:
	// [http://localhost:9200]
	// [http://localhost:9200]
	// port: 9300 conflicts with the port in host "localhost:9200"
}

func ExampleRetry() {
	attempts := 0
	err := pool.Retry(context.Background(), pool.RetryPolicy{MaxAttempts: 5, InitialInterval: time.Millisecond},
		func(ctx context.Context) error {
			attempts++
			if attempts < 3 {
				return pool.MarkTransient(errors.New("server starting"))
			}
			return nil
		})
	fmt.Println(attempts, err)
	// Output:
	// 3 <nil>
}
