package elasticsearch_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/repo"
)

func TestLimits(t *testing.T) {
	servicetest.ElasticsearchURL(t)
	drivertest.RunLimitTests(t, drivertest.On(newHarness(t)))
}

// TestHugeOffset: an offset past the index's result window is the documented ErrInvalidInput
// also when offset + page size overflows an int (it was an HTTP 500, ErrUnavailable).
func TestHugeOffset(t *testing.T) {
	ctx := context.Background()
	r, err := drivertest.On(newHarness(t)).MakeThings(ctx, t)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, off := range []int{math.MaxInt, math.MaxInt - 50, elasticsearch.DefaultMaxResultWindow} {
		if _, err := r.Find(ctx, things.ThingQuery().Offset(off)); !errors.Is(err, repo.ErrInvalidInput) {
			t.Errorf("Find with offset %d: %v, want ErrInvalidInput", off, err)
		}
	}
}

// diffBudget is the number of random queries TestDifferential runs in CI (a few seconds);
// -queries runs more, -seed another seed (docs/semantics.md, "The differential test").
const diffBudget = 60

// TestDifferential: random records and queries answer the same here as on the memory
// backend (drivertest.RunDifferentialTests).
func TestDifferential(t *testing.T) {
	servicetest.ElasticsearchURL(t)
	drivertest.RunDifferentialTests(t, drivertest.On(newHarness(t)), diffBudget)
}
