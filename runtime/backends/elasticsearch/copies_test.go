package elasticsearch_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/open"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// indexCopies returns the number_of_shards and number_of_replicas of index.
func indexCopies(t *testing.T, c *elasticsearch.Client, index string) (shards, replicas string) {
	t.Helper()
	res, err := esapi.IndicesGetSettingsRequest{Index: []string{index}}.Do(context.Background(), c.ES)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]struct {
		Settings struct {
			Index struct {
				Shards   string `json:"number_of_shards"`
				Replicas string `json:"number_of_replicas"`
			} `json:"index"`
		} `json:"settings"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.IsError() {
		t.Fatalf("settings of %s: %s, %v", index, res.Status(), err)
	}
	s := out[index].Settings.Index
	return s.Shards, s.Replicas
}

// An index a repository creates takes its shards and replicas from the URL
// (elasticsearch://...?shards=3&replicas=1), and WithIndexSettings overrides them; the
// companion index of unique values gets the same.
func TestIndexSettingsFromURL(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	cfg := testConfig(t)
	tg, err := open.Parse(servicetest.ElasticsearchOpenURL(t) + "?shards=3&replicas=1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := elasticsearch.NewClient(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer elasticsearch.Hooks().Close(ctx, c)
	for _, tc := range []struct {
		name                   string
		opts                   []elasticsearch.Option
		wantShards, wantCopies string
	}{
		{"url", nil, "3", "1"},
		{"option", []elasticsearch.Option{elasticsearch.WithIndexSettings(2, 0)}, "2", "0"},
	} {
		index := uniqueIndex(t, "copies-"+tc.name)
		t.Cleanup(func() { deleteIndex(t, h.m, cfg, index+","+index+elasticsearch.UniqueIndexSuffix) })
		r, err := things.NewMemberElasticsearchRepository(ctx, h.m, tg.Config, append(tc.opts, elasticsearch.WithIndex(index))...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_ = r.Close()
		for _, ix := range []string{index, index + elasticsearch.UniqueIndexSuffix} {
			if s, rp := indexCopies(t, c, ix); s != tc.wantShards || rp != tc.wantCopies {
				t.Errorf("%s: %s has %s shards and %s replicas, want %s and %s", tc.name, ix, s, rp, tc.wantShards, tc.wantCopies)
			}
		}
	}
}

// Writes send wait_for_active_shards: on an index whose replicas cannot all be assigned (more
// replicas than the test cluster has nodes), a write that waits for "all" copies fails
// without being applied, while the default ("1") and an option overriding the config's
// value go through.
func TestWaitForActiveShards(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	cfg := testConfig(t)
	index := uniqueIndex(t, "active")
	t.Cleanup(func() { deleteIndex(t, h.m, cfg, index) })
	repoOn := func(cfg pool.ElasticsearchPoolConfig, opts ...elasticsearch.Option) repo.Repository[things.Thing] {
		t.Helper()
		r, err := things.NewThingElasticsearchRepository(ctx, h.m, cfg,
			append([]elasticsearch.Option{elasticsearch.WithIndex(index), elasticsearch.WithIndexSettings(1, 9)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		return r
	}
	all := cfg
	all.WaitForActiveShards = "all"
	for _, tc := range []struct {
		name   string
		r      repo.Repository[things.Thing]
		stored bool
	}{
		{"default", repoOn(cfg), true},
		{"config all", repoOn(all), false},
		{"option 10", repoOn(cfg, elasticsearch.WithWaitForActiveShards("10")), false},
		{"option 1 over config all", repoOn(all, elasticsearch.WithWaitForActiveShards("1")), true},
	} {
		id := strings.ReplaceAll(tc.name, " ", "-")
		wctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
		_, err := tc.r.Create(wctx, things.Thing{ID: id, Name: tc.name})
		cancel()
		switch {
		case tc.stored && err != nil:
			t.Errorf("%s: Create: %v", tc.name, err)
		case !tc.stored && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, repo.ErrUnavailable):
			t.Errorf("%s: Create = %v, want it to wait for the missing copies (deadline or ErrUnavailable)", tc.name, err)
		}
		ok, err := tc.r.Exists(ctx, id)
		if err != nil || ok != tc.stored {
			t.Errorf("%s: Exists = %v, %v; want %v", tc.name, ok, err, tc.stored)
		}
	}
	if _, err := things.NewThingElasticsearchRepository(ctx, h.m, cfg, elasticsearch.WithIndex(index),
		elasticsearch.WithWaitForActiveShards("most")); err == nil || !strings.Contains(err.Error(), `wait_for_active_shards must be "all" or a number`) {
		t.Errorf("WithWaitForActiveShards(\"most\"): %v, want an error", err)
	}
}
