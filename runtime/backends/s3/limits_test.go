package s3_test

import (
	"context"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

func (h harness) MakeLimited(ctx context.Context, t *testing.T) (repo.Repository[drivertest.Limited], error) {
	return makeRepo(ctx, t, h, drivertest.LimitedSchema)
}

func TestLimits(t *testing.T) {
	cfg := testConfig(t)
	m := pool.New(pool.Options{KeepIdle: true})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	drivertest.RunLimitTests(t, harness{m: m, cfg: cfg})
}

// diffBudget is the number of random queries TestDifferential runs in CI (a few seconds);
// -queries runs more, -seed another seed (docs/semantics.md, "The differential test").
const diffBudget = 200

// TestDifferential: random records and queries answer the same here as on the memory
// backend (drivertest.RunDifferentialTests).
func TestDifferential(t *testing.T) {
	cfg := testConfig(t)
	m := pool.New(pool.Options{KeepIdle: true})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	drivertest.RunDifferentialTests(t, harness{m: m, cfg: cfg}, diffBudget)
}
