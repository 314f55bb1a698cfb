package memory_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/memory"
	"github.com/repokit/repokit/runtime/repo"
)

const benchN = 100_000

// benchThings returns benchN records: ratio (the "price") uniform in [0, 1000), zero to
// three tags out of twenty, and the other fields filled like real data.
func benchThings() []things.Thing {
	rng := rand.New(rand.NewPCG(42, 42))
	tags := make([]string, 20)
	for i := range tags {
		tags[i] = fmt.Sprintf("t%d", i)
	}
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]things.Thing, benchN)
	for i := range out {
		r := things.Thing{
			ID:      fmt.Sprintf("p%06d", i),
			Name:    fmt.Sprintf("product %d", i),
			Count:   int64(rng.IntN(100)),
			Ratio:   float64(rng.IntN(100_000)) / 100,
			Active:  rng.IntN(2) == 0,
			Created: created.Add(time.Duration(i) * time.Second),
		}
		for range rng.IntN(4) {
			r.Tags = append(r.Tags, tags[rng.IntN(len(tags))])
		}
		if rng.IntN(2) == 0 {
			r.Title = ptr(fmt.Sprintf("title %d", i))
		}
		out[i] = r
	}
	return out
}

func ptr[V any](v V) *V { return &v }

var (
	benchOnce sync.Once
	benchData []things.Thing
	benchRepo *repo.Collection[things.Thing]
)

func benchSetup(b *testing.B) ([]things.Thing, *repo.Collection[things.Thing]) {
	benchOnce.Do(func() {
		benchData = benchThings()
		benchRepo = repo.New(things.ThingSchema, memory.New(things.ThingSchema))
		res, err := benchRepo.CreateBatch(context.Background(), benchData)
		if err != nil {
			panic(err)
		}
		for _, r := range res {
			if r.Err != nil {
				panic(r.Err)
			}
		}
	})
	return benchData, benchRepo
}

const (
	benchLo, benchHi = 100.0, 200.0
	benchTag         = "t7"
	benchLimit       = 100
)

// BenchmarkFind100k is a selective Find on the memory backend: price range and tag,
// sorted by price descending, first 100.
func BenchmarkFind100k(b *testing.B) {
	_, r := benchSetup(b)
	F := things.ThingFields
	ctx := context.Background()
	q := things.ThingQuery().
		Where(F.Ratio.Between(benchLo, benchHi), F.Tags.Contains(benchTag)).
		OrderBy(F.Ratio.Desc()).
		Limit(benchLimit)
	b.ReportAllocs()
	b.ResetTimer()
	var got []things.Thing
	for b.Loop() {
		var err error
		got, err = r.Find(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if want := handwritten(benchData); !slices.EqualFunc(got, want, func(a, b things.Thing) bool { return a.ID == b.ID }) {
		b.Fatalf("Find and the hand-written loop disagree")
	}
}

// handwritten is what one would write by hand over a slice: filter, sort the matches,
// copy the first 100 out.
func handwritten(data []things.Thing) []things.Thing {
	var matches []*things.Thing
	for i := range data {
		r := &data[i]
		if r.Ratio >= benchLo && r.Ratio <= benchHi && slices.Contains(r.Tags, benchTag) {
			matches = append(matches, r)
		}
	}
	slices.SortFunc(matches, func(a, b *things.Thing) int {
		if c := cmp.Compare(b.Ratio, a.Ratio); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	out := make([]things.Thing, 0, benchLimit)
	for _, m := range matches[:min(benchLimit, len(matches))] {
		out = append(out, *m)
	}
	return out
}

// BenchmarkFind100kHandwritten is the baseline for BenchmarkFind100k.
func BenchmarkFind100kHandwritten(b *testing.B) {
	data, _ := benchSetup(b)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		n += len(handwritten(data))
	}
	if n == 0 {
		b.Fatal("no matches")
	}
}
