package telemetry

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// TestGlobalDelegate checks the default: a tracer and meter taken from otel's global
// providers before any is set are off (and cost a comparison), and turn on, forwarding to
// the provider, once otel.SetTracerProvider / SetMeterProvider run. It sets the globals, so
// it is the only test of this package that uses them.
func TestGlobalDelegate(t *testing.T) {
	tr, mt := NewTracer(nil), NewMeter(nil)
	if tr.On() || mt.On() {
		t.Fatalf("before the global providers are set: tracer on %v, meter on %v; want off", tr.On(), mt.On())
	}
	if tr.unset == nil || mt.unset == nil {
		t.Fatal("otel's global delegate was not recognised (its package path changed?)")
	}
	rec := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	otel.SetMeterProvider(sdkmetric.NewMeterProvider())
	if !tr.On() || !mt.On() {
		t.Fatalf("after the global providers are set: tracer on %v, meter on %v; want on", tr.On(), mt.On())
	}
	_, span := tr.Start(context.Background(), "x")
	span.End()
	if n := len(rec.Ended()); n != 1 {
		t.Errorf("%d spans reached the provider set later, want 1", n)
	}
	if NewTracer(nil).unset != nil {
		t.Error("the provider set globally counts as unset")
	}
}

// TestNoop checks that no-op providers give instruments that are off for good.
func TestNoop(t *testing.T) {
	for _, tc := range []struct {
		name string
		off  bool
	}{
		{"tracer", NewTracer(tracenoop.NewTracerProvider()) == (Tracer{})},
		{"meter", NewMeter(metricnoop.NewMeterProvider()) == (Meter{})},
	} {
		if !tc.off {
			t.Errorf("%s of a no-op provider is not the zero value", tc.name)
		}
	}
}
