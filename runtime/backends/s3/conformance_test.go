package s3_test

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// harness makes S3 repositories on the test server, each under a fresh prefix.
type harness struct {
	m   *pool.Manager
	cfg pool.S3PoolConfig
}

func makeRepo[T any](ctx context.Context, t *testing.T, h harness, desc *record.Desc[T]) (repo.Repository[T], error) {
	cfg := h.cfg
	cfg.Prefix = freshPrefix(t, h.m, h.cfg)
	d, err := s3.New(ctx, h.m, cfg, desc)
	if err != nil {
		return nil, err
	}
	return repo.New(desc, d), nil
}

func (h harness) MakeThings(ctx context.Context, t *testing.T) (repo.Repository[things.Thing], error) {
	return makeRepo(ctx, t, h, things.ThingSchema)
}

func (h harness) MakeOthers(ctx context.Context, t *testing.T) (repo.Repository[things.Other], error) {
	return makeRepo(ctx, t, h, things.OtherSchema)
}

func (h harness) MakeKeywords(ctx context.Context, t *testing.T) (repo.Repository[things.Keyword], error) {
	return makeRepo(ctx, t, h, things.KeywordSchema)
}

func (h harness) MakeMembers(ctx context.Context, t *testing.T) (repo.Repository[things.Member], error) {
	return makeRepo(ctx, t, h, things.MemberSchema)
}

func (h harness) MakeDocs(ctx context.Context, t *testing.T) (repo.Repository[things.Doc], error) {
	return makeRepo(ctx, t, h, things.DocSchema)
}

// LeakOptions ignores the HTTP transport's connection goroutines: pooled keep-alive
// connections outlive a stream by design.
func (harness) LeakOptions() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	}
}

func TestConformance(t *testing.T) {
	cfg := testConfig(t)
	m := pool.New(pool.Options{KeepIdle: true})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	drivertest.RunConformanceTests(t, harness{m: m, cfg: cfg})
}
