package faulttest

import (
	"context"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// RunTelemetryFault runs drivertest.RunTelemetryFaultTest on b: a repository opened through
// b's proxy with a pool manager that sends its spans and metrics to tl, and the proxy
// disabled as the fault.
func RunTelemetryFault(t *testing.T, b Backend, tl *drivertest.Telemetry) {
	m := pool.New(tl.Options(pool.Options{KeepIdle: true}))
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	if err := b.Toxi.Clean(context.Background()); err != nil {
		t.Fatal(err)
	}
	drivertest.RunTelemetryFaultTest(t, tl,
		func(ctx context.Context) (repo.Repository[things.Thing], error) { return b.Open(ctx, t, m) },
		func(ctx context.Context, cut bool) error { return b.Toxi.SetEnabled(ctx, !cut) })
}
