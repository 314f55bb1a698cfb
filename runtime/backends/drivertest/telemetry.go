package drivertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// Telemetry records what a backend's repositories report to OpenTelemetry: a harness creates
// its pool.Manager with Options (the in-memory span recorder and the manual metric reader)
// and passes it to RunTelemetryTests.
type Telemetry struct {
	Spans   *tracetest.SpanRecorder
	Metrics *sdkmetric.ManualReader
	TP      *sdktrace.TracerProvider
	MP      *sdkmetric.MeterProvider
	// System is the db.system.name the backend's spans must carry.
	System string
	// DriverSpans tells whether the backend's client traces its own calls (children of
	// the repository call's span); the memory backend has none.
	DriverSpans bool
	// Secrets are strings that no span name, attribute, event or status may contain (the
	// test server's password, keys); the tests add record and query values of their own.
	Secrets []string
}

// NewTelemetry returns a Telemetry with fresh SDK providers.
func NewTelemetry(system string, driverSpans bool, secrets ...string) *Telemetry {
	rec := tracetest.NewSpanRecorder()
	rd := sdkmetric.NewManualReader()
	return &Telemetry{
		Spans: rec, Metrics: rd, System: system, DriverSpans: driverSpans, Secrets: secrets,
		TP: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)),
		MP: sdkmetric.NewMeterProvider(sdkmetric.WithReader(rd)),
	}
}

// Options returns o with the providers set.
func (tl *Telemetry) Options(o pool.Options) pool.Options {
	o.TracerProvider, o.MeterProvider = tl.TP, tl.MP
	return o
}

// secretValue is a record and query value that must never reach an attribute.
const secretValue = "tel-value-5ecret-9f31"

// RunTelemetryTests checks the spans and metrics of a backend's repositories: names,
// attributes and parents of a CreateBatch, a Get not found, a Find, a Stream broken early
// and a call failing under a fault (a cancelled context), the duration histogram and the
// pool metrics; then that no attribute of any span recorded so far (run it after
// RunConformanceTests to cover the whole suite) holds a secret or a value.
func RunTelemetryTests(t *testing.T, h Harness, tl *Telemetry) {
	t.Run("CreateBatchTree", func(t *testing.T) { testTelCreateBatch(t, h, tl) })
	t.Run("GetNotFound", func(t *testing.T) { testTelGetNotFound(t, h, tl) })
	t.Run("FindRows", func(t *testing.T) { testTelFind(t, h, tl) })
	t.Run("StreamBroken", func(t *testing.T) { testTelStreamBroken(t, h, tl) })
	t.Run("Fault", func(t *testing.T) { testTelFault(t, h, tl) })
	t.Run("Metrics", func(t *testing.T) { testTelMetrics(t, h, tl) })
	t.Run("NoSecrets", func(t *testing.T) { testTelNoSecrets(t, tl) })
}

// traced runs fn under a root span and returns the spans of its trace that ended.
func (tl *Telemetry) traced(ctx context.Context, fn func(ctx context.Context)) (root sdktrace.ReadOnlySpan, spans []sdktrace.ReadOnlySpan) {
	ctx, span := tl.TP.Tracer("drivertest").Start(ctx, "root")
	fn(ctx)
	span.End()
	tid := span.SpanContext().TraceID()
	for _, s := range tl.Spans.Ended() {
		if s.SpanContext().TraceID() != tid {
			continue
		}
		if s.SpanContext().SpanID() == span.SpanContext().SpanID() {
			root = s
			continue
		}
		spans = append(spans, s)
	}
	return root, spans
}

// callSpan returns the one span named op ... among spans whose parent is parent, failing
// the test unless there is exactly one.
func callSpan(t *testing.T, spans []sdktrace.ReadOnlySpan, parent trace.SpanID, op string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Parent().SpanID() == parent && strings.HasPrefix(s.Name(), op+" ") {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d spans named %q under the parent, want 1 (spans: %s)", len(found), op+" ...", spanNames(spans))
	}
	return found[0]
}

func spanNames(spans []sdktrace.ReadOnlySpan) string {
	var b []string
	for _, s := range spans {
		b = append(b, s.Name())
	}
	return strings.Join(b, ", ")
}

