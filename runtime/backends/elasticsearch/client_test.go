package elasticsearch_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

func TestNewClientConfigErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := pool.NewElasticsearchPoolConfig()
	base.Hosts = []string{"https://127.0.0.1:1"}
	for _, c := range []struct {
		name string
		edit func(*pool.ElasticsearchPoolConfig)
		want string
	}{
		{"missing CA file", func(c *pool.ElasticsearchPoolConfig) { c.CACerts = filepath.Join(dir, "nope.pem") }, "ca_certs"},
		{"CA file without PEM", func(c *pool.ElasticsearchPoolConfig) { c.CACerts = notPEM }, "no PEM certificate"},
		{"missing client cert", func(c *pool.ElasticsearchPoolConfig) {
			c.ClientCert, c.ClientKey = filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
		}, "client_cert"},
		{"cert without key", func(c *pool.ElasticsearchPoolConfig) { c.ClientCert = notPEM }, "client_key"},
		{"api key with basic auth", func(c *pool.ElasticsearchPoolConfig) {
			c.APIKey, c.BasicAuthUser, c.BasicAuthPassword = "s3cret-key", "u", "s3cret-pw"
		}, "api_key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := base
			c.edit(&cfg)
			_, err := elasticsearch.NewClient(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("NewClient: %v, want an error naming %q", err, c.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error leaks a secret: %v", err)
			}
		})
	}
}

// TestSharedClient: repositories on one config share one client; an unreachable node gives
// ErrUnavailable when a repository opens.
func TestSharedClient(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	m := pool.New(pool.Options{})
	defer m.CloseAll(ctx)
	ti, oi := uniqueIndex(t, "shared"), uniqueIndex(t, "shared")
	a, err := things.NewThingElasticsearchRepository(ctx, m, cfg, elasticsearch.WithIndex(ti))
	if err != nil {
		t.Fatal(err)
	}
	defer deleteIndex(t, m, cfg, ti)
	b, err := things.NewOtherElasticsearchRepository(ctx, m, cfg, elasticsearch.WithIndex(oi))
	if err != nil {
		t.Fatal(err)
	}
	defer deleteIndex(t, m, cfg, oi)
	st := m.Stats()
	if len(st) != 1 || st[0].Holders != 2 || st[0].Backend != "elasticsearch" {
		t.Fatalf("Stats = %+v, want one elasticsearch client held twice", st)
	}
	a.Close()
	b.Close()

	down := pool.NewElasticsearchPoolConfig()
	down.Hosts = []string{"http://127.0.0.1:1"}
	_, err = things.NewThingElasticsearchRepository(ctx, m, down)
	if !errors.Is(err, repo.ErrUnavailable) || !pool.IsTransient(err) {
		t.Fatalf("opening on a closed port: %v, want ErrUnavailable", err)
	}
}

// TestRefusedNodeSkipped: with several hosts configured, a request whose node refuses the
// connection (so it cannot have been applied) is sent to the next node, so every call
// succeeds while one of the hosts is down; the refusing node is then left out.
func TestRefusedNodeSkipped(t *testing.T) {
	cfg := testConfig(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	_ = ln.Close()
	h := newHarness(t)
	ctx := context.Background()
	index := uniqueIndex(t, "refused")
	t.Cleanup(func() { deleteIndex(t, h.m, cfg, index) })
	multi := cfg
	multi.Hosts = []string{down, cfg.Hosts[0], down}
	r, err := things.NewThingElasticsearchRepository(ctx, h.m, multi, elasticsearch.WithIndex(index))
	if err != nil {
		t.Fatalf("opening with one of the hosts down: %v", err)
	}
	defer r.Close()
	for i := range 4 {
		id := fmt.Sprintf("t%d", i)
		if _, err := r.Create(ctx, things.Thing{ID: id, Name: "refused"}); err != nil {
			t.Fatalf("Create %s with one of the hosts down: %v", id, err)
		}
		if _, err := r.Get(ctx, id); err != nil {
			t.Fatalf("Get %s with one of the hosts down: %v", id, err)
		}
	}
}
