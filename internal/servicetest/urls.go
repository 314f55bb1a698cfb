package servicetest

import (
	"net/url"
	"strings"
	"testing"
)

// The URLs of the test servers in the forms runtime/open parses (docs/opening.md), for
// tests that open repositories by URL. Like the other getters they skip the test when a
// server's variables are missing, and fail it under CI.

// PostgresOpenURL returns the postgres:// URL of the PostgreSQL test server: REPOKIT_POSTGRES_URL
// as it is, since a pgx connection URL is what open.Parse takes.
func PostgresOpenURL(t testing.TB) string {
	t.Helper()
	return PostgresURL(t)
}

// S3OpenURL returns an s3:// URL for the MinIO test server's bucket under prefix, with its
// endpoint, region and path-style addressing. A URL carries no credentials, so it also sets
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to the test server's keys for the rest of the
// test (t.Setenv: the test must not be parallel), where the AWS SDK's default chain finds them.
func S3OpenURL(t testing.TB, prefix string) string {
	t.Helper()
	cfg := S3Config(t)
	t.Setenv("AWS_ACCESS_KEY_ID", cfg.AWSAccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", cfg.AWSSecretAccessKey)
	q := url.Values{"endpoint": {cfg.EndpointURL}, "region": {cfg.RegionName}, "path_style": {"true"}}
	return "s3://" + cfg.Bucket + "/" + strings.Trim(prefix, "/") + "?" + q.Encode()
}

// ElasticsearchOpenURL returns the elasticsearch:// (or elasticsearch+https://) URL of the
// Elasticsearch test node.
func ElasticsearchOpenURL(t testing.TB) string {
	t.Helper()
	u := ElasticsearchURL(t)
	if rest, ok := strings.CutPrefix(u, "https://"); ok {
		return "elasticsearch+https://" + strings.TrimSuffix(rest, "/")
	}
	return "elasticsearch://" + strings.TrimSuffix(strings.TrimPrefix(u, "http://"), "/")
}
