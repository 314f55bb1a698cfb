package elasticsearch_test

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkMigrateCopy compares, in one run, plain _bulk indexing of 100,000 documents
// (CreateBatch) with the migration copies of the same documents: the baseline adopting the
// index (an identity copy) and version 2 (a copy renaming and converting fields). The ratio
// is the copy's throughput over plain indexing's (goal ≥ 0.8). See docs/BENCHMARKS.md.
func BenchmarkMigrateCopy(b *testing.B) {
	const n = 100000
	for range b.N {
		e := newMigEnv(b)
		r1 := e.v1Repo(b)
		start := time.Now()
		loadItems(b, e, r1, n)
		plain := time.Since(start)
		start = time.Now()
		if _, err := e.migrator(b, e.migrationsV1).Apply(e.ctx); err != nil {
			b.Fatal(err)
		}
		adopt := time.Since(start)
		start = time.Now()
		if _, err := e.migrator(b, e.all).Apply(e.ctx); err != nil {
			b.Fatal(err)
		}
		cp := time.Since(start)
		b.ReportMetric(plain.Seconds(), "plain-s")
		b.ReportMetric(adopt.Seconds(), "adopt-s")
		b.ReportMetric(cp.Seconds(), "copy-s")
		b.ReportMetric(plain.Seconds()/adopt.Seconds(), "adopt-ratio")
		b.ReportMetric(plain.Seconds()/cp.Seconds(), "copy-ratio")
		fmt.Printf("plain _bulk %v, adoption copy %v (%.2fx), transforming copy %v (%.2fx)\n",
			plain, adopt, plain.Seconds()/adopt.Seconds(), cp, plain.Seconds()/cp.Seconds())
	}
}
