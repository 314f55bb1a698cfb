package elasticsearch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// TestMissingShard reads an index one of whose two primary shards has no live copy (on one
// node: index.routing.allocation.total_shards_per_node 1 leaves the second primary
// unassigned). Elasticsearch answers a search or count over it with HTTP 200 and the other
// shard's records; every read of the repository must instead fail with ErrUnavailable and a
// *ShardError saying how many shards answered, never return fewer records as if they were all.
func TestMissingShard(t *testing.T) {
	cfg := testConfig(t)
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	index := uniqueIndex(t, "shard")
	c, err := elasticsearch.NewClient(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer elasticsearch.Hooks().Close(ctx, c)
	var mapping any
	if err := json.Unmarshal(esdialect.Mapping(things.ThingSchema), &mapping); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"mappings": mapping, "settings": map[string]any{
		"number_of_shards": 2, "number_of_replicas": 0, "index.routing.allocation.total_shards_per_node": 1}})
	res, err := esapi.IndicesCreateRequest{Index: index, Body: bytes.NewReader(body), WaitForActiveShards: "0"}.Do(ctx, c.ES)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.IsError() {
		t.Fatalf("creating %s: %s", index, res.Status())
	}
	t.Cleanup(func() { deleteIndex(t, h.m, cfg, index) })

	r, err := things.NewThingElasticsearchRepository(ctx, h.m, cfg, elasticsearch.WithIndex(index))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// A record whose id routes to the live shard is stored; the others time out.
	stored := 0
	for i := 0; stored < 1 && i < 40; i++ {
		wctx, wcancel := context.WithTimeout(ctx, time.Second)
		_, err := r.Create(wctx, things.Thing{ID: fmt.Sprintf("t%d", i), Name: "x"})
		wcancel()
		if err == nil {
			stored++
		}
	}
	if stored == 0 {
		t.Fatal("no record could be stored on the live shard")
	}
	wantShardErr := func(what string, err error) {
		t.Helper()
		var se *elasticsearch.ShardError
		if !errors.Is(err, repo.ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", what, err)
			return
		}
		if errors.As(err, &se) && (se.Total != 2 || se.Successful != 1) {
			t.Errorf("%s: %+v, want 1 of 2 shards", what, se)
		}
		t.Logf("%s: %v", what, err)
	}
	q := query.New[things.Thing]()
	n, err := r.Count(ctx, q)
	if err == nil {
		t.Errorf("Count = %d with a shard missing (%d stored), want ErrUnavailable", n, stored)
	}
	wantShardErr("Count", err)
	var se *elasticsearch.ShardError
	if !errors.As(err, &se) {
		t.Errorf("Count: %v, want a *ShardError", err)
	}
	recs, err := r.Find(ctx, q)
	if err == nil {
		t.Errorf("Find = %d records with a shard missing, want ErrUnavailable", len(recs))
	}
	wantShardErr("Find", err)
	p, err := r.Page(ctx, q.Limit(2), "")
	if err == nil {
		t.Errorf("Page = %d records with a shard missing, want ErrUnavailable", len(p.Items))
	}
	wantShardErr("Page", err)
	for _, err := range r.Stream(ctx, q) {
		if err == nil {
			t.Error("Stream yielded a record with a shard missing, want ErrUnavailable")
		}
		wantShardErr("Stream", err)
		break
	}
}
