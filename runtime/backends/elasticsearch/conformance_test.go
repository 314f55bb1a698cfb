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
	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/open"
	"github.com/repokit/repokit/runtime/pool"
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

// harness opens repositories on fresh indices (deleted when the test ends), all sharing one
// client through one pool manager.
type harness struct{ m *pool.Manager }

func newHarness(t *testing.T) harness {
	m := pool.New(pool.Options{IdleGrace: time.Minute})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	return harness{m: m}
}

func (h harness) Manager() *pool.Manager { return h.m }

// Target returns the test node with a fresh index, deleted when the test ends.
func (h harness) Target(_ context.Context, t *testing.T, table string) (open.Target, []open.Option, error) {
	cfg := testConfig(t)
	index := uniqueIndex(t, table)
	t.Cleanup(func() { deleteIndex(t, h.m, cfg, index) })
	return open.FromPoolConfig(cfg), []open.Option{elasticsearch.WithIndex(index)}, nil
}

// Opened deletes the driver's unique index, for a record with unique fields, when the test
// ends.
func (h harness) Opened(_ context.Context, t *testing.T, _ string, d any) error {
	if unique := d.(interface{ UniqueIndex() string }).UniqueIndex(); unique != "" {
		cfg := testConfig(t)
		t.Cleanup(func() { deleteIndex(t, h.m, cfg, unique) })
	}
	return nil
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

// LeakOptions ignores the HTTP transport's keep-alive goroutines.
func (harness) LeakOptions() []goleak.Option { return drivertest.HTTPLeaks() }
