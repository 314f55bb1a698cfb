package postgres_test

import (
	"context"
	"fmt"
	"os"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// Repositories get their pool from a pool.Manager; two repositories on one config share it.
// InTx runs calls of repositories bound with WithTx in one transaction.
func Example() {
	ctx := context.Background()
	cfg, err := pool.PostgresPoolConfigFromMap(map[string]any{"connection_string": os.Getenv("REPOKIT_POSTGRES_URL")})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := pool.New(pool.Options{})
	defer m.CloseAll(ctx)
	d, err := postgres.New(ctx, m, pool.Prepare(cfg), things.ThingSchema) // creates table "thing" if missing
	if err != nil {
		fmt.Println(err)
		return
	}
	r := repo.New(things.ThingSchema, d)
	defer r.Close()

	err = postgres.InTx(ctx, postgres.DBOf(r), func(tx *postgres.Tx) error {
		tr, err := postgres.WithTx(r, tx)
		if err != nil {
			return err
		}
		if _, err := tr.Create(ctx, things.Thing{ID: "a", Name: "first"}); err != nil {
			return err // rolls back
		}
		_, err = tr.Create(ctx, things.Thing{ID: "b", Name: "second"})
		return err // nil commits both
	})
	fmt.Println(err)
}
