package drivertest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/repo"
)

// TelemetryMode is one instrumentation setting the backends' tracing benchmarks compare: a
// name and the providers, nil for otel's global ones (never set in a test binary).
type TelemetryMode struct {
	Name           string
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
}

// RepoOptions returns the repo.New options that set the mode's providers (none for the
// global ones).
func (m TelemetryMode) RepoOptions() []repo.Option {
	var opts []repo.Option
	if m.TracerProvider != nil {
		opts = append(opts, repo.WithTracerProvider(m.TracerProvider))
	}
	if m.MeterProvider != nil {
		opts = append(opts, repo.WithMeterProvider(m.MeterProvider))
	}
	return opts
}

// TelemetryModes returns the modes named (every mode when none is), in this order: "off"
// (no-op providers), "default" (otel's global providers), "sampled-out" (an SDK tracer that
// samples nothing, no-op metrics) and "on" (an SDK recording every span and measurement, no
// exporter). Each call makes new SDK providers.
func TelemetryModes(names ...string) []TelemetryMode {
	all := []TelemetryMode{
		{"off", tracenoop.NewTracerProvider(), metricnoop.NewMeterProvider()},
		{"default", nil, nil},
		{"sampled-out", sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample())), metricnoop.NewMeterProvider()},
		{"on", sdktrace.NewTracerProvider(), sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))},
	}
	if len(names) == 0 {
		return all
	}
	return slices.DeleteFunc(all, func(m TelemetryMode) bool { return !slices.Contains(names, m.Name) })
}

// TracingThings returns the 1,000 records the tracing benchmarks store: ids p0000 to p0999,
// Count the id's number modulo 100 (so BenchTracingInterleaved's Find matches 10 of them).
func TracingThings() []things.Thing {
	recs := make([]things.Thing, 1000)
	for i := range recs {
		recs[i] = things.Thing{ID: fmt.Sprintf("p%04d", i), Name: "n", Count: int64(i % 100), Created: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	}
	return recs
}

// BenchTracingInterleaved times Get("p0042") and Find (Count 7, limit 10) under each of
// modes side by side (BenchInterleaved, in chunks of getChunk and findChunk calls) on the
// repositories open returns, one per mode, each holding TracingThings: the sub-benchmarks
// "Get" and "Find", whose "<mode>/<first mode>" metrics are the ratios.
func BenchTracingInterleaved(b *testing.B, getChunk, findChunk int, modes []TelemetryMode, open func(TelemetryMode) repo.Repository[things.Thing]) {
	F := things.ThingFields
	q := things.ThingQuery().Where(F.Count.EQ(7)).Limit(10)
	ctx := context.Background()
	var gets, finds []Contender
	for _, m := range modes {
		r := open(m)
		gets = append(gets, Contender{Name: m.Name, Call: func() error {
			_, err := r.Get(ctx, "p0042")
			return err
		}})
		finds = append(finds, Contender{Name: m.Name, Call: func() error {
			_, err := r.Find(ctx, q)
			return err
		}})
	}
	b.Run("Get", func(b *testing.B) { BenchInterleaved(b, getChunk, gets...) })
	b.Run("Find", func(b *testing.B) { BenchInterleaved(b, findChunk, finds...) })
}
