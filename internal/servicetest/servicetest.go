// Package servicetest gives repokit's tests the real servers they run against: PostgreSQL,
// MinIO (S3), the slow S3 link through Toxiproxy and the Elasticsearch node that
// scripts/services start on loopback, found through the REPOKIT_* variables those scripts
// print (docs/services.md).
//
// There is one function per server or control script. When its variables are set it returns
// what a test needs (a URL, an S3 config, the path of a control script). When one is missing
// it skips the test with a message that names the variable and says how to start the
// servers; under CI (the CI variable set to anything), which must run every server, it fails
// the test with the same message instead, so that a broken CI setup cannot pass by skipping:
//
//	func TestSomething(t *testing.T) {
//		url := servicetest.PostgresURL(t) // skips here, fails under CI
//		...
//	}
//
// Cleanup removes what a test left on a server (a table, the objects under a prefix) when the
// test ends, through the pool manager the test uses.
package servicetest

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/pool"
)

// The variables the service scripts print (scripts/services/*.sh env), and CI.
const (
	EnvPostgresURL    = "REPOKIT_POSTGRES_URL"     // PostgreSQL connection URL
	EnvPostgresCtl    = "REPOKIT_POSTGRES_CTL"     // scripts/services/postgres.sh: pause, resume
	EnvS3Endpoint     = "REPOKIT_S3_ENDPOINT"      // MinIO's S3 endpoint URL
	EnvS3AccessKey    = "REPOKIT_S3_ACCESS_KEY"    // its access key id
	EnvS3SecretKey    = "REPOKIT_S3_SECRET_KEY"    // its secret access key
	EnvS3Bucket       = "REPOKIT_S3_BUCKET"        // the test bucket
	EnvS3Region       = "REPOKIT_S3_REGION"        // the region to sign for
	EnvS3Ctl          = "REPOKIT_S3_CTL"           // scripts/services/minio.sh: pause, resume
	EnvS3SlowEndpoint = "REPOKIT_S3_SLOW_ENDPOINT" // MinIO through Toxiproxy, ~20 ms per round trip
	EnvESURL          = "REPOKIT_ES_URL"           // the Elasticsearch node's URL
	EnvESCtl          = "REPOKIT_ES_CTL"           // scripts/services/elasticsearch.sh: pause, resume, status
	EnvCI             = "CI"                       // set (to anything) under CI: missing servers fail tests
)

// The variables of the PostgreSQL hot standby (scripts/services/postgres.sh start --replica).
const (
	EnvPostgresReplicaURL      = "REPOKIT_POSTGRES_REPLICA_URL"       // the standby, as the test role
	EnvPostgresReplicaAdminURL = "REPOKIT_POSTGRES_REPLICA_ADMIN_URL" // the standby as superuser: ALTER SYSTEM
)

// StartCommand starts every test server a plain `go test ./...` needs and exports their
// variables into the shell.
const StartCommand = `eval "$(scripts/services/all.sh start --with-elasticsearch)"`

// startSlowCommand also starts Toxiproxy, which only the slow S3 link needs.
const startSlowCommand = `eval "$(scripts/services/all.sh start --with-toxiproxy --with-elasticsearch)"`

// PostgresURL returns the URL of the PostgreSQL test server (REPOKIT_POSTGRES_URL).
func PostgresURL(t testing.TB) string {
	t.Helper()
	return need(t, "the PostgreSQL test server", StartCommand, EnvPostgresURL)[0]
}

// PostgresCtl returns the path of the script that pauses and resumes the PostgreSQL test
// server (REPOKIT_POSTGRES_CTL), for restart tests.
func PostgresCtl(t testing.TB) string {
	t.Helper()
	return need(t, "the PostgreSQL control script", StartCommand, EnvPostgresCtl)[0]
}

// startReplicaCommand starts the PostgreSQL test server with its hot standby.
const startReplicaCommand = `eval "$(scripts/services/postgres.sh start --replica)"`

