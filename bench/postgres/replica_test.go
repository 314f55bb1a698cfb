package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/repokit/repokit/examples/shop/shopdb"
	"github.com/repokit/repokit/internal/servicetest"
	rkpg "github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// Read replicas (issue 20): the same generated shopdb.Product repository twice on one
// database, once with the test server's hot standby in its config (Replicas) and once
// without, interleaved in every iteration: "repokit" in the metrics is the repository with
// the standby (its reads go to the standby), "peer" the one on the primary only;
// throughput-ratio = primary-only time / with-standby time. Both servers run on this one
// machine, so a ratio near 1 is what to expect: it shows what routing costs, not the
// capacity a second machine adds. Needs REPOKIT_POSTGRES_REPLICA_URL (postgres.sh start
// --replica); skipped without it.

const replicaDatabase = "repokit_bench_replica"

// replicaReaders is the number of goroutines that read at once in one iteration.
const replicaReaders = 8

type replicaEnv struct {
	*byIDEnv
	withStandby *repo.Collection[shopdb.Product]
}

func setupReplica(b *testing.B, n int) *replicaEnv {
	b.Helper()
	_, _, addr := servicetest.PostgresReplica(b)
	e := setupByIDIn(b, replicaDatabase)
	if _, err := e.repo.CreateBatch(e.ctx, products(n)); err != nil {
		b.Fatal(err)
	}
	cfg, err := pool.PostgresPoolConfigFromMap(map[string]any{"connection_string": servicetest.PostgresURL(b)})
	if err != nil {
		b.Fatal(err)
	}
	cfg.Database, cfg.Replicas = replicaDatabase, []string{addr}
	m := pool.New(pool.Options{})
	b.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	r, err := shopdb.NewProductPostgresRepository(e.ctx, m, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Close() })
	d, ok := r.Driver().(*rkpg.Driver[shopdb.Product])
	if !ok {
		b.Fatalf("driver is %T", r.Driver())
	}
	// Wait until the standby has replayed the load and reads go to it.
	deadline := time.Now().Add(60 * time.Second)
	for st := d.Replicas(); !st[0].Usable || !st[0].CaughtUp; st = d.Replicas() {
		if time.Now().After(deadline) {
			b.Fatalf("the standby is not usable and caught up after 60s: %+v", st[0])
		}
		if _, err := r.Count(e.ctx, shopdb.ProductQuery()); err != nil {
			b.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &replicaEnv{byIDEnv: e, withStandby: r}
}

// parallel runs fn replicaReaders times at once, each call `per` times in a row.
func parallel(per int, fn func()) {
	var wg sync.WaitGroup
	for range replicaReaders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				fn()
			}
		}()
	}
	wg.Wait()
}

// BenchmarkReplicaFind: 8 goroutines × 10 Finds of 100 products (price < 100, sorted by the
// id) from a 10,000-row table.
func BenchmarkReplicaFind(b *testing.B) {
	e := setupReplica(b, 10000)
	q := shopdb.ProductQuery().Where(shopdb.ProductFields.Price.LT(100)).Limit(100)
	find := func(r *repo.Collection[shopdb.Product]) func() {
		return func() {
			parallel(10, func() {
				out, err := r.Find(e.ctx, q)
				if err != nil || len(out) != 100 {
					b.Error(len(out), err)
				}
			})
		}
	}
	interleave(b, func() {}, find(e.withStandby), find(e.repo))
}

// BenchmarkReplicaCount: 8 goroutines × 10 Counts of the products with price < 100 (a
// sequential scan of 10,000 rows each).
func BenchmarkReplicaCount(b *testing.B) {
	e := setupReplica(b, 10000)
	q := shopdb.ProductQuery().Where(shopdb.ProductFields.Price.LT(100))
	count := func(r *repo.Collection[shopdb.Product]) func() {
		return func() {
			parallel(10, func() {
				n, err := r.Count(e.ctx, q)
				if err != nil || n != 1000 {
					b.Error(n, err)
				}
			})
		}
	}
	interleave(b, func() {}, count(e.withStandby), count(e.repo))
}

// BenchmarkReplicaUpsert: the write path with and without replicas configured, 100 Upserts
// in a row: a write through a repository with replicas only adds one to a counter (no round
// trip), so the ratio should be 1 within noise.
func BenchmarkReplicaUpsert(b *testing.B) {
	e := setupReplica(b, 1000)
	recs := products(100)
	upsert := func(r *repo.Collection[shopdb.Product]) func() {
		return func() {
			for _, p := range recs {
				if _, err := r.Upsert(e.ctx, p); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	interleave(b, func() {}, upsert(e.withStandby), upsert(e.repo))
}