func attrOf(s sdktrace.ReadOnlySpan, k attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == k {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// checkCall checks the attributes every repository span has, and its children.
func (tl *Telemetry) checkCall(t *testing.T, s sdktrace.ReadOnlySpan, spans []sdktrace.ReadOnlySpan, op string) {
	t.Helper()
	want := map[attribute.Key]string{"db.system.name": tl.System, "db.operation.name": op, "repokit.record": "Thing"}
	for k, v := range want {
		if got, _ := attrOf(s, k); got.Emit() != v {
			t.Errorf("%s: %s = %q, want %q", s.Name(), k, got.Emit(), v)
		}
	}
	if got, _ := attrOf(s, "db.collection.name"); got.Emit() == "" || s.Name() != op+" "+got.Emit() {
		t.Errorf("span name %q, db.collection.name %q: want %q", s.Name(), got.Emit(), op+" <collection>")
	}
	if s.SpanKind() != trace.SpanKindClient {
		t.Errorf("%s: kind %v, want client", s.Name(), s.SpanKind())
	}
	children := 0
	for _, c := range spans {
		if c.Parent().SpanID() == s.SpanContext().SpanID() {
			children++
		}
	}
	if tl.DriverSpans && children == 0 {
		t.Errorf("%s: no driver span under it (spans: %s)", s.Name(), spanNames(spans))
	}
	if !tl.DriverSpans && children != 0 {
		t.Errorf("%s: %d child spans, want none", s.Name(), children)
	}
}

func testTelCreateBatch(t *testing.T, h Harness, tl *Telemetry) {
	ctx, r := makeThings(t, h)
	recs := []things.Thing{
		{ID: "b1", Name: secretValue, Created: t0},
		{ID: "b2", Name: secretValue + "-2", Created: t0},
		{ID: "b1", Name: "dup", Created: t0}, // fails: the id of an earlier record
	}
	root, spans := tl.traced(ctx, func(ctx context.Context) {
		if _, err := r.CreateBatch(ctx, recs); err != nil {
			t.Fatal(err)
		}
	})
	s := callSpan(t, spans, root.SpanContext().SpanID(), "CreateBatch")
	tl.checkCall(t, s, spans, "CreateBatch")
	if v, _ := attrOf(s, "db.operation.batch.size"); v.AsInt64() != 3 {
		t.Errorf("db.operation.batch.size = %v, want 3", v.Emit())
	}
	if v, _ := attrOf(s, repo.AttrBatchFailed); v.AsInt64() != 1 {
		t.Errorf("%s = %v, want 1", repo.AttrBatchFailed, v.Emit())
	}
	if s.Status().Code == codes.Error {
		t.Errorf("CreateBatch with a partial failure: status %v, want unset", s.Status())
	}
}

func testTelGetNotFound(t *testing.T, h Harness, tl *Telemetry) {
	ctx, r := makeThings(t, h)
	root, spans := tl.traced(ctx, func(ctx context.Context) {
		if _, err := r.Get(ctx, "missing"); !errors.Is(err, repo.ErrNotFound) {
			t.Fatalf("Get = %v, want not found", err)
		}
	})
	s := callSpan(t, spans, root.SpanContext().SpanID(), "Get")
	tl.checkCall(t, s, spans, "Get")
	if v, _ := attrOf(s, "error.type"); v.Emit() != "not_found" || s.Status().Code != codes.Error {
		t.Errorf("error.type = %q, status %v; want not_found, error", v.Emit(), s.Status())
	}
}

func testTelFind(t *testing.T, h Harness, tl *Telemetry) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, []things.Thing{{ID: "f1", Name: secretValue, Created: t0}, {ID: "f2", Name: secretValue, Created: t0}, {ID: "f3", Name: "other", Created: t0}})
	F := things.ThingFields
	root, spans := tl.traced(ctx, func(ctx context.Context) {
		got, err := r.Find(ctx, things.ThingQuery().Where(F.Name.EQ(secretValue)))
		if err != nil || len(got) != 2 {
			t.Fatalf("Find = %d records, %v; want 2", len(got), err)
		}
	})
	s := callSpan(t, spans, root.SpanContext().SpanID(), "Find")
	tl.checkCall(t, s, spans, "Find")
	if v, _ := attrOf(s, "db.response.returned_rows"); v.AsInt64() != 2 {
		t.Errorf("db.response.returned_rows = %v, want 2", v.Emit())
	}
}