// PostgresReplica returns the URLs of the PostgreSQL test server's hot standby, as the test
// role (REPOKIT_POSTGRES_REPLICA_URL) and as superuser (REPOKIT_POSTGRES_REPLICA_ADMIN_URL:
// ALTER SYSTEM), and its host:port, for the read-replica tests. They run only where the
// standby was started (postgres.sh start --replica, as scripts/test.sh does): without
// REPOKIT_POSTGRES_REPLICA_URL the test is skipped, also under CI.
func PostgresReplica(t testing.TB) (replicaURL, replicaAdminURL, replicaAddr string) {
	t.Helper()
	if os.Getenv(EnvPostgresReplicaURL) == "" {
		t.Skipf("%s is not set (the PostgreSQL hot standby); start it from the repository root with: %s (see docs/services.md)",
			EnvPostgresReplicaURL, startReplicaCommand)
	}
	v := need(t, "the PostgreSQL hot standby", startReplicaCommand, EnvPostgresReplicaURL, EnvPostgresReplicaAdminURL)
	u, err := url.Parse(v[0])
	if err != nil || u.Port() == "" {
		t.Fatalf("%s: not a postgres URL with a port", EnvPostgresReplicaURL)
	}
	return v[0], v[1], u.Host
}

// S3Config returns a config for the MinIO test server and its bucket (REPOKIT_S3_ENDPOINT,
// _ACCESS_KEY, _SECRET_KEY, _BUCKET, _REGION) with path-style addressing and the default
// connection limit; the caller sets Prefix and anything else its test needs.
func S3Config(t testing.TB) pool.S3PoolConfig {
	t.Helper()
	v := need(t, "the S3 (MinIO) test server", StartCommand, EnvS3Endpoint, EnvS3AccessKey, EnvS3SecretKey, EnvS3Bucket, EnvS3Region)
	cfg := pool.NewS3PoolConfig(v[3])
	cfg.EndpointURL, cfg.AWSAccessKeyID, cfg.AWSSecretAccessKey, cfg.RegionName = v[0], v[1], v[2], v[4]
	cfg.PathStyle = true
	return cfg
}

// S3Ctl returns the path of the script that pauses and resumes the MinIO test server
// (REPOKIT_S3_CTL), for restart tests.
func S3Ctl(t testing.TB) string {
	t.Helper()
	return need(t, "the S3 (MinIO) control script", StartCommand, EnvS3Ctl)[0]
}

// S3SlowEndpoint returns the endpoint of the MinIO test server behind Toxiproxy's latency
// (REPOKIT_S3_SLOW_ENDPOINT), the emulated network link of the S3 benchmarks. The other
// settings are S3Config's.
func S3SlowEndpoint(t testing.TB) string {
	t.Helper()
	return need(t, "the slow S3 link (Toxiproxy)", startSlowCommand, EnvS3SlowEndpoint)[0]
}

// ElasticsearchURL returns the URL of the Elasticsearch test node (REPOKIT_ES_URL).
func ElasticsearchURL(t testing.TB) string {
	t.Helper()
	return need(t, "the Elasticsearch test node", StartCommand, EnvESURL)[0]
}

// ElasticsearchCtl returns the path of the script that manages the Elasticsearch test node
// (REPOKIT_ES_CTL): pause [--kill], resume, status, for restart tests.
func ElasticsearchCtl(t testing.TB) string {
	t.Helper()
	return need(t, "the Elasticsearch control script", StartCommand, EnvESCtl)[0]
}

// Unavailable skips the test with the message, or fails it under CI. It is for what a
// variable alone cannot tell: a server that is set but not in the state a test needs, a
// tool that is not installed.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(EnvCI) != "" {
		t.Fatalf("%s (%s is set: CI must provide it)", msg, EnvCI)
	}
	t.Skip(msg)
}

// need returns the values of the variables, or skips (fails under CI) naming the ones that
// are empty, what they belong to, and the command that starts it.
func need(t testing.TB, what, start string, names ...string) []string {
	t.Helper()
	vals := make([]string, len(names))
	var missing []string
	for i, name := range names {
		if vals[i] = os.Getenv(name); vals[i] == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		verb := "is"
		if len(missing) > 1 {
			verb = "are"
		}
		Unavailable(t, "%s %s not set (%s); start the test servers from the repository root with: %s (see docs/services.md)",
			strings.Join(missing, ", "), verb, what, start)
	}
	return vals
}
