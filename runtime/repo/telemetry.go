package repo

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/repokit/repokit/runtime/internal/telemetry"
)

// Telemetry describes a Collection's store for its OpenTelemetry spans and metrics, and
// carries the providers they go to. A driver that implements TelemetryDriver supplies it
// (the backends take the providers from their pool.Manager's Options); New's options
// override it.
type Telemetry struct {
	// System is the db.system.name attribute: "postgresql", "elasticsearch", "aws.s3",
	// "memory". "" means "other".
	System string
	// Collection is the db.collection.name attribute: the table, index or key prefix. ""
	// means the record's name.
	Collection string
	// TracerProvider receives the spans; nil means otel's global provider. A no-op provider
	// (go.opentelemetry.io/otel/trace/noop) turns tracing off.
	TracerProvider trace.TracerProvider
	// MeterProvider receives the metrics; nil means otel's global provider. A no-op provider
	// (go.opentelemetry.io/otel/metric/noop) turns metrics off.
	MeterProvider metric.MeterProvider
}

// TelemetryDriver is implemented by drivers that describe their store to the Collection's
// instrumentation (every backend of this module does).
type TelemetryDriver interface {
	// Telemetry returns the driver's description and providers.
	Telemetry() Telemetry
}

// WithTracerProvider sends the Collection's spans to tp instead of the driver's (its pool
// manager's) or the global provider; a no-op provider turns its tracing off.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) error { o.tracerProvider = tp; return nil }
}

// WithMeterProvider sends the Collection's metrics to mp instead of the driver's (its pool
// manager's) or the global provider; a no-op provider turns its metrics off.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) error { o.meterProvider = mp; return nil }
}

// telemetry returns what the Collection's instrumentation uses: the driver's description
// and providers, with the providers of o where set.
func (o *options) telemetry(drv any) Telemetry {
	var t Telemetry
	if td, ok := drv.(TelemetryDriver); ok {
		t = td.Telemetry()
	}
	if o.tracerProvider != nil {
		t.TracerProvider = o.tracerProvider
	}
	if o.meterProvider != nil {
		t.MeterProvider = o.meterProvider
	}
	return t
}

// Metric and attribute names beyond the semantic conventions' own.
const (
	// MetricOperationDuration is the histogram of every repository call's duration, in
	// seconds (the semantic conventions' db.client.operation.duration).
	MetricOperationDuration = "db.client.operation.duration"
	// AttrRecord is the record type's name, e.g. "Product".
	AttrRecord = attribute.Key("repokit.record")
	// AttrBatchFailed is the number of records of a batch call (CreateBatch, GetBatch,
	// UpsertBatch, UpdateBatch, DeleteBatch, StreamWrite, StreamTransform) that failed.
	AttrBatchFailed = attribute.Key("repokit.batch.failed")
	// AttrDeleted is the number of records a DeleteWhere or StreamTransform removed.
	AttrDeleted = attribute.Key("repokit.deleted")
	// AttrStreamBroken is set on a Stream's span when the caller stopped reading early.
	AttrStreamBroken = attribute.Key("repokit.stream.broken")
)

// opKind indexes the Repository methods that make a call to the store.
type opKind uint8

const (
	opCreate opKind = iota
	opCreateBatch
	opGet
	opUpdate
	opUpsert
	opDelete
	opExists
	opFind
	opCount
	opStream
	opPage
	opGetBatch
	opUpsertBatch
	opUpdateBatch
	opDeleteBatch
	opDeleteWhere
	opStreamWrite
	opStreamTransform
	opAggregate
	numOps
)

var opNames = [numOps]string{"Create", "CreateBatch", "Get", "Update", "Upsert", "Delete", "Exists", "Find", "Count", "Stream", "Page",
	"GetBatch", "UpsertBatch", "UpdateBatch", "DeleteBatch", "DeleteWhere", "StreamWrite", "StreamTransform", "Aggregate"}

// durationBuckets are the semantic conventions' advised boundaries for
// db.client.operation.duration.
var durationBuckets = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}

// observer holds a Collection's instruments. A nil *observer is off.
type observer struct {
	tracer telemetry.Tracer
	meter  telemetry.Meter
	hist   metric.Float64Histogram // nil when metrics are off for good
	names  [numOps]string
	attrs  [numOps][]attribute.KeyValue
	sets   [numOps]attribute.Set
}