func testTelStreamBroken(t *testing.T, h Harness, tl *Telemetry) {
	ctx, r := makeThings(t, h)
	hundred(t, ctx, r)
	root, spans := tl.traced(ctx, func(ctx context.Context) {
		n := 0
		for _, err := range r.Stream(ctx, things.ThingQuery()) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 3 {
				break
			}
		}
	})
	s := callSpan(t, spans, root.SpanContext().SpanID(), "Stream")
	tl.checkCall(t, s, spans, "Stream")
	if v, _ := attrOf(s, repo.AttrStreamBroken); !v.AsBool() {
		t.Errorf("%s not set on a broken stream", repo.AttrStreamBroken)
	}
	if v, _ := attrOf(s, "db.response.returned_rows"); v.AsInt64() != 3 {
		t.Errorf("db.response.returned_rows = %v, want 3", v.Emit())
	}
	for _, c := range spans {
		if c.Parent().SpanID() == s.SpanContext().SpanID() && c.EndTime().After(s.EndTime()) {
			t.Errorf("driver span %s ended after the stream's span", c.Name())
		}
	}
}

func testTelFault(t *testing.T, h Harness, tl *Telemetry) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, []things.Thing{{ID: "x1", Name: "x", Created: t0}})
	root, spans := tl.traced(ctx, func(ctx context.Context) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := r.Get(cctx, "x1"); err == nil {
			t.Fatal("Get with a cancelled context succeeded")
		}
	})
	s := callSpan(t, spans, root.SpanContext().SpanID(), "Get")
	if v, _ := attrOf(s, "error.type"); v.Emit() != "canceled" || s.Status().Code != codes.Error {
		t.Errorf("error.type = %q, status %v; want canceled, error", v.Emit(), s.Status())
	}
}

func testTelMetrics(t *testing.T, h Harness, tl *Telemetry) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, []things.Thing{{ID: "m1", Name: "m", Created: t0}})
	if _, err := r.Get(ctx, "m1"); err != nil {
		t.Fatal(err)
	}
	var rm metricdata.ResourceMetrics
	if err := tl.Metrics.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			found[m.Name] = true
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == repo.MetricOperationDuration {
				for _, dp := range h.DataPoints {
					op, _ := dp.Attributes.Value("db.operation.name")
					sys, _ := dp.Attributes.Value("db.system.name")
					if op.Emit() == "Get" && sys.Emit() == tl.System && dp.Count > 0 {
						found["Get duration"] = true
					}
				}
			}
		}
	}
	want := []string{repo.MetricOperationDuration, "Get duration"}
	if tl.DriverSpans { // a backend on a pool
		want = append(want, pool.MetricPoolsOpen, pool.MetricLeasesHeld, pool.MetricCreates)
	}
	for _, n := range want {
		if !found[n] {
			t.Errorf("no %s in the collected metrics", n)
		}
	}
}

func testTelNoSecrets(t *testing.T, tl *Telemetry) {
	needles := append([]string{secretValue}, tl.Secrets...)
	spans := tl.Spans.Ended()
	if len(spans) == 0 {
		t.Fatal("no spans recorded")
	}
	check := func(where, s string) {
		for _, n := range needles {
			if n != "" && strings.Contains(s, n) {
				t.Errorf("%s holds %q: %s", where, n, s)
			}
		}
	}
	for _, s := range spans {
		check("span name", s.Name())
		check(s.Name()+" status", s.Status().Description)
		for _, kv := range s.Attributes() {
			check(fmt.Sprintf("%s attribute %s", s.Name(), kv.Key), kv.Value.Emit())
		}
		for _, ev := range s.Events() {
			for _, kv := range ev.Attributes {
				check(fmt.Sprintf("%s event %s attribute %s", s.Name(), ev.Name, kv.Key), kv.Value.Emit())
			}
		}
	}
	t.Logf("%d spans searched", len(spans))
}
