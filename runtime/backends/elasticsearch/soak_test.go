package elasticsearch_test

import (
	"context"
	"testing"

	"github.com/repokit/repokit/internal/faulttest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// TestSoak runs the soak test (internal/faulttest) on the Elasticsearch test node.
func TestSoak(t *testing.T) {
	cfg := testConfig(t)
	h := newHarness(t) // for the index's cleanup
	index := uniqueIndex(t, "soak")
	t.Cleanup(func() { deleteIndex(t, h.m, cfg, index) })
	faulttest.Soak(t, faulttest.SoakBackend{
		Name:    "elasticsearch",
		Package: "./runtime/backends/elasticsearch/",
		Open: func(ctx context.Context, t *testing.T, m *pool.Manager) (repo.Repository[things.Thing], error) {
			return things.NewThingElasticsearchRepository(ctx, m, cfg, elasticsearch.WithIndex(index))
		},
	})
}
