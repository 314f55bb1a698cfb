package s3_test

import (
	"context"
	"testing"

	"github.com/repokit/repokit/internal/faulttest"
	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// faultBackend is this backend for internal/faulttest: a repository behind Toxiproxy's
// s3_fault proxy.
func faultBackend(t *testing.T) faulttest.Backend {
	direct := testConfig(t)
	cfg := servicetest.S3FaultConfig(t)
	cfg.MaxConnections = direct.MaxConnections
	m := pool.New(pool.Options{KeepIdle: true}) // direct, for the prefix's cleanup
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	cfg.Prefix = freshPrefix(t, m, direct)
	return faulttest.Backend{
		Name:    "s3",
		Package: "./runtime/backends/s3/",
		Toxi:    faulttest.Toxiproxy{API: servicetest.ToxiproxyURL(t), Proxy: servicetest.S3FaultProxy},
		Secrets: []string{cfg.AWSSecretAccessKey},
		Open: func(ctx context.Context, t *testing.T, m *pool.Manager) (repo.Repository[things.Thing], error) {
			d, err := s3.New(ctx, m, cfg, things.ThingSchema)
			if err != nil {
				return nil, err
			}
			return repo.New(things.ThingSchema, d), nil
		},
	}
}

// TestFaultMatrix runs the fault matrix (internal/faulttest) through the fault proxy.
func TestFaultMatrix(t *testing.T) { faulttest.RunMatrix(t, faultBackend(t)) }

// TestTelemetryFault checks the span of a call that fails while the fault proxy is down.
func TestTelemetryFault(t *testing.T) {
	b := faultBackend(t)
	faulttest.RunTelemetryFault(t, b, drivertest.NewTelemetry(s3.System, true, b.Secrets...))
}