func newObserver(record string, t Telemetry) *observer {
	o := &observer{tracer: telemetry.NewTracer(t.TracerProvider), meter: telemetry.NewMeter(t.MeterProvider)}
	if m := o.meter.Meter(); m != nil {
		h, err := m.Float64Histogram(MetricOperationDuration, metric.WithUnit("s"),
			metric.WithDescription("Duration of repokit repository calls."),
			metric.WithExplicitBucketBoundaries(durationBuckets...))
		if err == nil {
			o.hist = h
		}
	}
	if o.hist == nil && o.tracer == (telemetry.Tracer{}) {
		return nil
	}
	sys := t.System
	if sys == "" {
		sys = "other"
	}
	coll := t.Collection
	if coll == "" {
		coll = record
	}
	for op := range numOps {
		o.names[op] = opNames[op] + " " + coll
		o.attrs[op] = []attribute.KeyValue{
			semconv.DBSystemNameKey.String(sys), semconv.DBCollectionNameKey.String(coll),
			semconv.DBOperationNameKey.String(opNames[op]), AttrRecord.String(record),
		}
		o.sets[op] = attribute.NewSet(o.attrs[op]...)
	}
	return o
}

// call is one instrumented repository call; the zero call records nothing.
type call struct {
	o     *observer
	span  trace.Span
	start time.Time
	op    opKind
}

// begin starts the span and the clock of a call to op, when they are on. When both are off
// it costs a nil check (or, under otel's unset global providers, two pointer comparisons);
// it is small enough to be inlined.
func (c *Collection[T]) begin(ctx context.Context, op opKind) (context.Context, call) {
	if c.obs == nil {
		return ctx, call{}
	}
	return c.obs.begin(ctx, op)
}

// idle reports whether a call started now would record nothing (o nil, no-op providers, or
// otel's global providers not set yet).
func (o *observer) idle() bool {
	return o == nil || (!o.tracer.On() && (o.hist == nil || !o.meter.On()))
}

func (o *observer) begin(ctx context.Context, op opKind) (context.Context, call) {
	cl := call{o: o, op: op}
	if o.tracer.On() {
		ctx, cl.span = o.tracer.Start(ctx, o.names[op], trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(o.attrs[op]...))
	}
	if o.hist != nil && o.meter.On() {
		cl.start = time.Now()
	}
	if cl.span == nil && cl.start.IsZero() {
		return ctx, call{}
	}
	return ctx, cl
}

// set adds attributes to the span, when there is one.
func (cl *call) set(kv ...attribute.KeyValue) {
	if cl.span != nil {
		cl.span.SetAttributes(kv...)
	}
}

// rows sets db.response.returned_rows; it is small enough to be inlined.
func (cl *call) rows(n int) {
	if cl.span != nil {
		cl.setRows(n)
	}
}

func (cl *call) setRows(n int) { cl.span.SetAttributes(semconv.DBResponseReturnedRowsKey.Int(n)) }

// end ends the call (see finish); it is small enough to be inlined.
func (cl *call) end(ctx context.Context, err error) {
	if cl.o != nil {
		cl.finish(ctx, err)
	}
}

// finish ends the span, giving it err's kind as error.type and an error status (never the
// error's text, which may quote an id), and records the duration.
func (cl *call) finish(ctx context.Context, err error) {
	var et string
	if err != nil {
		et = ErrorType(err)
	}
	if cl.span != nil {
		if err != nil {
			cl.span.SetAttributes(semconv.ErrorTypeKey.String(et))
			cl.span.SetStatus(codes.Error, et)
		}
		cl.span.End()
	}
	if !cl.start.IsZero() {
		d := time.Since(cl.start).Seconds()
		if err == nil {
			cl.o.hist.Record(ctx, d, metric.WithAttributeSet(cl.o.sets[cl.op]))
		} else {
			cl.o.hist.Record(ctx, d, metric.WithAttributeSet(cl.o.sets[cl.op]),
				metric.WithAttributes(semconv.ErrorTypeKey.String(et)))
		}
	}
}

// ErrorType returns the error.type attribute value for an error a repository returned: its
// kind in snake case ("not_found", "already_exists", "version_conflict", "invalid_input",
// "unavailable", "closed", "schema_behind"), "canceled" or "deadline_exceeded" for context
// errors, and "_OTHER" otherwise. It never contains the error's text.
func ErrorType(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrAlreadyExists):
		return "already_exists"
	case errors.Is(err, ErrVersionConflict):
		return "version_conflict"
	case errors.Is(err, ErrInvalidInput):
		return "invalid_input"
	case errors.Is(err, ErrUnavailable):
		return "unavailable"
	case errors.Is(err, ErrClosed):
		return "closed"
	case errors.Is(err, ErrSchemaBehind):
		return "schema_behind"
	case errors.Is(err, ErrSchemaAhead):
		return "schema_ahead"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline_exceeded"
	}
	return "_OTHER"
}
