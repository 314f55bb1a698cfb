package servicetest

import (
	"testing"

	"github.com/repokit/repokit/runtime/pool"
)

// The fault proxies: clean Toxiproxy links in front of each server (scripts/services/toxiproxy.sh
// creates them with no toxic), to which the fault tests (internal/faulttest) add toxics and
// which they disable and enable through Toxiproxy's HTTP API.
const (
	EnvToxiproxyURL     = "REPOKIT_TOXIPROXY_URL"      // Toxiproxy's HTTP API
	EnvPostgresFaultURL = "REPOKIT_POSTGRES_FAULT_URL" // PostgreSQL through proxy pg_fault
	EnvESFaultURL       = "REPOKIT_ES_FAULT_URL"       // Elasticsearch through proxy es_fault
	EnvS3FaultEndpoint  = "REPOKIT_S3_FAULT_ENDPOINT"  // MinIO through proxy s3_fault
)

// The names of the fault proxies in Toxiproxy.
const (
	PostgresFaultProxy = "pg_fault"
	ESFaultProxy       = "es_fault"
	S3FaultProxy       = "s3_fault"
)

// ToxiproxyURL returns the URL of Toxiproxy's HTTP API (REPOKIT_TOXIPROXY_URL).
func ToxiproxyURL(t testing.TB) string {
	t.Helper()
	return need(t, "the Toxiproxy API", startSlowCommand, EnvToxiproxyURL)[0]
}

// PostgresFaultURL returns the URL of the PostgreSQL test server through the fault proxy
// (REPOKIT_POSTGRES_FAULT_URL), with the same credentials as PostgresURL.
func PostgresFaultURL(t testing.TB) string {
	t.Helper()
	return need(t, "PostgreSQL through Toxiproxy", startSlowCommand, EnvPostgresFaultURL)[0]
}

// ElasticsearchFaultURL returns the URL of the Elasticsearch test node through the fault
// proxy (REPOKIT_ES_FAULT_URL). The node itself must be up (ElasticsearchURL).
func ElasticsearchFaultURL(t testing.TB) string {
	t.Helper()
	return need(t, "Elasticsearch through Toxiproxy", startSlowCommand, EnvESFaultURL, EnvESURL)[0]
}

// S3FaultConfig returns S3Config with its endpoint replaced by the fault proxy's
// (REPOKIT_S3_FAULT_ENDPOINT).
func S3FaultConfig(t testing.TB) pool.S3PoolConfig {
	t.Helper()
	c := S3Config(t)
	c.EndpointURL = need(t, "S3 (MinIO) through Toxiproxy", startSlowCommand, EnvS3FaultEndpoint)[0]
	return c
}
