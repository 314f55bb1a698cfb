package postgres

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/repokit/repokit/examples/shop/shopdb"
	"github.com/repokit/repokit/runtime/repo"
)

// The batch methods of issue 15 against the loop of single calls a user would otherwise
// write, on the generated shopdb.Product repository on its own table (its single calls run
// the sqlc-generated statements, the fastest single Get and Delete repokit has), in a
// database of its own. Each benchmark interleaves the batch ("repokit" in the metrics) with
// the loop ("peer"): throughput-ratio = loop time / batch time.

const bulkDatabase = "repokit_bench_bulk"

// BenchmarkGetBatch1k reads 1,000 products by id: one GetBatch (one SELECT ... WHERE sku =
// ANY($1)) interleaved with a loop of 1,000 Gets. Goal: throughput-ratio ≥ 20.
func BenchmarkGetBatch1k(b *testing.B) {
	e := setupByIDIn(b, bulkDatabase)
	if _, err := e.repo.CreateBatch(e.ctx, products(10000)); err != nil {
		b.Fatal(err)
	}
	skus := make([]string, 1000)
	for i := range skus {
		skus[i] = fmt.Sprintf("sku-%06d", i*7%10000)
	}
	interleave(b, func() {}, func() {
		_, res, err := e.repo.GetBatch(e.ctx, skus)
		if err != nil {
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
// half drafts): one DeleteWhere(status = active), one DELETE, interleaved with a loop of
// 10,000 Deletes by id. The table is filled again (COPY, untimed) before each side. Goal:
// throughput-ratio ≥ 50.
func BenchmarkDeleteWhere10k(b *testing.B) {
	e := setupByIDIn(b, bulkDatabase)
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
	active := shopdb.ProductQuery().Where(shopdb.ProductFields.Status.EQ(shopdb.ProductStatusActive))
	interleave(b, reset, func() {
		n, err := e.repo.DeleteWhere(e.ctx, active)
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

// BenchmarkUpsertBatch1k replaces 1,000 stored products: one UpsertBatch (one INSERT ... ON
// CONFLICT DO UPDATE of 1,000 rows) interleaved with a loop of 1,000 Upserts. No goal in the
// issue; it shows that the batch write is one statement too.
func BenchmarkUpsertBatch1k(b *testing.B) {
	e := setupByIDIn(b, bulkDatabase)
	recs := products(1000)
	if _, err := e.repo.CreateBatch(e.ctx, recs); err != nil {
		b.Fatal(err)
	}
	interleave(b, func() {}, func() {
		res, err := e.repo.UpsertBatch(e.ctx, recs)
		if err != nil {
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

// BenchmarkStreamWrite1M writes 1,000,000 products made one at a time by an iterator: one
// StreamWrite (batches of repo.DefaultStreamBatchSize through CreateBatch's path, COPY)
// interleaved with the loop a user would write without it, CreateBatch of chunks of the
// same size filled from the same iterator into one reused slice. The table is emptied
// (untimed) before each side. Goal: throughput-ratio ≥ 0.9, and heap-growth-MB (the most the
// live heap grew above its level before the call, sampled every 5 ms during the StreamWrite
// side, so measured rather than estimated) under 64.
func BenchmarkStreamWrite1M(b *testing.B) {
	const n, chunk = 1_000_000, repo.DefaultStreamBatchSize
	e := setupByIDIn(b, bulkDatabase)
	all := func(yield func(shopdb.Product) bool) {
		for i := range n {
			if !yield(product(i)) {
				return
			}
		}
	}
	reset := func() {
		if _, err := e.pool.Exec(e.ctx, "TRUNCATE products"); err != nil {
			b.Fatal(err)
		}
	}
	var growth, peerGrowth uint64
	interleave(b, reset, func() {
		stop := watchHeap(&growth)
		res, err := e.repo.StreamWrite(e.ctx, all)
		stop()
		if err != nil || res.Written != n || res.Failed != 0 {
			b.Fatal(res.Written, res.Failed, err)
		}
	}, func() {
		stop := watchHeap(&peerGrowth)
		defer stop()
		buf := make([]shopdb.Product, 0, chunk)
		flush := func() {
			res, err := e.repo.CreateBatch(e.ctx, buf)
			if err != nil {
				b.Fatal(err)
			}
			for i := range res {
				if res[i].Err != nil {
					b.Fatal(res[i].Err)
				}
			}
			buf = buf[:0]
		}
		for p := range all {
			if buf = append(buf, p); len(buf) == chunk {
				flush()
			}
		}
		if len(buf) > 0 {
			flush()
		}
	})
	b.ReportMetric(float64(growth)/(1<<20), "heap-growth-MB")
	b.ReportMetric(float64(peerGrowth)/(1<<20), "peer-heap-growth-MB")
}

// watchHeap samples the bytes of live and not yet swept heap objects every 5 ms from now
// until the returned stop is called, and raises *max to the largest growth above the level
// at the start (after a GC) that it saw.
func watchHeap(max *uint64) (stop func()) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if v := read(); v > base && v-base > *max {
				*max = v - base
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}
