package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/repokit/repokit/runtime/internal/telemetry"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// Telemetry implements repo.TelemetryDriver: db.system.name "postgresql", the table, and
// the providers of the pool.Manager the pool came from (otel's global ones for NewWithDB).
func (d *Driver[T]) Telemetry() repo.Telemetry {
	t := repo.Telemetry{System: "postgresql", Collection: d.table}
	t.TracerProvider, t.MeterProvider = d.lease.Manager().Providers()
	return t
}

// instrument sets pc's tracer to a pgx.QueryTracer (and BatchTracer and CopyFromTracer) on
// the tracer provider of the Manager creating the pool (see pool.ManagerFrom), unless
// tracing is off for good or pc already has a tracer. Its spans are children of the
// repository call's span: one per statement, batch or COPY, with the SQL text (always
// parameterized: values travel as arguments, which are never recorded), the server and the
// SQLSTATE of a failure, never an error's text (a constraint violation's text quotes the
// offending value).
func instrument(ctx context.Context, pc *pgxpool.Config) {
	if pc.ConnConfig.Tracer != nil {
		return
	}
	tp, _ := pool.ManagerFrom(ctx).Providers()
	t := telemetry.NewTracer(tp)
	if t == (telemetry.Tracer{}) {
		return
	}
	base := []attribute.KeyValue{semconv.DBSystemNamePostgreSQL, semconv.DBNamespaceKey.String(pc.ConnConfig.Database),
		semconv.ServerAddressKey.String(pc.ConnConfig.Host), semconv.ServerPortKey.Int(int(pc.ConnConfig.Port))}
	pc.ConnConfig.Tracer = &queryTracer{t: t, base: base}
}

// queryTracer traces pgx statements, batches and COPYs as client spans.
type queryTracer struct {
	t    telemetry.Tracer
	base []attribute.KeyValue
}

var (
	_ pgx.QueryTracer    = (*queryTracer)(nil)
	_ pgx.BatchTracer    = (*queryTracer)(nil)
	_ pgx.CopyFromTracer = (*queryTracer)(nil)
)

// spanKey marks the span a queryTracer started in the context it returned, so that its end
// never ends a parent span.
type spanKey struct{}

func (q *queryTracer) start(ctx context.Context, name string, extra ...attribute.KeyValue) context.Context {
	if !q.t.On() {
		return ctx
	}
	attrs := make([]attribute.KeyValue, 0, len(q.base)+len(extra))
	attrs = append(append(attrs, q.base...), extra...)
	ctx, span := q.t.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return context.WithValue(ctx, spanKey{}, span)
}

func (q *queryTracer) end(ctx context.Context, err error, rows int64, hasRows bool) {
	span, ok := ctx.Value(spanKey{}).(trace.Span)
	if !ok {
		return
	}
	if hasRows {
		span.SetAttributes(semconv.DBResponseReturnedRowsKey.Int64(rows))
	}
	if err != nil {
		et := "_OTHER"
		var pe *pgconn.PgError
		switch {
		case errors.As(err, &pe):
			et = pe.Code
			span.SetAttributes(semconv.DBResponseStatusCodeKey.String(pe.Code))
		case errors.Is(err, context.Canceled):
			et = "canceled"
		case errors.Is(err, context.DeadlineExceeded):
			et = "deadline_exceeded"
		}
		span.SetAttributes(semconv.ErrorTypeKey.String(et))
		span.SetStatus(codes.Error, et)
	}
	span.End()
}

// verb returns the SQL statement's first keyword, upper case ("SELECT", "INSERT", ...),
// after the leading comment lines (sqlc's "-- name: GetProduct :one").
func verb(sql string) string {
	sql = strings.TrimSpace(sql)
	for strings.HasPrefix(sql, "--") {
		_, rest, ok := strings.Cut(sql, "\n")
		if !ok {
			return ""
		}
		sql = strings.TrimSpace(rest)
	}
	if i := strings.IndexAny(sql, " \t\n("); i > 0 {
		sql = sql[:i]
	}
	return strings.ToUpper(sql)
}

// TraceQueryStart implements pgx.QueryTracer.
func (q *queryTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if !q.t.On() {
		return ctx
	}
	v := verb(data.SQL)
	if v == "" {
		return q.start(ctx, "postgresql", semconv.DBQueryTextKey.String(data.SQL))
	}
	return q.start(ctx, v, semconv.DBOperationNameKey.String(v), semconv.DBQueryTextKey.String(data.SQL))
}

// TraceQueryEnd implements pgx.QueryTracer.
func (q *queryTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	q.end(ctx, data.Err, data.CommandTag.RowsAffected(), data.CommandTag.Select())
}

// TraceBatchStart implements pgx.BatchTracer.
func (q *queryTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	if !q.t.On() {
		return ctx
	}
	n := 0
	if data.Batch != nil {
		n = data.Batch.Len()
	}
	return q.start(ctx, "BATCH", semconv.DBOperationNameKey.String("BATCH"), semconv.DBOperationBatchSizeKey.Int(n))
}

// TraceBatchQuery implements pgx.BatchTracer: each statement of the batch is an event.
func (q *queryTracer) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	span, ok := ctx.Value(spanKey{}).(trace.Span)
	if !ok {
		return
	}
	attrs := []attribute.KeyValue{semconv.DBQueryTextKey.String(data.SQL)}
	if data.Err != nil {
		attrs = append(attrs, semconv.ErrorTypeKey.String("_OTHER"))
	}
	span.AddEvent("statement", trace.WithAttributes(attrs...))
}

// TraceBatchEnd implements pgx.BatchTracer.
func (q *queryTracer) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchEndData) {
	q.end(ctx, data.Err, 0, false)
}

// TraceCopyFromStart implements pgx.CopyFromTracer.
func (q *queryTracer) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceCopyFromStartData) context.Context {
	if !q.t.On() {
		return ctx
	}
	table := strings.Join(data.TableName, ".")
	return q.start(ctx, "COPY "+table, semconv.DBOperationNameKey.String("COPY"), semconv.DBCollectionNameKey.String(table))
}

// TraceCopyFromEnd implements pgx.CopyFromTracer.
func (q *queryTracer) TraceCopyFromEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceCopyFromEndData) {
	q.end(ctx, data.Err, 0, false)
}
