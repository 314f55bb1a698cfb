package elasticsearch

import (
	"testing"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// aggDocs is the index size of the aggregation benchmarks.
const aggDocs = 100_000

// aggSetup indexes aggDocs things (in _bulk batches of 5000) and refreshes the index.
func aggSetup(b *testing.B, name string) *env {
	b.Helper()
	e := setup(b, name)
	for range aggDocs / 5000 {
		res, err := e.repo.CreateBatch(e.ctx, makeThings(5000))
		checkBulk(b, res, err)
	}
	r, err := esapi.IndicesRefreshRequest{Index: []string{e.index}}.Do(e.ctx, e.c.ES)
	if err != nil {
		b.Fatal(err)
	}
	r.Body.Close()
	return e
}

// benchAggregate measures Aggregate (a composite aggregation paged to the end) against the
// same aggregation counted in Go over the stream of the matching documents
// (repo.AggregateStream: search_after pages in a point in time), interleaved in one run,
// and checks that both give the same groups.
func benchAggregate(b *testing.B, e *env, groups []query.GroupKey[things.Thing], metrics ...query.Metric[things.Thing]) {
	q := things.ThingQuery()
	spec := query.NewAggSpec(q, groups, metrics)
	kinds := make([]query.Kind, len(spec.Metrics))
	for i, m := range spec.Metrics {
		f, _ := e.repo.Desc().Lookup(m.Field)
		kinds[i] = f.Kind
	}
	var native, streamed []query.Group
	interleave(b, func() {
		var err error
		if native, err = e.repo.Aggregate(e.ctx, q, groups, metrics...); err != nil {
			b.Fatal(err)
		}
	}, func() {
		gs, err := repo.AggregateStream(e.ctx, e.repo.Desc(), e.repo.Driver(), &spec)
		if err != nil {
			b.Fatal(err)
		}
		if streamed, err = repo.FinishGroups(&spec, kinds, gs); err != nil {
			b.Fatal(err)
		}
	})
	if len(native) != len(streamed) {
		b.Fatalf("composite gave %d groups, the stream %d", len(native), len(streamed))
	}
	for i := range native {
		if native[i].String() != streamed[i].String() {
			b.Fatalf("group %d: composite %s, stream %s", i, native[i], streamed[i])
		}
	}
}

// BenchmarkAggregateByActive100k: documents per bool value with count, sum, min and max of
// an int field, over 100k documents.
func BenchmarkAggregateByActive100k(b *testing.B) {
	e := aggSetup(b, "agg-active")
	F := things.ThingFields
	benchAggregate(b, e, query.By(F.Active.GroupBy()), F.Count.Sum(), F.Count.Min(), F.Count.Max(), F.Rank.Count())
}

// BenchmarkAggregateTagFacet100k: documents per tag (a keyword list, grouped by element)
// with the average ratio, over 100k documents.
func BenchmarkAggregateTagFacet100k(b *testing.B) {
	e := aggSetup(b, "agg-tags")
	F := things.ThingFields
	benchAggregate(b, e, query.By(F.Tags.GroupBy()), F.Count.Sum())
}
