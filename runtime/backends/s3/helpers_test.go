package s3_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/pool"
)

// testConfig returns the config of the test server (servicetest.S3Config), skipping the
// test when it is not running (failing it under CI).
func testConfig(t testing.TB) pool.S3PoolConfig {
	t.Helper()
	cfg := servicetest.S3Config(t)
	cfg.MaxConnections = 16
	return cfg
}

var prefixSeq atomic.Int64

// freshPrefix returns a config prefix no other test uses, and removes every object under
// it when the test ends.
func freshPrefix(t testing.TB, m *pool.Manager, cfg pool.S3PoolConfig) string {
	t.Helper()
	p := fmt.Sprintf("repokit-test/%s/%d-%d", t.Name(), time.Now().UnixNano(), prefixSeq.Add(1))
	servicetest.Cleanup(t, m, cfg, s3.Hooks(), "cleanup of "+p+"/", func(ctx context.Context, c *s3.Client) error {
		return servicetest.RemoveS3Objects(ctx, c.API, cfg.Bucket, p+"/")
	})
	return p
}
