package postgres_test

import (
	"testing"

	"github.com/repokit/repokit/internal/faulttest"
	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/pool"
)

// faultConfig is testConfig through the fault proxy (REPOKIT_POSTGRES_FAULT_URL).
func faultConfig(t testing.TB) pool.PostgresPoolConfig {
	t.Helper()
	cfg, err := pool.PostgresPoolConfigFromMap(map[string]any{"connection_string": servicetest.PostgresFaultURL(t)})
	if err != nil {
		t.Fatalf("%s: %v", servicetest.EnvPostgresFaultURL, err)
	}
	cfg.MaxSize, cfg.MinSize = 8, 0
	return cfg
}

// faultBackend is this backend for internal/faulttest: a repository behind Toxiproxy's
// pg_fault proxy.
func faultBackend(t *testing.T) faulttest.Backend {
	cfg := faultConfig(t)
	return faulttest.Backend{
		Name:    "postgres",
		Package: "./runtime/backends/postgres/",
		Toxi:    faulttest.Toxiproxy{API: servicetest.ToxiproxyURL(t), Proxy: servicetest.PostgresFaultProxy},
		Secrets: []string{cfg.Password},
		// A table of its own, dropped through the direct connection.
		Open: drivertest.ThingsAt(t, newHarness(t), "faults", func(pool.Config) pool.Config { return cfg }),
	}
}

// TestFaultMatrix runs the fault matrix (internal/faulttest) through the fault proxy.
func TestFaultMatrix(t *testing.T) { faulttest.RunMatrix(t, faultBackend(t)) }

// TestTelemetryFault checks the span of a call that fails while the fault proxy is down.
func TestTelemetryFault(t *testing.T) {
	b := faultBackend(t)
	faulttest.RunTelemetryFault(t, b, drivertest.NewTelemetry("postgresql", true, b.Secrets...))
}
