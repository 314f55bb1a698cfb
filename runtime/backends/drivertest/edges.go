package drivertest

import (
	"errors"
	"slices"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/repo"
)

// endpointIDs are ids that are names of Elasticsearch APIs, or path segments of their own,
// when they are put in a URL path as they are.
var endpointIDs = []string{
	"_search", "_count", "_termvectors", "_mtermvectors", "_mapping", "_doc", "_bulk", "_mget", ".", "..",
	"_update", "_source", "_search/x", "%5Fsearch", "_",
}

// testEndpointIDs: ids that name Elasticsearch endpoints, and "." and "..", are ids like
// any other on every backend: Create, Get, Exists, Update, Upsert, Delete and CreateBatch
// reach the record, and never another endpoint.
func testEndpointIDs(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	half := 10 // created one by one; the others in one batch
	for _, id := range endpointIDs[:half] {
		if _, err := r.Create(ctx, fullThing(id)); err != nil {
			t.Errorf("Create(%q): %v", id, err)
		}
	}
	batch := make([]things.Thing, 0, len(endpointIDs)-half)
	for _, id := range endpointIDs[half:] {
		batch = append(batch, fullThing(id))
	}
	res, err := r.CreateBatch(ctx, batch)
	if err != nil {
		t.Fatalf("CreateBatch: %v", err)
	}
	for i, x := range res {
		if x.Err != nil {
			t.Errorf("CreateBatch item %q: %v", batch[i].ID, x.Err)
		}
	}
	want := slices.Sorted(slices.Values(endpointIDs))
	if got := findIDs(ctx, t, r, things.ThingQuery()); !slices.Equal(got, want) {
		t.Errorf("Find = %q, want %q", got, want)
	}
	for i, id := range endpointIDs {
		got, err := r.Get(ctx, id)
		if err != nil || got.ID != id || got.Name != "name "+id {
			t.Errorf("Get(%q) = id %q name %q, %v", id, got.ID, got.Name, err)
			continue
		}
		if ok, err := r.Exists(ctx, id); !ok || err != nil {
			t.Errorf("Exists(%q) = %v, %v", id, ok, err)
		}
		got.Name = "updated " + id
		upd, err := r.Update(ctx, got, repo.IfVersion(got.RecordVersion))
		if err != nil {
			t.Errorf("Update(%q): %v", id, err)
			continue
		}
		if _, err := r.Update(ctx, got, repo.IfVersion(got.RecordVersion)); !isErr(err, repo.ErrVersionConflict) {
			t.Errorf("Update(%q) with a stale version: %v, want ErrVersionConflict", id, err)
		}
		if i%3 == 0 { // Elasticsearch writes wait for a refresh: not every id is written thrice
			upd.Rank = ptr[int64](7)
			if _, err := r.Upsert(ctx, upd); err != nil {
				t.Errorf("Upsert(%q): %v", id, err)
			}
		}
		if got, err := r.Get(ctx, id); err != nil || got.Name != "updated "+id || (i%3 == 0) != (got.Rank != nil && *got.Rank == 7) {
			t.Errorf("Get(%q) after Update and Upsert = %+v, %v", id, got, err)
		}
		if _, err := r.Create(ctx, fullThing(id)); !isErr(err, repo.ErrAlreadyExists) {
			t.Errorf("Create(%q) again: %v, want ErrAlreadyExists", id, err)
		}
	}
	for i, id := range endpointIDs {
		if i%2 == 0 {
			continue
		}
		if err := r.Delete(ctx, id); err != nil {
			t.Errorf("Delete(%q): %v", id, err)
		}
		if ok, err := r.Exists(ctx, id); ok || err != nil {
			t.Errorf("Exists(%q) after Delete = %v, %v", id, ok, err)
		}
		if _, err := r.Get(ctx, id); !isErr(err, repo.ErrNotFound) {
			t.Errorf("Get(%q) after Delete: %v, want ErrNotFound", id, err)
		}
		if err := r.Delete(ctx, id); !isErr(err, repo.ErrNotFound) {
			t.Errorf("Delete(%q) again: %v, want ErrNotFound", id, err)
		}
	}
	if n := count(ctx, t, r, things.ThingQuery()); n != int64((len(endpointIDs)+1)/2) {
		t.Errorf("Count = %d, want %d", n, (len(endpointIDs)+1)/2)
	}
}

func isErr(err, kind error) bool { return err != nil && errors.Is(err, kind) }
