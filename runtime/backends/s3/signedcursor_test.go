package s3_test

import (
	"context"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/pool"
)

// TestSignedCursors runs the conformance suite's signed-cursor topic (repo.WithCursorKey).
func TestSignedCursors(t *testing.T) {
	cfg := testConfig(t)
	m := pool.New(pool.Options{KeepIdle: true})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	drivertest.RunSignedCursorTests(t, drivertest.On(harness{m: m, cfg: cfg}))
}
