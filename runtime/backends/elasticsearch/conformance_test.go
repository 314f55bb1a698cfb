package elasticsearch_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"go.uber.org/goleak"

	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// testConfig returns the config of the test node, skipping the test when it is not running
// (failing it under CI).
func testConfig(t testing.TB) pool.ElasticsearchPoolConfig {
	t.Helper()
	cfg := pool.NewElasticsearchPoolConfig()
	cfg.Hosts = []string{servicetest.ElasticsearchURL(t)}
	return cfg
}

var indexSeq atomic.Int64

// uniqueIndex returns a fresh index name for one test.
func uniqueIndex(t testing.TB, base string) string {
	return fmt.Sprintf("rk-test-%s-%d-%d", strings.ToLower(base), os.Getpid(), indexSeq.Add(1))
}

// harness makes repositories on fresh indices (deleted when the test ends), all sharing one
// client through one pool manager.
type harness struct{ m *pool.Manager }

func newHarness(t *testing.T) harness {
	m := pool.New(pool.Options{IdleGrace: time.Minute})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	return harness{m: m}
}

// constructor is the shape of a generated New<R>ElasticsearchRepository.
type constructor[T any] func(context.Context, *pool.Manager, pool.Config, ...elasticsearch.Option) (*repo.Collection[T], error)

// makeRepo opens a repository with a generated constructor on a fresh index (and unique
// index, for a record with unique fields).
func makeRepo[T any](ctx context.Context, t *testing.T, h harness, name string, ctor constructor[T]) (repo.Repository[T], error) {
	cfg := testConfig(t)
	index := uniqueIndex(t, name)
	r, err := ctor(ctx, h.m, cfg, elasticsearch.WithIndex(index))
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { deleteIndex(t, h.m, cfg, index) })
	if unique := r.Driver().(*elasticsearch.Driver[T]).UniqueIndex(); unique != "" {
		t.Cleanup(func() { deleteIndex(t, h.m, cfg, unique) })
	}
	return r, nil
}

func deleteIndex(t testing.TB, m *pool.Manager, cfg pool.ElasticsearchPoolConfig, index string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := elasticsearch.NewClient(ctx, cfg)
	if err != nil {
		t.Logf("deleting %s: %v", index, err)
		return
	}
	res, err := esapi.IndicesDeleteRequest{Index: []string{index}}.Do(ctx, c.ES)
	if err != nil {
		t.Logf("deleting %s: %v", index, err)
		return
	}
	res.Body.Close()
	elasticsearch.Hooks().Close(ctx, c)
}

func (h harness) MakeThings(ctx context.Context, t *testing.T) (repo.Repository[things.Thing], error) {
	return makeRepo(ctx, t, h, "thing", things.NewThingElasticsearchRepository)
}

func (h harness) MakeOthers(ctx context.Context, t *testing.T) (repo.Repository[things.Other], error) {
	return makeRepo(ctx, t, h, "other", things.NewOtherElasticsearchRepository)
}

func (h harness) MakeKeywords(ctx context.Context, t *testing.T) (repo.Repository[things.Keyword], error) {
	return makeRepo(ctx, t, h, "keyword", things.NewKeywordElasticsearchRepository)
}

func (h harness) MakeMembers(ctx context.Context, t *testing.T) (repo.Repository[things.Member], error) {
	return makeRepo(ctx, t, h, "member", things.NewMemberElasticsearchRepository)
}

func (h harness) MakeDocs(ctx context.Context, t *testing.T) (repo.Repository[things.Doc], error) {
	return makeRepo(ctx, t, h, "doc", things.NewDocElasticsearchRepository)
}

// LeakOptions ignores the HTTP transport's keep-alive goroutines.
func (harness) LeakOptions() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	}
}
