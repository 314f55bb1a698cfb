package postgres_test

import (
	"context"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// BenchmarkTracing measures Get and Find (a filter, 10 rows) on the PostgreSQL test server
// side by side (drivertest.BenchInterleaved) with tracing and metrics off (no-op
// providers), left at otel's global providers (never set in this binary) and on (an SDK
// recording every span and measurement, no exporter): the repository span and the pgx
// statement span under it. The "<mode>/off" metrics are the ratios.
func BenchmarkTracing(b *testing.B) {
	cfg := testConfig(b)
	modes := drivertest.TelemetryModes("off", "default", "on")
	drivertest.BenchTracingInterleaved(b, 5, 5, modes, func(md drivertest.TelemetryMode) repo.Repository[things.Thing] {
		ctx := context.Background()
		m := pool.New(pool.Options{TracerProvider: md.TracerProvider, MeterProvider: md.MeterProvider, KeepIdle: true})
		b.Cleanup(func() { _ = m.CloseAll(context.Background()) })
		d, err := postgres.New(ctx, m, cfg, things.ThingSchema, postgres.WithTable(tableName(b, m, cfg, "bench_tracing")))
		if err != nil {
			b.Fatal(err)
		}
		r := repo.New(things.ThingSchema, d)
		if _, err := r.CreateBatch(ctx, drivertest.TracingThings()); err != nil {
			b.Fatal(err)
		}
		return r
	})
}
