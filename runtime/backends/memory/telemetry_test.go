package memory_test

import (
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/open"
	"github.com/repokit/repokit/runtime/repo"
)

// TestTelemetry runs the conformance suite with an in-memory span recorder and a manual
// metric reader given to every repository, then the telemetry suite.
func TestTelemetry(t *testing.T) {
	tl := drivertest.NewTelemetry("memory", false)
	h := drivertest.On(harness{opts: []open.Option{repo.WithTracerProvider(tl.TP), repo.WithMeterProvider(tl.MP)}})
	t.Run("Conformance", func(t *testing.T) { drivertest.RunConformanceTests(t, h) })
	drivertest.RunTelemetryTests(t, h, tl)
}
