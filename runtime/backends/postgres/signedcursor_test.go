package postgres_test

import (
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest"
)

// TestSignedCursors runs the conformance suite's signed-cursor topic (repo.WithCursorKey).
func TestSignedCursors(t *testing.T) {
	drivertest.RunSignedCursorTests(t, drivertest.On(newHarness(t)))
}
