package s3_test

import (
	"context"
	"testing"

	"github.com/repokit/repokit/internal/faulttest"
	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/pool"
)

// faultBackend is this backend for internal/faulttest: a repository behind Toxiproxy's
// s3_fault proxy.
func faultBackend(t *testing.T) faulttest.Backend {
	direct := testConfig(t)
	cfg := servicetest.S3FaultConfig(t)
	cfg.MaxConnections = direct.MaxConnections
	m := pool.New(pool.Options{KeepIdle: true}) // direct, for the prefix's cleanup
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	return faulttest.Backend{
		Name:    "s3",
		Package: "./runtime/backends/s3/",
		Toxi:    faulttest.Toxiproxy{API: servicetest.ToxiproxyURL(t), Proxy: servicetest.S3FaultProxy},
		Secrets: []string{cfg.AWSSecretAccessKey},
		// A prefix of its own, emptied through the direct connection.
		Open: drivertest.ThingsAt(t, harness{m: m, cfg: direct}, "faults", func(c pool.Config) pool.Config {
			cfg.Prefix = c.(pool.S3PoolConfig).Prefix
			return cfg
		}),
	}
}

// TestFaultMatrix runs the fault matrix (internal/faulttest) through the fault proxy.
func TestFaultMatrix(t *testing.T) { faulttest.RunMatrix(t, faultBackend(t)) }

// TestTelemetryFault checks the span of a call that fails while the fault proxy is down.
func TestTelemetryFault(t *testing.T) {
	b := faultBackend(t)
	faulttest.RunTelemetryFault(t, b, drivertest.NewTelemetry(s3.System, true, b.Secrets...))
}
