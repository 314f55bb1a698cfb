package s3

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/repo"
)

// The bulk methods of issue 15 against the loop of single calls a user would otherwise write
// (one Get or Delete of the repository at a time), on loopback and over the ~20 ms link:
//
//	cd bench && go test ./s3 -run XXX -bench 'GetBatch1000|DeleteWhere10000' -benchtime=1x
//
// They call the repository's GetBatch and DeleteWhere, whose fast paths are the driver's
// bulk interfaces (repo.BatchGetter, repo.QueryDeleter).

// load stores n records with ids tag-00000... under the fixture's prefix through a loopback
// repository (fast, untimed), whatever the fixture's link, and returns their ids.
func load(b *testing.B, f *fixture, l link, name, tag string, n int) []string {
	b.Helper()
	ctx := context.Background()
	lb := links(b)[0]
	cfg := config(lb, fmt.Sprintf("repokit-bench/%d/%s/%s", runID, l.name, name))
	d, err := s3.New(ctx, mgr, cfg, things.ThingSchema, s3.WithConcurrency(conc), s3.WithCache(0))
	if err != nil {
		b.Fatal(err)
	}
	if d.Prefix() != f.drv.Prefix() {
		b.Fatalf("loader prefix %s, fixture prefix %s", d.Prefix(), f.drv.Prefix())
	}
	r := repo.New(things.ThingSchema, d)
	defer r.Close()
	recs := batchOf(tag, n)
	for start := 0; start < n; start += 1000 {
		res, err := r.CreateBatch(ctx, recs[start:min(start+1000, n)])
		if err != nil {
			b.Fatal(err)
		}
		for _, x := range res {
			if x.Err != nil {
				b.Fatal(x.Err)
			}
		}
	}
	ids := make([]string, n)
	for i := range recs {
		ids[i] = recs[i].ID
	}
	return ids
}

// BenchmarkGetBatch1000 reads 1000 records: the repository's GetBatch (concurrency 16), a loop of
// the repository's Get, and a hand-written 16-way loop of GetObjects.
func BenchmarkGetBatch1000(b *testing.B) {
	for _, l := range links(b) {
		f := newFixture(b, l, "getbatch")
		ids := load(b, f, l, "getbatch", "g", 1000)
		ctx := context.Background()
		b.Run(l.name+"/repokit", func(b *testing.B) {
			f.warm(b)
			start := time.Now()
			for range b.N {
				recs, res, err := f.repo.GetBatch(ctx, ids)
				if err != nil {
					b.Fatal(err)
				}
				for i, x := range res {
					if x.Err != nil || recs[i].ID != ids[i] {
						b.Fatal(x.Err, recs[i].ID)
					}
				}
			}
			record(b, start)
		})
		b.Run(l.name+"/sequential", func(b *testing.B) {
			start := time.Now()
			for range b.N {
				for _, id := range ids {
					if _, err := f.repo.Get(ctx, id); err != nil {
						b.Fatal(err)
					}
				}
			}
			record(b, start)
		})
		b.Run(l.name+"/concurrent", func(b *testing.B) {
			f.warm(b)
			start := time.Now()
			for range b.N {
				if err := concurrently(len(ids), func(i int) error {
					_, err := f.getRaw(ctx, f.drv.Key(ids[i]))
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
			record(b, start)
		})
	}
}

// seqDeletes is how many records the sequential Delete loop deletes over the slow link,
// where deleting all 10,000 one at a time (a HeadObject and a DeleteObject each, ~45 ms)
// would take seven minutes; its time is scaled to 10,000.
const seqDeletes = 500

// BenchmarkDeleteWhere10000 deletes 10,000 records: the repository's DeleteWhere of every
// record (the seed's clear: list, DeleteObjects of 1000 keys, requests concurrent), and a
// loop of the repository's Delete over the ids (on the slow link timed on seqDeletes records
// and scaled). The records are loaded over loopback before each timed run.
func BenchmarkDeleteWhere10000(b *testing.B) {
	const n = 10000
	for _, l := range links(b) {
		f := newFixture(b, l, "deletewhere")
		ctx := context.Background()
		b.Run(l.name+"/repokit", func(b *testing.B) {
			var total time.Duration
			for i := range b.N {
				load(b, f, l, "deletewhere", fmt.Sprintf("w%d", i), n)
				f.warm(b)
				start := time.Now()
				got, err := f.repo.DeleteWhere(ctx, things.ThingQuery())
				total += time.Since(start)
				if err != nil || got != n {
					b.Fatalf("DeleteWhere = %d, %v; want %d", got, err, n)
				}
			}
			put(b, b.Name(), float64(total.Nanoseconds())/float64(b.N))
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/delete-where")
		})
		b.Run(l.name+"/sequential", func(b *testing.B) {
			m := n
			if l.name != "loopback" {
				m = seqDeletes
			}
			var total time.Duration
			for i := range b.N {
				ids := load(b, f, l, "deletewhere", fmt.Sprintf("s%d", i), m)
				start := time.Now()
				for _, id := range ids {
					if err := f.repo.Delete(ctx, id); err != nil {
						b.Fatal(err)
					}
				}
				total += time.Since(start)
			}
			scaled := float64(total.Nanoseconds()) / float64(b.N) * n / float64(m)
			put(b, b.Name(), scaled)
			b.ReportMetric(scaled/1e6, "ms/10000-scaled")
			b.ReportMetric(float64(m), "records-timed")
		})
	}
}
