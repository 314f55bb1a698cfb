package postgres

import (
	"fmt"
	"testing"

	"github.com/repokit/repokit/examples/shop/shopdb"
	rkpg "github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/repo"
)

// The batch methods of issue 15 against the loop of single calls a user would otherwise
// write, on the generated shopdb.Product repository on its own table (its single calls run
// the sqlc-generated statements, the fastest single Get and Delete repokit has), in a
// database of its own. Each benchmark interleaves the batch ("repokit" in the metrics) with
// the loop ("peer"): throughput-ratio = loop time / batch time.
//
// FOLLOW-UP (lead): the batch side calls the driver's fast paths directly
// (postgres.Driver.GetMany, DeleteMatching), because repo.Collection's GetBatch and
// DeleteWhere are written on another branch; once merged, call e.repo.GetBatch and
// e.repo.DeleteWhere instead (they add id checks and filter checks, which cost little
// against a round trip).

const bulkDatabase = "repokit_bench_bulk"

func bulkDriver(b *testing.B, e *byIDEnv) *rkpg.Driver[shopdb.Product] {
	d, ok := e.repo.Driver().(*rkpg.Driver[shopdb.Product])
	if !ok {
		b.Fatalf("driver is %T", e.repo.Driver())
	}
	return d
}

// BenchmarkGetBatch1k reads 1,000 products by id: one GetMany (one SELECT ... WHERE sku =
// ANY($1)) interleaved with a loop of 1,000 Gets. Goal: throughput-ratio ≥ 20.
func BenchmarkGetBatch1k(b *testing.B) {
	e := setupByIDIn(b, bulkDatabase)
	d := bulkDriver(b, e)
	if _, err := e.repo.CreateBatch(e.ctx, products(10000)); err != nil {
		b.Fatal(err)
	}
	skus := make([]string, 1000)
	for i := range skus {
		skus[i] = fmt.Sprintf("sku-%06d", i*7%10000)
	}
	recs := make([]shopdb.Product, len(skus))
	res := make([]repo.Result, len(skus))
	interleave(b, func() {}, func() {
		if err := d.GetMany(e.ctx, skus, recs, res); err != nil {
			b.Fatal(err)
		}
		for i := range res {
			if res[i].Err != nil {
				b.Fatal(res[i].Err)
			}
		}
	}, func() {
		for _, s := range skus {
			if _, err := e.repo.Get(e.ctx, s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDeleteWhere10k deletes the 10,000 active products of a table of 20,000 (the other
// half drafts): one DeleteMatching(status = active), one DELETE, interleaved with a loop of
// 10,000 Deletes by id. The table is filled again (COPY, untimed) before each side. Goal:
// throughput-ratio ≥ 50.
func BenchmarkDeleteWhere10k(b *testing.B) {
	e := setupByIDIn(b, bulkDatabase)
	d := bulkDriver(b, e)
	recs := products(20000)
	draft := shopdb.ProductStatusDraft
	for i := 10000; i < len(recs); i++ {
		recs[i].Status = &draft
	}
	reset := func() {
		if _, err := e.pool.Exec(e.ctx, "TRUNCATE products"); err != nil {
			b.Fatal(err)
		}
		if _, err := e.repo.CreateBatch(e.ctx, recs); err != nil {
			b.Fatal(err)
		}
		if _, err := e.pool.Exec(e.ctx, "VACUUM ANALYZE products"); err != nil {
			b.Fatal(err)
		}
	}
	filter := shopdb.ProductFields.Status.EQ(shopdb.ProductStatusActive).Expr()
	interleave(b, reset, func() {
		n, err := d.DeleteMatching(e.ctx, filter)
		if err != nil || n != 10000 {
			b.Fatal(n, err)
		}
	}, func() {
		for i := range 10000 {
			if err := e.repo.Delete(e.ctx, recs[i].SKU); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkUpsertBatch1k replaces 1,000 stored products: one UpsertMany (one INSERT ... ON
// CONFLICT DO UPDATE of 1,000 rows) interleaved with a loop of 1,000 Upserts. No goal in the
// issue; it shows that the batch write is one statement too.
func BenchmarkUpsertBatch1k(b *testing.B) {
	e := setupByIDIn(b, bulkDatabase)
	d := bulkDriver(b, e)
	recs := products(1000)
	if _, err := e.repo.CreateBatch(e.ctx, recs); err != nil {
		b.Fatal(err)
	}
	batch := make([]shopdb.Product, len(recs))
	res := make([]repo.Result, len(recs))
	interleave(b, func() {}, func() {
		copy(batch, recs) // UpsertMany sets the new versions in the records
		if err := d.UpsertMany(e.ctx, batch, nil, res); err != nil {
			b.Fatal(err)
		}
		for i := range res {
			if res[i].Err != nil {
				b.Fatal(res[i].Err)
			}
		}
	}, func() {
		for i := range recs {
			if _, err := e.repo.Upsert(e.ctx, recs[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
