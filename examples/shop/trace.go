package main

import (
	"context"
	"io"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// startTracing installs, as otel's global tracer provider, an SDK provider that writes
// every span to w as it ends (OpenTelemetry's stdout exporter, one JSON object per span).
// repokit uses the global providers unless pool.Options or repo options name others, so
// nothing else needs to change. The returned function flushes and shuts the provider down.
func startTracing(w io.Writer) (func(context.Context) error, error) {
	exp, err := stdouttrace.New(stdouttrace.WithWriter(w))
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}
