package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// BenchmarkSearch counts the rows of a 100,000-row table whose body holds a rare word
// (20 rows) with Search (the GIN index on the generated tsvector column) and with
// LIKE '%word%' (a scan), side by side (drivertest.BenchInterleaved); "like/search" is the
// ratio of their times.
func BenchmarkSearch(b *testing.B) {
	const rows = 100_000
	cfg := testConfig(b)
	m := pool.New(pool.Options{KeepIdle: true})
	b.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	ctx := context.Background()
	d, err := postgres.New(ctx, m, cfg, things.DocSchema, postgres.WithTable(tableName(b, m, cfg, "bench_search")))
	if err != nil {
		b.Fatal(err)
	}
	r := repo.New(things.DocSchema, d)
	defer r.Close()
	recs := make([]things.Doc, rows)
	var sb strings.Builder
	for i := range recs {
		sb.Reset()
		for w := range 12 {
			fmt.Fprintf(&sb, "word%d ", (i*7+w*131)%5000)
		}
		if i%(rows/20) == 0 {
			sb.WriteString("zanzibar")
		}
		body := sb.String()
		recs[i] = things.Doc{ID: fmt.Sprintf("d%06d", i), Body: &body}
	}
	for start := 0; start < rows; start += 10_000 {
		if _, err := r.CreateBatch(ctx, recs[start:start+10_000]); err != nil {
			b.Fatal(err)
		}
	}
	F, Q := things.DocFields, things.DocQuery
	count := func(q func() (int64, error)) func() error {
		return func() error {
			n, err := q()
			if err == nil && n != 20 {
				err = fmt.Errorf("counted %d rows, want 20", n)
			}
			return err
		}
	}
	drivertest.BenchInterleaved(b, 3,
		drivertest.Contender{Name: "search", Call: count(func() (int64, error) { return r.Count(ctx, Q().Where(F.Body.Search("zanzibar"))) })},
		drivertest.Contender{Name: "like", Call: count(func() (int64, error) { return r.Count(ctx, Q().Where(F.Body.Like("%zanzibar%"))) })},
	)
}
