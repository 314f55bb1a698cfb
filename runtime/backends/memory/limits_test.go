package memory_test

import (
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/memory"
)

func TestLimits(t *testing.T) {
	drivertest.RunLimitTests(t, drivertest.On(harness{}))
}

// diffBudget is the number of random queries TestDifferential runs in CI (a few seconds);
// -queries runs more, -seed another seed (docs/semantics.md, "The differential test").
const diffBudget = 400

// TestDifferential: random records and queries answer the same here as on the memory
// backend (drivertest.RunDifferentialTests).
func TestDifferential(t *testing.T) {
	drivertest.RunDifferentialTests(t, drivertest.On(harness{}), diffBudget)
}

// TestLegacyLongStrings: records stored before the string limit, with longer strings, stay
// readable (drivertest.CheckLegacyLongStrings).
func TestLegacyLongStrings(t *testing.T) {
	drivertest.CheckLegacyLongStrings(t, memory.New(things.ThingSchema))
}
