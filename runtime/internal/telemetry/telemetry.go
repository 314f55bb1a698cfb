// Package telemetry resolves the OpenTelemetry tracer and meter providers that repokit's
// runtime packages (repo, pool and the backends) are configured with, so that each of them
// turns instrumentation off the same way: a nil provider means otel's global one, a no-op
// provider turns it off, and while the global provider has not been set (otel's default
// delegate, which drops everything) instrumentation costs one pointer comparison per call.
package telemetry

import (
	"context"
	"reflect"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the instrumentation scope of every tracer and meter repokit creates.
const ScopeName = "github.com/repokit/repokit"

// Tracer is a tracer that may be off. The zero Tracer is off.
type Tracer struct {
	t trace.Tracer
	// unset is the global provider's default delegate when t came from it: tracing stays off
	// until otel.SetTracerProvider replaces it (t then forwards to the new provider).
	unset trace.TracerProvider
}

// NewTracer returns the tracer of tp (otel's global provider when nil); a no-op provider
// gives a Tracer that is off.
func NewTracer(tp trace.TracerProvider) Tracer {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	switch tp.(type) {
	case tracenoop.TracerProvider, *tracenoop.TracerProvider:
		return Tracer{}
	}
	t := Tracer{t: tp.Tracer(ScopeName)}
	if isGlobalDelegate(tp) {
		t.unset = tp
	}
	return t
}

// On reports whether spans started now would go anywhere.
func (t Tracer) On() bool {
	return t.t != nil && (t.unset == nil || otel.GetTracerProvider() != t.unset)
}

// Start starts a span; call it only when On reports true.
func (t Tracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	return t.t.Start(ctx, name, opts...)
}

// Meter is a meter that may be off. The zero Meter is off.
type Meter struct {
	m     metric.Meter
	unset metric.MeterProvider
}

// NewMeter returns the meter of mp (otel's global provider when nil); a no-op provider gives
// a Meter that is off.
func NewMeter(mp metric.MeterProvider) Meter {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	switch mp.(type) {
	case metricnoop.MeterProvider, *metricnoop.MeterProvider:
		return Meter{}
	}
	m := Meter{m: mp.Meter(ScopeName)}
	if isGlobalDelegate(mp) {
		m.unset = mp
	}
	return m
}

// Meter returns the meter, nil when off for good (a no-op provider).
func (m Meter) Meter() metric.Meter { return m.m }

// On reports whether measurements recorded now would go anywhere.
func (m Meter) On() bool {
	return m.m != nil && (m.unset == nil || otel.GetMeterProvider() != m.unset)
}

// isGlobalDelegate reports whether p is otel's global default provider (the delegate that
// drops everything until a provider is set). otel offers no API for this; the type lives in
// go.opentelemetry.io/otel/internal/global. A provider this does not recognise counts as
// set, which only costs time.
func isGlobalDelegate(p any) bool {
	t := reflect.TypeOf(p)
	return t.Kind() == reflect.Pointer && t.Elem().PkgPath() == "go.opentelemetry.io/otel/internal/global"
}
