package drivertest

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// rtMeta is a JSON document as a caller may write it: white space everywhere, keys out of
// order, a duplicate-free object with escapes, non-ASCII text, HTML characters and U+2028.
const rtMeta = " {\n\t\"z\" : [ 1 , 2.50 , -0 , 1e2 ],\r\n  \"a\" : { \"b c\" : \"<&> \\u00e9 é \u2028\" , \"n\" : null } } \n"

// rtMetaCompact is rtMeta after the round-trip rule: the same bytes without insignificant
// white space.
const rtMetaCompact = "{\"z\":[1,2.50,-0,1e2],\"a\":{\"b c\":\"<&> \\u00e9 é \u2028\",\"n\":null}}"

// roundTripThing returns a record holding the values the backends used to give back in
// different forms: −0 floats, empty lists and bytes, JSON with white space.
func roundTripThing(id string) things.Thing {
	th := minimalThing(id)
	negZero := math.Copysign(0, -1)
	th.Ratio, th.Score = negZero, &negZero
	th.Tags, th.Nums, th.Levels, th.Blob = []string{}, []int64{}, []things.ThingLevel{}, []byte{}
	th.Meta = json.RawMessage(rtMeta)
	return th
}

// testRoundTrip checks the round-trip rule of docs/semantics.md ("Round trip") on every
// write and read path: whatever the backend, a written record comes back with −0 as +0,
// empty lists and bytes as nil, and JSON compacted byte for byte, from the write itself and
// from Get, Find and GetBatch alike; the caller's record is left as it was.
func testRoundTrip(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	want := minimalThing("")
	want.Ratio, want.Score = 0, ptr(0.0)
	want.Meta = json.RawMessage(rtMetaCompact)

	ids := []string{"rt-create", "rt-upsert", "rt-update", "rt-batch1", "rt-batch2"}
	written := map[string]things.Thing{}
	write := func(what string, got things.Thing, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		written[got.ID] = got
	}
	in := roundTripThing("rt-create")
	got, err := r.Create(ctx, in)
	write("Create", got, err)
	if d := cmp.Diff(roundTripThing("rt-create"), in, cmpopts.EquateEmpty()); d != "" || !math.Signbit(in.Ratio) ||
		!math.Signbit(*in.Score) || in.Tags == nil || string(in.Meta) != rtMeta {
		t.Errorf("Create changed the caller's record: %+v", in)
	}
	got, err = r.Upsert(ctx, roundTripThing("rt-upsert"))
	write("Upsert", got, err)
	if _, err := r.Create(ctx, fullThing("rt-update")); err != nil {
		t.Fatalf("Create: %v", err)
	}
	got, err = r.Update(ctx, roundTripThing("rt-update"))
	write("Update", got, err)
	res, err := r.CreateBatch(ctx, []things.Thing{roundTripThing("rt-batch1"), roundTripThing("rt-batch2")})
	if err != nil {
		t.Fatalf("CreateBatch: %v", err)
	}
	for i, x := range res {
		if x.Err != nil {
			t.Fatalf("CreateBatch item %d: %v", i, x.Err)
		}
	}

	check := func(what string, got things.Thing) {
		t.Helper()
		w := want
		w.ID, w.Name = got.ID, "min "+got.ID
		if d := cmp.Diff(w, got, cmpopts.IgnoreFields(things.Thing{}, "RecordVersion")); d != "" {
			t.Errorf("%s %s: not the normalized record (-want +got):\n%s", what, got.ID, d)
		}
		if math.Signbit(got.Ratio) || got.Score != nil && math.Signbit(*got.Score) {
			t.Errorf("%s %s: ratio %v, score %v: −0 came back", what, got.ID, got.Ratio, *got.Score)
		}
		if string(got.Meta) != rtMetaCompact {
			t.Errorf("%s %s: meta %q, want %q", what, got.ID, got.Meta, rtMetaCompact)
		}
	}
	for _, id := range []string{"rt-create", "rt-upsert", "rt-update"} {
		check("the write's result:", written[id])
	}
	for _, id := range ids {
		got, err := r.Get(ctx, id)
		if err != nil {
			t.Fatalf("Get(%s): %v", id, err)
		}
		check("Get", got)
	}
	found := find(ctx, t, r, things.ThingQuery().Where(things.ThingFields.ID.IN(ids...)))
	if len(found) != len(ids) {
		t.Fatalf("Find: %d records, want %d", len(found), len(ids))
	}
	for _, got := range found {
		check("Find", got)
	}
	batch, bres, err := r.GetBatch(ctx, ids)
	if err != nil {
		t.Fatalf("GetBatch: %v", err)
	}
	for i, x := range bres {
		if x.Err != nil {
			t.Fatalf("GetBatch item %d: %v", i, x.Err)
		}
		check("GetBatch", batch[i])
	}
	roundTripFilters(ctx, t, r, ids)
}

// roundTripFilters checks that the normalized values answer filters as they read: the
// floats equal 0 (and −0), the empty values are missing.
func roundTripFilters(ctx context.Context, t *testing.T, r repo.Repository[things.Thing], ids []string) {
	t.Helper()
	F := things.ThingFields
	in := F.ID.IN(ids...)
	for what, q := range map[string]query.Query[things.Thing]{
		"ratio = -0": things.ThingQuery().Where(in, F.Ratio.EQ(math.Copysign(0, -1))),
		"score = 0":  things.ThingQuery().Where(in, F.Score.EQ(0)),
		"no tags":    things.ThingQuery().Where(in, F.Tags.NotExists()),
		"no blob":    things.ThingQuery().Where(in, F.Blob.NotExists()),
		"meta":       things.ThingQuery().Where(in, F.Meta.Exists()),
	} {
		if n := count(ctx, t, r, q); n != int64(len(ids)) {
			t.Errorf("%s: %d records, want %d", what, n, len(ids))
		}
	}
}
