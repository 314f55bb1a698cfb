package memory_test

import (
	"context"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/memory"
	"github.com/repokit/repokit/runtime/repo"
)

// telemetryRepo returns a memory repository of drivertest.TracingThings with opts.
func telemetryRepo(tb testing.TB, opts ...repo.Option) *repo.Collection[things.Thing] {
	r := repo.New(things.ThingSchema, memory.New(things.ThingSchema), opts...)
	if _, err := r.CreateBatch(context.Background(), drivertest.TracingThings()); err != nil {
		tb.Fatal(err)
	}
	return r
}

// BenchmarkTracing measures Get and Find (a filter, 10 records) on the memory backend, the
// case where instrumentation weighs most, under each telemetry mode.
func BenchmarkTracing(b *testing.B) {
	F := things.ThingFields
	q := things.ThingQuery().Where(F.Count.EQ(7)).Limit(10)
	for _, m := range drivertest.TelemetryModes() {
		r := telemetryRepo(b, m.RepoOptions()...)
		ctx := context.Background()
		b.Run("Get/"+m.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Get(ctx, "p0042"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("Find/"+m.Name, func(b *testing.B) {
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
	drivertest.BenchTracingInterleaved(b, 100, 10, drivertest.TelemetryModes(), func(m drivertest.TelemetryMode) repo.Repository[things.Thing] {
		return telemetryRepo(b, m.RepoOptions()...)
	})
}

// TestTelemetryOffAllocates checks that instrumentation that is off (no-op providers, or
// otel's global providers never set) adds no allocation to a call: Collection.Get allocates
// exactly what the driver's Get does.
func TestTelemetryOffAllocates(t *testing.T) {
	ctx := context.Background()
	for _, m := range drivertest.TelemetryModes("off", "default") {
		r := telemetryRepo(t, m.RepoOptions()...)
		drv := r.Driver()
		direct := testing.AllocsPerRun(200, func() { _, _ = drv.Get(ctx, "p0042") })
		got := testing.AllocsPerRun(200, func() { _, _ = r.Get(ctx, "p0042") })
		if got != direct {
			t.Errorf("%s: Collection.Get allocates %v times, the driver's Get %v", m.Name, got, direct)
		}
	}
}
