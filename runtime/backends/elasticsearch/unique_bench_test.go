package elasticsearch_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// ukeyPlain is ukeySchema without unique fields: the same documents, no reservations.
var ukeyPlain = drivertest.WithoutUnique(ukeySchema)

var benchSeq atomic.Int64

// BenchmarkUnique measures what enforcing a unique field costs: the same records (an email
// and a name; the other unique fields missing) with email unique and without (refresh=false on
// both, as in bench/elasticsearch). Run: go test -run '^$' -bench Unique -benchtime 10x.
func BenchmarkUnique(b *testing.B) {
	type side struct {
		name string
		r    *repo.Collection[ukey]
		last ukey
	}
	var sides []*side
	for _, s := range []struct {
		name string
		desc *record.Desc[ukey]
	}{{"plain", ukeyPlain}, {"unique", ukeySchema}} {
		cfg := testConfig(b)
		m := pool.New(pool.Options{})
		ctx := context.Background()
		index := uniqueIndex(b, "bench-"+s.name)
		r, err := elasticsearch.NewRepository(ctx, m, cfg, s.desc, elasticsearch.WithIndex(index), elasticsearch.WithRefresh(elasticsearch.RefreshFalse))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			_ = r.Close()
			deleteIndex(b, m, cfg, index)
			deleteIndex(b, m, cfg, index+elasticsearch.UniqueIndexSuffix)
			_ = m.CloseAll(ctx)
		})
		sides = append(sides, &side{name: s.name, r: r})
	}
	ctx := context.Background()
	recs := func(n int) []ukey {
		out := make([]ukey, n)
		for i := range out {
			out[i] = customer(fmt.Sprintf("bench%d@example.com", benchSeq.Add(1)), "bench")
		}
		return out
	}
	ops := []struct {
		name string
		run  func(b *testing.B, s *side)
	}{
		{"CreateBatch1000", func(b *testing.B, s *side) {
			for b.Loop() {
				b.StopTimer()
				batch := recs(1000)
				b.StartTimer()
				res, err := s.r.CreateBatch(ctx, batch)
				if err != nil {
					b.Fatal(err)
				}
				for _, x := range res {
					if x.Err != nil {
						b.Fatal(x.Err)
					}
				}
			}
		}},
		{"Create", func(b *testing.B, s *side) {
			for b.Loop() {
				var err error
				if s.last, err = s.r.Create(ctx, recs(1)[0]); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"UpdateEmail", func(b *testing.B, s *side) {
			for b.Loop() {
				var err error
				s.last.Email = recs(1)[0].Email
				if s.last, err = s.r.Update(ctx, s.last, repo.IfVersion(s.last.RecordVersion)); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"UpdateName", func(b *testing.B, s *side) {
			for b.Loop() {
				var err error
				s.last.Name = time.Now().String()
				if s.last, err = s.r.Update(ctx, s.last, repo.IfVersion(s.last.RecordVersion)); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"Delete", func(b *testing.B, s *side) {
			for b.Loop() {
				b.StopTimer()
				rec, err := s.r.Create(ctx, recs(1)[0])
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := s.r.Delete(ctx, rec.ID); err != nil {
					b.Fatal(err)
				}
			}
		}},
	}
	for _, op := range ops {
		for _, s := range sides {
			b.Run(op.name+"/"+s.name, func(b *testing.B) {
				b.ReportAllocs()
				op.run(b, s)
			})
		}
	}
}
