package s3_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// BenchmarkPageWalk walks n records (loopback, cache off) page by page in pages of 100 and
// reports the LIST requests the walk made, next to the goal of n/1000 + pages. "resume" is
// the driver as it is (each page's listing starts after its cursor's key); "from-start"
// lists from the start of the prefix on every page, as the driver did before, only for
// 10,000 records (at 100,000 it would list ~50 million keys):
//
//	go test ./runtime/backends/s3 -run '^$' -bench 'PageWalk/n10000$' -benchtime=1x
//	go test ./runtime/backends/s3 -run '^$' -bench 'PageWalk/n100000$' -benchtime=1x -timeout 60m
func BenchmarkPageWalk(b *testing.B) {
	const size = 100
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("n%d", n), func(b *testing.B) {
			ctx := context.Background()
			cfg := testConfig(b)
			m := pool.New(pool.Options{KeepIdle: true})
			b.Cleanup(func() { _ = m.CloseAll(context.Background()) })
			cfg.Prefix = freshPrefix(b, m, cfg)
			open := func(fromStart bool) (*s3.Driver[things.Thing], *repo.Collection[things.Thing]) {
				d, err := s3.New(ctx, m, cfg, things.ThingSchema, s3.WithConcurrency(16), s3.WithCache(0))
				if err != nil {
					b.Fatal(err)
				}
				if fromStart {
					s3.ListFromStartForTest(d)
				}
				r := repo.New(things.ThingSchema, d)
				b.Cleanup(func() { _ = r.Close() })
				return d, r
			}
			_, loader := open(false)
			start := time.Now()
			recs := someThings(n, "p")
			for lo := 0; lo < n; lo += 1000 {
				res, err := loader.CreateBatch(ctx, recs[lo:lo+1000])
				if err != nil {
					b.Fatal(err)
				}
				for _, x := range res {
					if x.Err != nil {
						b.Fatal(x.Err)
					}
				}
			}
			b.Logf("loaded %d records in %s", n, time.Since(start).Round(time.Second))
			// Delete them with DeleteWhere's path before the prefix's own cleanup, whose
			// deadline is too short for one object at a time.
			b.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				defer cancel()
				if _, err := loader.Driver().(*s3.Driver[things.Thing]).DeleteMatching(ctx, query.All()); err != nil {
					b.Error(err)
				}
			})
			modes := []bool{false}
			if n <= 10000 {
				modes = append(modes, true)
			}
			for range b.N {
				for _, fromStart := range modes {
					d, r := open(fromStart)
					lists := countLists(d)
					start := time.Now()
					pages, got, cursor := 0, 0, ""
					for {
						p, err := r.Page(ctx, things.ThingQuery().Limit(size), cursor)
						if err != nil {
							b.Fatal(err)
						}
						pages++
						got += len(p.Items)
						if cursor = p.Next; cursor == "" {
							break
						}
					}
					took := time.Since(start)
					if got != n {
						b.Fatalf("walked %d records, want %d", got, n)
					}
					name := "resume"
					if fromStart {
						name = "from-start"
					}
					fmt.Printf("page walk of %d records in pages of %d (%s): %d pages, %d LIST requests (goal n/1000 + pages = %d), %s\n",
						n, size, name, pages, lists.Load(), n/1000+pages, took.Round(time.Millisecond))
					b.ReportMetric(float64(lists.Load()), "lists-"+name)
				}
			}
		})
	}
}
