package elasticsearch_test

import (
	"context"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/pool"
)

// TestTelemetry runs the conformance suite on a manager with an in-memory span recorder and
// a manual metric reader, then the telemetry suite (HTTP request spans as children).
func TestTelemetry(t *testing.T) {
	servicetest.ElasticsearchURL(t)
	tl := drivertest.NewTelemetry("elasticsearch", true)
	m := pool.New(tl.Options(pool.Options{IdleGrace: time.Minute}))
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	h := harness{m: m}
	t.Run("Conformance", func(t *testing.T) { drivertest.RunConformanceTests(t, h) })
	drivertest.RunTelemetryTests(t, h, tl)
}
