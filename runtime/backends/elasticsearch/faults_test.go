package elasticsearch_test

import (
	"encoding/base64"
	"testing"

	"github.com/repokit/repokit/internal/faulttest"
	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/pool"
)

// faultUser and faultPassword are basic-auth credentials the client sends through the fault
// proxy. The embedded node has no security module and ignores them; they are there so that
// the matrix's secret scan has a password (and its base64 header form) to look for.
const (
	faultUser     = "repokit-fault"
	faultPassword = "es-fault-secret-pw-7f3a"
)

// faultConfig is testConfig through the fault proxy (REPOKIT_ES_FAULT_URL), with basic auth.
func faultConfig(t testing.TB) pool.ElasticsearchPoolConfig {
	t.Helper()
	cfg := pool.NewElasticsearchPoolConfig()
	cfg.Hosts = []string{servicetest.ElasticsearchFaultURL(t)}
	cfg.BasicAuthUser, cfg.BasicAuthPassword = faultUser, faultPassword
	return cfg
}

// faultBackend is this backend for internal/faulttest: a repository behind Toxiproxy's
// es_fault proxy.
func faultBackend(t *testing.T) faulttest.Backend {
	cfg := faultConfig(t)
	return faulttest.Backend{
		Name:    "elasticsearch",
		Package: "./runtime/backends/elasticsearch/",
		Toxi:    faulttest.Toxiproxy{API: servicetest.ToxiproxyURL(t), Proxy: servicetest.ESFaultProxy},
		Secrets: []string{faultPassword, base64.StdEncoding.EncodeToString([]byte(faultUser + ":" + faultPassword))},
		// An index of its own, deleted through the direct connection.
		Open: drivertest.ThingsAt(t, newHarness(t), "faults", func(pool.Config) pool.Config { return cfg }),
	}
}

// TestFaultMatrix runs the fault matrix (internal/faulttest) through the fault proxy.
func TestFaultMatrix(t *testing.T) { faulttest.RunMatrix(t, faultBackend(t)) }

// TestTelemetryFault checks the span of a call that fails while the fault proxy is down.
func TestTelemetryFault(t *testing.T) {
	b := faultBackend(t)
	faulttest.RunTelemetryFault(t, b, drivertest.NewTelemetry("elasticsearch", true, b.Secrets...))
}
