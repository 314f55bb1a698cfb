package s3_test

import (
	"context"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

func (h harness) MakeLimited(ctx context.Context, t *testing.T) (repo.Repository[drivertest.Limited], error) {
	return makeRepo(ctx, t, h, drivertest.LimitedSchema)
}

func TestLimits(t *testing.T) {
	cfg := testConfig(t)
	m := pool.New(pool.Options{KeepIdle: true})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	drivertest.RunLimitTests(t, harness{m: m, cfg: cfg})
}
