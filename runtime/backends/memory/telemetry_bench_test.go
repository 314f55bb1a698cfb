package memory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/memory"
	"github.com/repokit/repokit/runtime/repo"
)

// telemetryModes are the instrumentation settings the tracing benchmarks and the
// allocation test compare: off (no-op providers), the default (otel's global providers,
// never set in this test binary), an SDK that samples nothing, and an SDK that records
// every span and measurement (no exporter).
func telemetryModes() []struct {
	name string
	opts []repo.Option
} {
	return []struct {
		name string
		opts []repo.Option
	}{
		{"off", []repo.Option{repo.WithTracerProvider(tracenoop.NewTracerProvider()), repo.WithMeterProvider(metricnoop.NewMeterProvider())}},
		{"default", nil},
		{"sampled-out", []repo.Option{repo.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))),
			repo.WithMeterProvider(metricnoop.NewMeterProvider())}},
		{"on", []repo.Option{repo.WithTracerProvider(sdktrace.NewTracerProvider()),
			repo.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())))}},
	}
}

// telemetryRepo returns a memory repository of 1,000 records with opts.
func telemetryRepo(tb testing.TB, opts ...repo.Option) *repo.Collection[things.Thing] {
	r := repo.New(things.ThingSchema, memory.New(things.ThingSchema), opts...)
	recs := make([]things.Thing, 1000)
	for i := range recs {
		recs[i] = things.Thing{ID: fmt.Sprintf("p%04d", i), Name: "n", Count: int64(i % 100), Created: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	}
	if _, err := r.CreateBatch(context.Background(), recs); err != nil {
		tb.Fatal(err)
	}
	return r
}

// BenchmarkTracing measures Get and Find (a filter, 10 records) on the memory backend, the
// case where instrumentation weighs most, under each telemetry mode.
func BenchmarkTracing(b *testing.B) {
	F := things.ThingFields
	q := things.ThingQuery().Where(F.Count.EQ(7)).Limit(10)
	for _, m := range telemetryModes() {
		r := telemetryRepo(b, m.opts...)
		ctx := context.Background()
		b.Run("Get/"+m.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Get(ctx, "p0042"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("Find/"+m.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Find(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTracingInterleaved runs Get and Find under every telemetry mode side by side
// (drivertest.BenchInterleaved): the "<mode>/off" metrics are the ratios.
func BenchmarkTracingInterleaved(b *testing.B) {
	F := things.ThingFields
	q := things.ThingQuery().Where(F.Count.EQ(7)).Limit(10)
	ctx := context.Background()
	var gets, finds []drivertest.Contender
	for _, m := range telemetryModes() {
		r := telemetryRepo(b, m.opts...)
		gets = append(gets, drivertest.Contender{Name: m.name, Call: func() error {
			_, err := r.Get(ctx, "p0042")
			return err
		}})
		finds = append(finds, drivertest.Contender{Name: m.name, Call: func() error {
			_, err := r.Find(ctx, q)
			return err
		}})
	}
	b.Run("Get", func(b *testing.B) { drivertest.BenchInterleaved(b, 100, gets...) })
	b.Run("Find", func(b *testing.B) { drivertest.BenchInterleaved(b, 10, finds...) })
}

// TestTelemetryOffAllocates checks that instrumentation that is off (no-op providers, or
// otel's global providers never set) adds no allocation to a call: Collection.Get allocates
// exactly what the driver's Get does.
func TestTelemetryOffAllocates(t *testing.T) {
	ctx := context.Background()
	for _, m := range telemetryModes()[:2] {
		r := telemetryRepo(t, m.opts...)
		drv := r.Driver()
		direct := testing.AllocsPerRun(200, func() { _, _ = drv.Get(ctx, "p0042") })
		got := testing.AllocsPerRun(200, func() { _, _ = r.Get(ctx, "p0042") })
		if got != direct {
			t.Errorf("%s: Collection.Get allocates %v times, the driver's Get %v", m.name, got, direct)
		}
	}
}
