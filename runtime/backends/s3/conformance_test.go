package s3_test

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/open"
	"github.com/repokit/repokit/runtime/pool"
)

// harness opens S3 repositories on the test server, each under a fresh prefix.
type harness struct {
	m   *pool.Manager
	cfg pool.S3PoolConfig
}

func (h harness) Manager() *pool.Manager { return h.m }

func (h harness) Target(_ context.Context, t *testing.T, _ string) (open.Target, []open.Option, error) {
	cfg := h.cfg
	cfg.Prefix = freshPrefix(t, h.m, h.cfg)
	return open.FromPoolConfig(cfg), nil, nil
}

// LeakOptions ignores the HTTP transport's connection goroutines.
func (harness) LeakOptions() []goleak.Option { return drivertest.HTTPLeaks() }

func TestConformance(t *testing.T) {
	cfg := testConfig(t)
	m := pool.New(pool.Options{KeepIdle: true})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	drivertest.RunConformanceTests(t, drivertest.On(harness{m: m, cfg: cfg}))
}
