package elasticsearch_test

import (
	"context"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/pool"
)

// TestConformance runs the conformance suite on a manager with an in-memory span recorder
// and a manual metric reader, then the telemetry suite (HTTP request spans as children), so
// the suite holds the instrumented path and every attribute it produced is searched for
// secrets. On Elasticsearch one run of the suite takes minutes (each write waits for a
// refresh), so it runs once, instrumented; the uninstrumented path differs only in
// repo.Collection, which the memory, PostgreSQL and S3 packages run the suite through both
// ways (TestConformance and TestTelemetry).
func TestConformance(t *testing.T) {
	servicetest.ElasticsearchURL(t)
	tl := drivertest.NewTelemetry("elasticsearch", true)
	m := pool.New(tl.Options(pool.Options{IdleGrace: time.Minute}))
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	h := drivertest.On(harness{m: m})
	t.Run("Conformance", func(t *testing.T) { drivertest.RunConformanceTests(t, h) })
	drivertest.RunTelemetryTests(t, h, tl)
}
