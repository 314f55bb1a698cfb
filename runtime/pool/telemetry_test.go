package pool

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// poolMetrics collects the pool metrics of backend "test" from rd.
func poolMetrics(t *testing.T, rd *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := rd.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	want := attribute.NewSet(AttrBackend.String("test"))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			var dps []metricdata.DataPoint[int64]
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				dps = d.DataPoints
			case metricdata.Sum[int64]:
				dps = d.DataPoints
			}
			for _, dp := range dps {
				if dp.Attributes.Equals(&want) {
					out[m.Name] = dp.Value
				}
			}
		}
	}
	return out
}

// TestPoolMetrics drives a pool through create, validate, a failed validation with its
// recreation, and close, and reads the observable instruments after each step.
func TestPoolMetrics(t *testing.T) {
	rd := sdkmetric.NewManualReader()
	m := New(Options{MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(rd)), TracerProvider: tracenoop.NewTracerProvider()})
	var invalid atomic.Bool
	var fromCtx atomic.Pointer[Manager]
	r := &recorder{
		validateErr: func(*fakePool) error {
			if invalid.Load() {
				return errors.New("broken")
			}
			return nil
		},
		onCreate: func(ctx context.Context, _ int64) { fromCtx.Store(ManagerFrom(ctx)) },
	}
	cfg := testConfig{name: "a", password: "pw"}
	ctx := context.Background()
	get := func() Lease[*fakePool] {
		t.Helper()
		l, err := Get(ctx, m, cfg, r.hooks())
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	l1 := get()
	if fromCtx.Load() != m {
		t.Errorf("ManagerFrom in Create = %p, want the manager %p", fromCtx.Load(), m)
	}
	l1.ReportBroken(errors.New("x"))
	l2 := get() // validates: valid
	invalid.Store(true)
	l2.ReportBroken(errors.New("x"))
	l3 := get() // validates: invalid, recreated
	steps := []struct {
		name string
		do   func()
		want map[string]int64
	}{
		{"after recreate", func() {}, map[string]int64{
			MetricPoolsOpen: 1, MetricLeasesHeld: 1, MetricCreates: 2, MetricCreateFailures: 0,
			MetricValidations: 1, MetricValidationFailures: 1, MetricRecreations: 1, MetricCloses: 0,
		}},
		{"after the old pool's last release", func() { l1.Release(); l2.Release() }, map[string]int64{
			MetricPoolsOpen: 1, MetricLeasesHeld: 1, MetricCloses: 1,
		}},
		{"after the last release", func() { l3.Release() }, map[string]int64{
			MetricPoolsOpen: 0, MetricLeasesHeld: 0, MetricCreates: 2, MetricCloses: 2,
		}},
	}
	for _, s := range steps {
		s.do()
		got := poolMetrics(t, rd)
		for k, v := range s.want {
			if g, ok := got[k]; !ok || g != v {
				t.Errorf("%s: %s = %d (reported: %v), want %d", s.name, k, g, ok, v)
			}
		}
	}
	if err := m.CloseAll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := poolMetrics(t, rd); len(got) != 0 {
		t.Errorf("after CloseAll the callback still reports %v", got)
	}
}

// TestPoolMetricsOff checks that a Manager with a no-op meter provider registers nothing.
func TestPoolMetricsOff(t *testing.T) {
	m := New(Options{MeterProvider: metricnoop.NewMeterProvider()})
	defer m.CloseAll(context.Background())
	if m.metricsReg != nil {
		t.Error("a no-op meter provider got a callback registered")
	}
}
