package elasticsearch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// oldMapping returns the mapping of things.Thing as versions before the write token made it:
// without _rk.w.
func oldMapping(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(things.ThingElasticsearchMapping), &m); err != nil {
		t.Fatal(err)
	}
	rk := m["properties"].(map[string]any)[esdialect.MetaField].(map[string]any)["properties"].(map[string]any)
	if _, ok := rk[esdialect.WriteToken]; !ok {
		t.Fatalf("the generated mapping has no %s.%s", esdialect.MetaField, esdialect.WriteToken)
	}
	delete(rk, esdialect.WriteToken)
	return m
}

// esDo sends req with c and fails the test unless it succeeds; it returns the body.
func esDo(ctx context.Context, t *testing.T, c *elasticsearch.Client, req esapi.Request) string {
	t.Helper()
	res, err := req.Do(ctx, c.ES)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.IsError() {
		t.Fatalf("%T: %s %s", req, res.Status(), b)
	}
	return string(b)
}

// TestOpenOldMapping opens a repository on an index an earlier version created (its mapping
// without _rk.w, dynamic: strict) that holds documents without a write token: opening adds
// the field (no drift), the stored records read as before, and every kind of write works
// on them, including a write read back after a 409. A real difference still is drift.
func TestOpenOldMapping(t *testing.T) {
	cfg := testConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := elasticsearch.NewClient(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := pool.New(pool.Options{})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	index := uniqueIndex(t, "oldmapping")
	t.Cleanup(func() { deleteIndex(t, m, cfg, index) })
	body, _ := json.Marshal(map[string]any{"settings": map[string]any{"number_of_shards": 1, "number_of_replicas": 0}, "mappings": oldMapping(t)})
	esDo(ctx, t, c, esapi.IndicesCreateRequest{Index: index, Body: bytes.NewReader(body)})
	for _, id := range []string{"old-1", "old-2", "old-3"} {
		doc := `{"id":"` + id + `","name":"old","count":1,"created":"2024-01-01T00:00:00Z","_rk":{"us":{"created":1704067200000000},"has":null}}`
		esDo(ctx, t, c, esapi.IndexRequest{Index: index, DocumentID: id, Body: strings.NewReader(doc), Refresh: "true"})
	}
	// The old mapping refuses a document with the token: what writes would do if opening did
	// not add it.
	res, err := esapi.IndexRequest{Index: index, DocumentID: "probe", Refresh: "true",
		Body: strings.NewReader(`{"id":"probe","name":"p","created":"2024-01-01T00:00:00Z","_rk":{"us":{"created":1704067200000000},"has":null,"w":"t"}}`)}.Do(ctx, c.ES)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Fatalf("a document with _rk.w on the old mapping: %s, want 400 (strict)", res.Status())
	}

	r, err := things.NewThingElasticsearchRepository(ctx, m, cfg, elasticsearch.WithIndex(index))
	if err != nil {
		t.Fatalf("opening on the old mapping: %v", err)
	}
	defer r.Close()
	// Opening again finds nothing to add and no drift.
	r2, err := things.NewThingElasticsearchRepository(ctx, m, cfg, elasticsearch.WithIndex(index))
	if err != nil {
		t.Fatalf("opening again: %v", err)
	}
	_ = r2.Close()
	live := esDo(ctx, t, c, esapi.IndicesGetMappingRequest{Index: []string{index}})
	if !strings.Contains(live, `"w":{"type":"keyword","index":false,"doc_values":false}`) {
		t.Fatalf("mapping after opening: %s", live)
	}

	old, err := r.Get(ctx, "old-1")
	if err != nil || old.Name != "old" || old.Count != 1 {
		t.Fatalf("old-1: %+v, %v", old, err)
	}
	old.Count = 2
	if old, err = r.Update(ctx, old, repo.IfVersion(old.RecordVersion)); err != nil {
		t.Fatalf("Update of an old document: %v", err)
	}
	if _, err := r.Create(ctx, things.Thing{ID: "new-1", Name: "new", Created: time.Now()}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := r.Create(ctx, things.Thing{ID: "old-2", Name: "again", Created: time.Now()}); !errors.Is(err, repo.ErrAlreadyExists) {
		t.Fatalf("Create over an old document (no token): %v, want ErrAlreadyExists", err)
	}
	stale := old
	stale.RecordVersion = "0:1"
	if _, err := r.Update(ctx, stale, repo.IfVersion(stale.RecordVersion)); !errors.Is(err, repo.ErrVersionConflict) {
		t.Fatalf("Update with a stale version: %v, want ErrVersionConflict", err)
	}
	o3, err := r.Get(ctx, "old-3")
	if err != nil {
		t.Fatal(err)
	}
	o3.Name = "batch"
	bres, err := r.UpdateBatch(ctx, []things.Thing{o3}, repo.IfRecordVersions())
	if err == nil {
		err = bres[0].Err
	}
	if err != nil {
		t.Fatalf("UpdateBatch of an old document: %v", err)
	}
	if _, err := r.CreateBatch(ctx, []things.Thing{{ID: "new-2", Name: "new", Created: time.Now()}, {ID: "new-3", Name: "new", Created: time.Now()}}); err != nil {
		t.Fatalf("CreateBatch: %v", err)
	}
	n, err := r.Count(ctx, things.ThingQuery().Where(things.ThingFields.Name.EQ("new")))
	if err != nil || n != 3 {
		t.Fatalf("Count of the new records: %d, %v; want 3", n, err)
	}
	// The token is in no query: a search on _rk.w finds nothing (the field is not indexed).
	res, err = esapi.SearchRequest{Index: []string{index}, Body: strings.NewReader(`{"query":{"exists":{"field":"_rk.w"}}}`)}.Do(ctx, c.ES)
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode == 200 && !strings.Contains(string(sb), `"total":{"value":0`) {
		t.Fatalf("exists on _rk.w found documents: %s", sb)
	}

	// A real difference is still drift, and the token is not listed as one.
	other := uniqueIndex(t, "olddrift")
	t.Cleanup(func() { deleteIndex(t, m, cfg, other) })
	om := oldMapping(t)
	om["properties"].(map[string]any)["name"] = map[string]any{"type": "long"}
	body, _ = json.Marshal(map[string]any{"mappings": om})
	esDo(ctx, t, c, esapi.IndicesCreateRequest{Index: other, Body: bytes.NewReader(body)})
	_, err = things.NewThingElasticsearchRepository(ctx, m, cfg, elasticsearch.WithIndex(other))
	var de *elasticsearch.DriftError
	if !errors.As(err, &de) || len(de.Differences) != 1 || !strings.HasPrefix(de.Differences[0], "name:") {
		t.Fatalf("opening on a drifted old index: %v, want one difference (name)", err)
	}
}
