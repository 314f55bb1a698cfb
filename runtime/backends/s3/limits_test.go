package s3_test

import (
	"context"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/pool"
)

func TestLimits(t *testing.T) {
	cfg := testConfig(t)
	m := pool.New(pool.Options{KeepIdle: true})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	drivertest.RunLimitTests(t, drivertest.On(harness{m: m, cfg: cfg}))
}

// TestLegacyLongStrings: records stored before the string limit, with longer strings (written
// here by the driver, below the portable checks), stay readable
// (drivertest.CheckLegacyLongStrings).
func TestLegacyLongStrings(t *testing.T) {
	cfg := testConfig(t)
	m := pool.New(pool.Options{KeepIdle: true})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	cfg.Prefix = freshPrefix(t, m, cfg)
	d, err := s3.New(context.Background(), m, cfg, things.ThingSchema)
	if err != nil {
		t.Fatal(err)
	}
	drivertest.CheckLegacyLongStrings(t, d)
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
	drivertest.RunDifferentialTests(t, drivertest.On(harness{m: m, cfg: cfg}), diffBudget)
}
