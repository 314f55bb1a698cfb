package elasticsearch_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// Constructors take the config as a pool.Config, like the other backends' constructors: a
// value, a pointer and a *pool.Prepared made from one share one client, and another
// backend's config is refused before any request.
func TestConfigForms(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	cfg := testConfig(t)
	index := uniqueIndex(t, "forms")
	t.Cleanup(func() { deleteIndex(t, h.m, cfg, index) })
	for _, c := range []pool.Config{cfg, &cfg, pool.Prepare(cfg)} {
		r, err := things.NewThingElasticsearchRepository(ctx, h.m, c, elasticsearch.WithIndex(index))
		if err != nil {
			t.Fatalf("config of type %T: %v", c, err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	if n := h.m.Len(); n != 1 {
		t.Errorf("the manager holds %d pools, want 1 shared client", n)
	}
	_, err := things.NewThingElasticsearchRepository(ctx, h.m, pool.NewPostgresPoolConfig())
	if err == nil || !strings.Contains(err.Error(), "want pool.ElasticsearchPoolConfig") {
		t.Errorf("a PostgreSQL config: got %v, want an error naming the expected config type", err)
	}
	if n := h.m.Len(); n != 1 {
		t.Errorf("after the refused config the manager holds %d pools, want 1", n)
	}
}

// New with the node down fails with repo.ErrUnavailable (needs no server: a closed port).
func TestNewServerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cfg := pool.NewElasticsearchPoolConfig()
	cfg.Hosts = []string{"http://" + addr}
	cfg.APIKey = "api-key-not-in-errors"
	m := pool.New(pool.Options{})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	_, err = things.NewThingElasticsearchRepository(t.Context(), m, cfg)
	if !errors.Is(err, repo.ErrUnavailable) {
		t.Errorf("New with the node down: %v, want repo.ErrUnavailable", err)
	}
	if err != nil && strings.Contains(err.Error(), cfg.APIKey) {
		t.Errorf("the error shows the API key: %v", err)
	}
}
