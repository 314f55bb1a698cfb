package postgres_test

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
	modes := []struct {
		name string
		opts pool.Options
	}{
		{"off", pool.Options{TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider()}},
		{"default", pool.Options{}},
		{"on", pool.Options{TracerProvider: sdktrace.NewTracerProvider(),
			MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))}},
	}
	F := things.ThingFields
	q := things.ThingQuery().Where(F.Count.EQ(7)).Limit(10)
	var gets, finds []drivertest.Contender
	for _, md := range modes {
		ctx := context.Background()
		md.opts.KeepIdle = true
		m := pool.New(md.opts)
		b.Cleanup(func() { _ = m.CloseAll(context.Background()) })
		d, err := postgres.New(ctx, m, cfg, things.ThingSchema, postgres.WithTable(tableName(b, m, cfg, "bench_tracing")))
		if err != nil {
			b.Fatal(err)
		}
		r := repo.New(things.ThingSchema, d)
		recs := make([]things.Thing, 1000)
		for i := range recs {
			recs[i] = things.Thing{ID: fmt.Sprintf("p%04d", i), Name: "n", Count: int64(i % 100), Created: time.Unix(0, 0).UTC()}
		}
		if _, err := r.CreateBatch(ctx, recs); err != nil {
			b.Fatal(err)
		}
		gets = append(gets, drivertest.Contender{Name: md.name, Call: func() error {
			_, err := r.Get(ctx, "p0042")
			return err
		}})
		finds = append(finds, drivertest.Contender{Name: md.name, Call: func() error {
			_, err := r.Find(ctx, q)
			return err
		}})
	}
	b.Run("Get", func(b *testing.B) { drivertest.BenchInterleaved(b, 5, gets...) })
	b.Run("Find", func(b *testing.B) { drivertest.BenchInterleaved(b, 5, finds...) })
}
