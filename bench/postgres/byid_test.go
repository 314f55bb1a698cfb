package postgres

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/repokit/repokit/examples/shop/shopdb"
	"github.com/repokit/repokit/examples/shop/shopdb/shopdbsql"
	rkpg "github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// byIDEnv holds a repository on the record's own table ("products"), so that its statements
// by id run the sqlc-generated code (postgres.WithStatements); the table lives in a database
// of its own, so that it never meets the tests' tables of the same name.
type byIDEnv struct {
	ctx  context.Context
	pool *pgxpool.Pool
	repo *repo.Collection[shopdb.Product]
}

const byIDDatabase = "repokit_bench_byid"

func setupByID(b *testing.B) *byIDEnv {
	b.Helper()
	return setupByIDIn(b, byIDDatabase)
}

// setupByIDIn is setupByID in the database named db (dropped and created again).
func setupByIDIn(b *testing.B, db string) *byIDEnv {
	b.Helper()
	u := freshDatabase(b, db)
	ctx := context.Background()
	cfg, err := pool.PostgresPoolConfigFromMap(map[string]any{"connection_string": u})
	if err != nil {
		b.Fatal(err)
	}
	m := pool.New(pool.Options{})
	b.Cleanup(func() { _ = m.CloseAll(ctx) })
	// The generated constructor checks that the schema set's migrations are applied.
	if _, err := shopdb.MigratePostgres(ctx, m, cfg); err != nil {
		b.Fatal(err)
	}
	r, err := shopdb.NewProductPostgresRepository(ctx, m, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Close() })
	lease, err := pool.Get(ctx, m, cfg, rkpg.Hooks())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(lease.Release)
	return &byIDEnv{ctx: ctx, pool: lease.Pool(), repo: r}
}

const getSQL = "SELECT sku, name, description, price, stock, status, categories, ratings, attributes, thumbnail, updated_at, repokit_version FROM products WHERE sku = $1"

// pgxGet is the hand-written peer of Get: one QueryRow scanned into the record, the version
// formatted as repokit does.
func pgxGet(e *byIDEnv, sku string) (shopdb.Product, error) {
	var p shopdb.Product
	var v int64
	err := e.pool.QueryRow(e.ctx, getSQL, sku).Scan(&p.SKU, &p.Name, &p.Description, &p.Price, &p.Stock, &p.Status, &p.Categories, &p.Ratings, &p.Attributes, &p.Thumbnail, &p.UpdatedAt, &v)
	p.RecordVersion = strconv.FormatInt(v, 10)
	return p, err
}

// BenchmarkGet100 reads 100 products one Get at a time: repokit (sqlc-generated statement,
// through repo.Collection) interleaved with hand-written pgx.
func BenchmarkGet100(b *testing.B) {
	e := setupByID(b)
	if _, err := e.repo.CreateBatch(e.ctx, products(1000)); err != nil {
		b.Fatal(err)
	}
	skus := make([]string, 100)
	for i := range skus {
		skus[i] = fmt.Sprintf("sku-%06d", i*7%1000)
	}
	interleave(b, func() {}, func() {
		for _, s := range skus {
			if _, err := e.repo.Get(e.ctx, s); err != nil {
				b.Fatal(err)
			}
		}
	}, func() {
		for _, s := range skus {
			if _, err := pgxGet(e, s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

const insertOneSQL = "INSERT INTO products (sku, name, description, price, stock, status, categories, ratings, attributes, thumbnail, updated_at, repokit_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING"

// BenchmarkCreate100 stores 100 products one Create at a time: repokit (validation, copy,
// sqlc-generated INSERT) interleaved with hand-written pgx Exec of the same INSERT; the
// table is emptied before each side.
func BenchmarkCreate100(b *testing.B) {
	e := setupByID(b)
	recs := products(100)
	reset := func() {
		if _, err := e.pool.Exec(e.ctx, "TRUNCATE products"); err != nil {
			b.Fatal(err)
		}
	}
	interleave(b, reset, func() {
		for i := range recs {
			if _, err := e.repo.Create(e.ctx, recs[i]); err != nil {
				b.Fatal(err)
			}
		}
	}, func() {
		for i := range recs {
			tag, err := e.pool.Exec(e.ctx, insertOneSQL, row(&recs[i], int64(i+1))...)
			if err != nil || tag.RowsAffected() != 1 {
				b.Fatal(tag, err)
			}
		}
	})
}

// BenchmarkGet100SQLC is BenchmarkGet100 with the peer calling the sqlc-generated method
// directly (shopdbsql.Queries.GetProduct), which shows what repo.Collection and the driver add
// to sqlc's own code.
func BenchmarkGet100SQLC(b *testing.B) {
	e := setupByID(b)
	if _, err := e.repo.CreateBatch(e.ctx, products(1000)); err != nil {
		b.Fatal(err)
	}
	q := shopdbsql.New(e.pool)
	interleave(b, func() {}, func() {
		for i := range 100 {
			if _, err := e.repo.Get(e.ctx, fmt.Sprintf("sku-%06d", i)); err != nil {
				b.Fatal(err)
			}
		}
	}, func() {
		for i := range 100 {
			if _, err := q.GetProduct(e.ctx, fmt.Sprintf("sku-%06d", i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
