package telemetry

import (
	"net"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Describe names the client span of an HTTP request and gives its attributes beyond the
// method, server address and status, which the transport sets itself. It must not return
// the URL's path or query when they can hold record ids or values.
type Describe func(req *http.Request) (name string, attrs []attribute.KeyValue)

// Transport returns base wrapped so that every request is a client span of the tracer of
// tp (nil: otel's global provider), a child of the span in the request's context, with the
// trace context propagated in its headers (W3C traceparent). Unlike otelhttp it records
// neither url.full nor the path (which carry record ids, and the userinfo of a URL would
// carry a password), and never an error's text. With tracing off for good (a no-op
// provider) it returns base itself.
func Transport(base http.RoundTripper, tp trace.TracerProvider, describe Describe) http.RoundTripper {
	t := NewTracer(tp)
	if t == (Tracer{}) {
		return base
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, t: t, describe: describe}
}

type transport struct {
	base     http.RoundTripper
	t        Tracer
	describe Describe
}

var propagator = propagation.TraceContext{}

// RoundTrip implements http.RoundTripper.
func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !tr.t.On() {
		return tr.base.RoundTrip(req)
	}
	name, attrs := tr.describe(req)
	attrs = append(attrs, semconv.HTTPRequestMethodKey.String(req.Method))
	if host, port, err := net.SplitHostPort(req.URL.Host); err == nil {
		attrs = append(attrs, semconv.ServerAddressKey.String(host))
		if p, err := strconv.Atoi(port); err == nil {
			attrs = append(attrs, semconv.ServerPortKey.Int(p))
		}
	} else {
		attrs = append(attrs, semconv.ServerAddressKey.String(req.URL.Host))
	}
	ctx, span := tr.t.Start(req.Context(), name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	defer span.End()
	req = req.Clone(ctx)
	propagator.Inject(ctx, propagationHeader(req.Header))
	res, err := tr.base.RoundTrip(req)
	if err != nil {
		et := "_OTHER"
		if ctx.Err() != nil {
			et = "canceled"
		}
		span.SetAttributes(semconv.ErrorTypeKey.String(et))
		span.SetStatus(codes.Error, et)
		return res, err
	}
	span.SetAttributes(semconv.HTTPResponseStatusCodeKey.Int(res.StatusCode))
	if res.StatusCode >= 400 {
		et := strconv.Itoa(res.StatusCode)
		span.SetAttributes(semconv.ErrorTypeKey.String(et))
		span.SetStatus(codes.Error, et)
	}
	return res, nil
}

// propagationHeader adapts an http.Header to a propagation.TextMapCarrier.
type propagationHeader http.Header

func (h propagationHeader) Get(key string) string { return http.Header(h).Get(key) }

func (h propagationHeader) Set(key, value string) { http.Header(h).Set(key, value) }

func (h propagationHeader) Keys() []string {
	out := make([]string, 0, len(h))
	for k := range h {
		out = append(out, k)
	}
	return out
}
