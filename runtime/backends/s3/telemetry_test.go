package s3_test

import (
	"context"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/pool"
)

// TestTelemetry runs the conformance suite on a manager with an in-memory span recorder and
// a manual metric reader, then the telemetry suite (S3 request spans as children).
func TestTelemetry(t *testing.T) {
	cfg := testConfig(t)
	tl := drivertest.NewTelemetry(s3.System, true, cfg.AWSSecretAccessKey)
	m := pool.New(tl.Options(pool.Options{KeepIdle: true}))
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	h := drivertest.On(harness{m: m, cfg: cfg})
	t.Run("Conformance", func(t *testing.T) { drivertest.RunConformanceTests(t, h) })
	drivertest.RunTelemetryTests(t, h, tl)
}
