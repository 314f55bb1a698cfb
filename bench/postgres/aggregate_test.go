package postgres

import (
	"context"
	"testing"

	"github.com/repokit/repokit/examples/shop/shopdb"
	"github.com/repokit/repokit/internal/servicetest"
	rkpg "github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// aggRows is the table size of the aggregation benchmarks.
const aggRows = 100_000

// aggSetup returns a repository on a table of its own (bench_agg_products in the test
// database) holding aggRows products with three statuses and four category pairs; a table
// left by an earlier benchmark with exactly that many rows is reused. (No fresh database:
// DROP DATABASE ... WITH (FORCE) cannot end the autovacuum worker the load starts.)
func aggSetup(b *testing.B) (context.Context, *repo.Collection[shopdb.Product]) {
	b.Helper()
	u := servicetest.PostgresURL(b)
	ctx := context.Background()
	cfg, err := pool.PostgresPoolConfigFromMap(map[string]any{"connection_string": u})
	if err != nil {
		b.Fatal(err)
	}
	m := pool.New(pool.Options{})
	b.Cleanup(func() { _ = m.CloseAll(ctx) })
	d, err := rkpg.New(ctx, m, cfg, shopdb.ProductSchema, rkpg.WithTable("bench_agg_products"))
	if err != nil {
		b.Fatal(err)
	}
	r := repo.New(shopdb.ProductSchema, d)
	b.Cleanup(func() { _ = r.Close() })
	statuses := []shopdb.ProductStatus{shopdb.ProductStatusActive, shopdb.ProductStatusDraft, shopdb.ProductStatusDiscontinued}
	cats := []shopdb.ProductCategory{shopdb.ProductCategoryBooks, shopdb.ProductCategoryGames, shopdb.ProductCategoryMusic, shopdb.ProductCategoryToys}
	if n, err := r.Count(ctx, shopdb.ProductQuery()); err != nil {
		b.Fatal(err)
	} else if n == aggRows {
		return ctx, r
	}
	if _, err := r.DeleteWhere(ctx, shopdb.ProductQuery()); err != nil {
		b.Fatal(err)
	}
	for start := 0; start < aggRows; start += 10_000 {
		recs := make([]shopdb.Product, 10_000)
		for i := range recs {
			n := start + i
			recs[i] = product(n)
			st := statuses[n%3]
			recs[i].Status = &st
			recs[i].Categories = []shopdb.ProductCategory{cats[n%4], cats[(n/4)%4]}
		}
		res, err := r.CreateBatch(ctx, recs)
		if err != nil {
			b.Fatal(err)
		}
		for _, x := range res {
			if x.Err != nil {
				b.Fatal(x.Err)
			}
		}
	}
	return ctx, r
}

// benchAggregate measures Aggregate (one GROUP BY statement) against the same aggregation
// computed in Go over the stream of the same rows (repo.AggregateStream, the portable path
// of backends without an aggregation of their own), interleaved in one run, and checks that
// both give the same groups.
func benchAggregate(b *testing.B, ctx context.Context, r *repo.Collection[shopdb.Product], groups []query.GroupKey[shopdb.Product], metrics ...query.Metric[shopdb.Product]) {
	q := shopdb.ProductQuery()
	spec := query.NewAggSpec(q, groups, metrics)
	var native, streamed []query.Group
	interleave(b, func() {}, func() {
		var err error
		if native, err = r.Aggregate(ctx, q, groups, metrics...); err != nil {
			b.Fatal(err)
		}
	}, func() {
		gs, err := repo.AggregateStream(ctx, r.Desc(), r.Driver(), &spec)
		if err != nil {
			b.Fatal(err)
		}
		kinds := make([]query.Kind, len(spec.Metrics))
		for i, m := range spec.Metrics {
			f, _ := r.Desc().Lookup(m.Field)
			kinds[i] = f.Kind
		}
		if streamed, err = repo.FinishGroups(&spec, kinds, gs); err != nil {
			b.Fatal(err)
		}
	})
	if len(native) != len(streamed) {
		b.Fatalf("GROUP BY gave %d groups, the stream %d", len(native), len(streamed))
	}
	for i := range native {
		if native[i].Count != streamed[i].Count || native[i].Keys[0] != streamed[i].Keys[0] {
			b.Fatalf("group %d: GROUP BY %s, stream %s", i, native[i], streamed[i])
		}
	}
}

// BenchmarkAggregateByStatus100k: products per status with price min, max and avg and the
// stock sum, over 100k rows.
func BenchmarkAggregateByStatus100k(b *testing.B) {
	ctx, r := aggSetup(b)
	p := shopdb.ProductFields
	benchAggregate(b, ctx, r, query.By(p.Status.GroupBy()), p.Price.Min(), p.Price.Max(), p.Price.Avg(), p.Stock.Sum())
}

// BenchmarkAggregateCategoryFacet100k: products per category (a list field, grouped by
// element) with the price average, over 100k rows.
func BenchmarkAggregateCategoryFacet100k(b *testing.B) {
	ctx, r := aggSetup(b)
	p := shopdb.ProductFields
	benchAggregate(b, ctx, r, query.By(p.Categories.GroupBy()), p.Price.Avg())
}

// BenchmarkAggregateByStatus100kVsStream: the aggregation of BenchmarkAggregateByStatus100k
// against what a program without Aggregate writes: Stream every product (whole records)
// and group them in a map.
func BenchmarkAggregateByStatus100kVsStream(b *testing.B) {
	ctx, r := aggSetup(b)
	p := shopdb.ProductFields
	type acc struct {
		n, stock   int64
		min, max   float64
		sumPrice   float64
		priceCount int64
	}
	var native []query.Group
	var byStatus map[shopdb.ProductStatus]*acc
	interleave(b, func() {}, func() {
		var err error
		native, err = r.Aggregate(ctx, shopdb.ProductQuery(), query.By(p.Status.GroupBy()), p.Price.Min(), p.Price.Max(), p.Price.Avg(), p.Stock.Sum())
		if err != nil {
			b.Fatal(err)
		}
	}, func() {
		byStatus = map[shopdb.ProductStatus]*acc{}
		for rec, err := range r.Stream(ctx, shopdb.ProductQuery()) {
			if err != nil {
				b.Fatal(err)
			}
			a := byStatus[*rec.Status]
			if a == nil {
				a = &acc{min: rec.Price, max: rec.Price}
				byStatus[*rec.Status] = a
			}
			a.n++
			a.stock += rec.Stock
			a.min, a.max = min(a.min, rec.Price), max(a.max, rec.Price)
			a.sumPrice += rec.Price
			a.priceCount++
		}
	})
	for _, g := range native {
		a := byStatus[shopdb.ProductStatus(g.Keys[0].Str)]
		if a == nil || a.n != g.Count || a.stock != g.Metrics[3].Int || a.min != g.Metrics[0].Float {
			b.Fatalf("GROUP BY %s, stream %+v", g, a)
		}
	}
}
