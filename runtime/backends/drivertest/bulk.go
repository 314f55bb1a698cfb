package drivertest

import (
	"context"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/repo"
)

// The batch and bulk cases (issue 15): GetBatch, UpsertBatch, UpdateBatch, DeleteBatch,
// DeleteWhere, StreamWrite and StreamTransform. Each batch means the loop of the single calls
// over its items in order, whether the backend has a bulk fast path or not: a result per
// item, missing ids and conflicts per item, an id repeated in a batch handled after its
// earlier item, unique values held per item.
func testBulk(t *testing.T, h Harness) {
	t.Run("GetBatch", func(t *testing.T) { testGetBatch(t, h) })
	t.Run("UpsertBatch", func(t *testing.T) { testUpsertBatch(t, h) })
	t.Run("UpsertBatchGeneratedIDs", func(t *testing.T) { testUpsertBatchGenerated(t, h) })
	t.Run("UpdateBatch", func(t *testing.T) { testUpdateBatch(t, h) })
	t.Run("DeleteBatch", func(t *testing.T) { testDeleteBatch(t, h) })
	t.Run("BatchOptions", func(t *testing.T) { testBatchOptions(t, h) })
	t.Run("Unique", func(t *testing.T) { testBulkUnique(t, h) })
	t.Run("DeleteWhere", func(t *testing.T) { testDeleteWhere(t, h) })
	t.Run("StreamWrite", func(t *testing.T) { testStreamWrite(t, h) })
	t.Run("StreamWriteCancel", func(t *testing.T) { testStreamWriteCancel(t, h) })
	t.Run("StreamTransform", func(t *testing.T) { testStreamTransform(t, h) })
	t.Run("StreamTransformError", func(t *testing.T) { testStreamTransformError(t, h) })
	t.Run("Closed", func(t *testing.T) { testBulkClosed(t, h) })
}

// want is the expected outcome of one batch item: its id and the kind of its error (nil:
// success, with a version for a write or a read).
type want struct {
	id   string
	kind error
}

// wantResults fails the test unless res has one result per entry of w, each with the id
// and outcome w gives. noVersion is set for deletes, which report none.
func wantResults(t *testing.T, what string, res []repo.Result, w []want, noVersion bool) {
	t.Helper()
	if len(res) != len(w) {
		t.Fatalf("%s: %d results for %d items: %+v", what, len(res), len(w), res)
	}
	for i, x := range res {
		if x.ID != w[i].id {
			t.Errorf("%s: result %d has id %q, want %q", what, i, x.ID, w[i].id)
		}
		if w[i].kind == nil {
			if x.Err != nil || (x.Version == "") != noVersion {
				t.Errorf("%s: result %d (%s): err %v, version %q; want success", what, i, x.ID, x.Err, x.Version)
			}
			continue
		}
		wantErr(t, what+": item "+itoa(i)+" ("+x.ID+")", x.Err, w[i].kind)
		if x.Version != "" {
			t.Errorf("%s: result %d (%s) failed but has version %q", what, i, x.ID, x.Version)
		}
	}
}

// stored returns the record with the id, failing the test if there is none.
func stored[T any](ctx context.Context, t *testing.T, r repo.Repository[T], id string) T {
	t.Helper()
	rec, err := r.Get(ctx, id)
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	return rec
}

func testGetBatch(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, []things.Thing{fullThing("a"), fullThing("b"), minimalThing("c")})
	ids := []string{"a", "missing", "", "b", "a", "c", "bad\x00id"}
	recs, res, err := r.GetBatch(ctx, ids)
	if err != nil {
		t.Fatalf("GetBatch: %v", err)
	}
	wantResults(t, "GetBatch", res, []want{{"a", nil}, {"missing", repo.ErrNotFound}, {"", repo.ErrInvalidInput},
		{"b", nil}, {"a", nil}, {"c", nil}, {"bad\x00id", repo.ErrInvalidInput}}, false)
	if len(recs) != len(ids) {
		t.Fatalf("GetBatch returned %d records for %d ids", len(recs), len(ids))
	}
	for i, id := range ids {
		if res[i].Err != nil {
			if d := cmp.Diff(things.Thing{}, recs[i], thingCmp...); d != "" {
				t.Errorf("record %d (%q) failed but is not the zero record (-want +got):\n%s", i, id, d)
			}
			continue
		}
		got := stored(ctx, t, r, id)
		if d := cmp.Diff(got, recs[i], thingCmp...); d != "" {
			t.Errorf("record %d (%s) differs from Get (-Get +GetBatch):\n%s", i, id, d)
		}
		if recs[i].RecordVersion != got.RecordVersion || res[i].Version != got.RecordVersion {
			t.Errorf("record %d (%s): version %q, result version %q, stored %q", i, id, recs[i].RecordVersion, res[i].Version, got.RecordVersion)
		}
	}
	// An id given twice gets two records that share no memory.
	recs[0].Tags[0] = "changed"
	if recs[4].Tags[0] == "changed" {
		t.Errorf("the two records of id a share memory")
	}

	recs, res, err = r.GetBatch(ctx, nil)
	if err != nil || len(recs) != 0 || len(res) != 0 {
		t.Errorf("GetBatch(nil) = %d records, %d results, %v", len(recs), len(res), err)
	}
	recs, res, err = r.GetBatch(ctx, []string{"nope", "none"})
	if err != nil {
		t.Fatalf("GetBatch of missing ids: %v", err)
	}
	wantResults(t, "GetBatch of missing ids", res, []want{{"nope", repo.ErrNotFound}, {"none", repo.ErrNotFound}}, false)
	_ = recs
}

func testUpsertBatch(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, []things.Thing{fullThing("p1")})
	before := stored(ctx, t, r, "p1")

	p1 := fullThing("p1")
	p1.Name = "p1 replaced"
	n1 := minimalThing("n1")
	n1.Name = "n1 first"
	n1again := fullThing("n1")
	n1again.Name = "n1 second"
	nan := fullThing("bad")
	nan.Ratio = math.NaN()
	batch := []things.Thing{p1, n1, nan, n1again, {Name: "no id", Created: t0}, minimalThing("n2")}
	res, err := r.UpsertBatch(ctx, batch)
	if err != nil {
		t.Fatalf("UpsertBatch: %v", err)
	}
	wantResults(t, "UpsertBatch", res, []want{{"p1", nil}, {"n1", nil}, {"bad", repo.ErrInvalidInput},
		{"n1", nil}, {"", repo.ErrInvalidInput}, {"n2", nil}}, false)
	if res[0].Version == before.RecordVersion {
		t.Errorf("p1 kept its version %q", before.RecordVersion)
	}
	if res[1].Version == res[3].Version {
		t.Errorf("the two writes of n1 have one version %q", res[1].Version)
	}
	// The later item of an id is written after the earlier one: it is what is stored.
	got := stored(ctx, t, r, "n1")
	if d := cmp.Diff(n1again, got, thingCmp...); d != "" {
		t.Errorf("n1 is not the batch's last item of it (-want +got):\n%s", d)
	}
	if got.RecordVersion != res[3].Version {
		t.Errorf("n1 version %q, result %q", got.RecordVersion, res[3].Version)
	}
	if got := stored(ctx, t, r, "p1"); got.Name != "p1 replaced" || got.RecordVersion != res[0].Version {
		t.Errorf("p1 is %q version %q; want the batch's, version %q", got.Name, got.RecordVersion, res[0].Version)
	}
	if n := count(ctx, t, r, things.ThingQuery()); n != 3 {
		t.Errorf("Count = %d, want 3 (p1 n1 n2)", n)
	}

	// Conditional items: IfRecordVersions makes each item with a RecordVersion conditional.
	cur := stored(ctx, t, r, "p1")
	ok := cur
	ok.Name = "p1 conditional"
	stale := cur // the same version, stale once the item before is written
	stale.Name = "p1 stale"
	ghost := minimalThing("ghost")
	ghost.RecordVersion = cur.RecordVersion
	plain := minimalThing("n3") // no version: unconditional, creates
	res, err = r.UpsertBatch(ctx, []things.Thing{ok, stale, ghost, plain}, repo.IfRecordVersions())
	if err != nil {
		t.Fatalf("conditional UpsertBatch: %v", err)
	}
	wantResults(t, "conditional UpsertBatch", res, []want{{"p1", nil}, {"p1", repo.ErrVersionConflict},
		{"ghost", repo.ErrNotFound}, {"n3", nil}}, false)
	if got := stored(ctx, t, r, "p1"); got.Name != "p1 conditional" {
		t.Errorf("p1 is %q after a conditional batch, want %q", got.Name, "p1 conditional")
	}
	if ok, _ := r.Exists(ctx, "ghost"); ok {
		t.Errorf("a conditional upsert of a missing record created it")
	}

	res, err = r.UpsertBatch(ctx, nil)
	if err != nil || len(res) != 0 {
		t.Errorf("UpsertBatch(nil) = %v, %v", res, err)
	}
}

func testUpsertBatchGenerated(t *testing.T, h Harness) {
	ctx, r := makeOthers(t, h)
	res, err := r.UpsertBatch(ctx, []things.Other{{Label: "one"}, {Label: "two"}, {ID: "not-a-uuid", Label: "bad"}})
	if err != nil {
		t.Fatalf("UpsertBatch: %v", err)
	}
	if len(res) != 3 {
		t.Fatalf("%d results", len(res))
	}
	for i := range 2 {
		if res[i].Err != nil || res[i].ID == "" {
			t.Fatalf("item %d: %+v, want a generated id", i, res[i])
		}
		if got := stored(ctx, t, r, res[i].ID); got.RecordVersion != res[i].Version || got.State == nil || *got.State != things.OtherStateNew {
			t.Errorf("item %d stored as %+v, result %+v", i, got, res[i])
		}
	}
	if res[0].ID == res[1].ID {
		t.Errorf("two items got one id %q", res[0].ID)
	}
	wantErr(t, "a non-UUID id", res[2].Err, repo.ErrInvalidInput)
}

func testUpdateBatch(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, []things.Thing{fullThing("u1"), fullThing("u2"), fullThing("u3")})
	v1 := stored(ctx, t, r, "u1").RecordVersion
	v3 := stored(ctx, t, r, "u3").RecordVersion
	named := func(id, name string) things.Thing {
		x := fullThing(id)
		x.Name = name
		return x
	}
	batch := []things.Thing{named("u1", "u1 new"), named("gone", "x"), named("u2", "u2 other's version"),
		named("u1", "u1 stale"), named("u3", "u3 new"), named("", "no id"), named("u2", "u2 unconditional")}
	// u1 conditional on its version (then stale for the second u1), u2 once on u1's version.
	vs := []string{v1, "", v1, v1, v3, "", ""}
	res, err := r.UpdateBatch(ctx, batch, repo.IfVersions(vs))
	if err != nil {
		t.Fatalf("UpdateBatch: %v", err)
	}
	wantResults(t, "UpdateBatch", res, []want{{"u1", nil}, {"gone", repo.ErrNotFound}, {"u2", repo.ErrVersionConflict},
		{"u1", repo.ErrVersionConflict}, {"u3", nil}, {"", repo.ErrInvalidInput}, {"u2", nil}}, false)
	for id, name := range map[string]string{"u1": "u1 new", "u2": "u2 unconditional", "u3": "u3 new"} {
		if got := stored(ctx, t, r, id); got.Name != name {
			t.Errorf("%s is %q, want %q", id, got.Name, name)
		}
	}
	if ok, _ := r.Exists(ctx, "gone"); ok {
		t.Errorf("UpdateBatch created a missing record")
	}

	// Without options the items' RecordVersion is ignored, as Update ignores it.
	x := stored(ctx, t, r, "u1")
	x.Name = "u1 again"
	x.RecordVersion = v1 // stale, ignored
	res, err = r.UpdateBatch(ctx, []things.Thing{x})
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Errorf("UpdateBatch without options of a record with a stale version: %+v, %v", res, err)
	}
	res, err = r.UpdateBatch(ctx, []things.Thing{})
	if err != nil || len(res) != 0 {
		t.Errorf("UpdateBatch(empty) = %v, %v", res, err)
	}
}

func testDeleteBatch(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, []things.Thing{minimalThing("d1"), minimalThing("d2"), minimalThing("d3"), minimalThing("d4")})
	v1 := stored(ctx, t, r, "d1").RecordVersion
	v3 := stored(ctx, t, r, "d3").RecordVersion
	ids := []string{"d1", "missing", "d1", "d2", "d3", ""}
	res, err := r.DeleteBatch(ctx, ids, repo.IfVersions([]string{"", "", "", v1, v3, ""}))
	if err != nil {
		t.Fatalf("DeleteBatch: %v", err)
	}
	wantResults(t, "DeleteBatch", res, []want{{"d1", nil}, {"missing", repo.ErrNotFound}, {"d1", repo.ErrNotFound},
		{"d2", repo.ErrVersionConflict}, {"d3", nil}, {"", repo.ErrInvalidInput}}, true)
	if ids := findIDs(ctx, t, r, things.ThingQuery()); !equalStrings(ids, []string{"d2", "d4"}) {
		t.Errorf("stored after DeleteBatch: %v, want [d2 d4]", ids)
	}
	res, err = r.DeleteBatch(ctx, []string{"d4", "d2"})
	if err != nil {
		t.Fatalf("DeleteBatch: %v", err)
	}
	wantResults(t, "unconditional DeleteBatch", res, []want{{"d4", nil}, {"d2", nil}}, true)
	if n := count(ctx, t, r, things.ThingQuery()); n != 0 {
		t.Errorf("Count = %d after deleting every record", n)
	}
	res, err = r.DeleteBatch(ctx, nil)
	if err != nil || len(res) != 0 {
		t.Errorf("DeleteBatch(nil) = %v, %v", res, err)
	}
}

// testBatchOptions: options that do not fit the call fail it as a whole, before any item is
// written.
func testBatchOptions(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, []things.Thing{minimalThing("o1")})
	_, err := r.DeleteBatch(ctx, []string{"o1"}, repo.IfVersions([]string{"1", "2"}))
	wantErr(t, "DeleteBatch with two versions for one id", err, repo.ErrInvalidInput)
	_, err = r.DeleteBatch(ctx, []string{"o1"}, repo.IfRecordVersions())
	wantErr(t, "DeleteBatch with IfRecordVersions", err, repo.ErrInvalidInput)
	_, err = r.UpdateBatch(ctx, []things.Thing{minimalThing("o1")}, repo.IfVersions(nil))
	wantErr(t, "UpdateBatch with no versions for one record", err, repo.ErrInvalidInput)
	_, err = r.UpsertBatch(ctx, []things.Thing{minimalThing("o1")}, repo.IfRecordVersions(), repo.IfVersions([]string{""}))
	wantErr(t, "UpsertBatch with both options", err, repo.ErrInvalidInput)
	if got := stored(ctx, t, r, "o1"); got.Name != "min o1" {
		t.Errorf("a refused batch changed o1: %q", got.Name)
	}
}

// testBulkUnique: a batch item taking a unique value that another stored record holds, or
// that an earlier item of the batch took, fails with ErrAlreadyExists naming the field (and
// that item); deletes release values for later writes.
func testBulkUnique(t *testing.T, h Harness) {
	ctx, r := makeMembers(t, h)
	create(ctx, t, r, holderA())
	create(ctx, t, r, things.Member{ID: "b", Email: "b@x"})

	res, err := r.UpsertBatch(ctx, []things.Member{
		{ID: "c", Email: "a@x"},                  // held by stored a
		{ID: "d", Email: "d@x", Nick: ptr("dd")}, // free
		{ID: "e", Email: "e@x", Nick: ptr("dd")}, // taken by d, earlier in the batch
		{ID: "b", Email: "b@x", Seat: ptr[int64](7)},
		{ID: "f", Email: "f@x", Seat: ptr[int64](7)}, // taken by b's item
	})
	if err != nil {
		t.Fatalf("UpsertBatch: %v", err)
	}
	wantResults(t, "UpsertBatch with unique values", res, []want{{"c", repo.ErrAlreadyExists}, {"d", nil},
		{"e", repo.ErrAlreadyExists}, {"b", nil}, {"f", repo.ErrAlreadyExists}}, false)
	wantNamed(t, "c taking a's email", res[0].Err, "email", "")
	wantNamed(t, "e taking d's nick", res[2].Err, "nick", "d")
	wantNamed(t, "f taking b's seat", res[4].Err, "seat", "b")

	res, err = r.UpdateBatch(ctx, []things.Member{
		{ID: "d", Email: "a@x"},                   // held by a
		{ID: "b", Email: "b2@x", Nick: ptr("bb")}, // frees b@x
		{ID: "d", Email: "d@x", Nick: ptr("bb")},  // taken by b, earlier
	})
	if err != nil {
		t.Fatalf("UpdateBatch: %v", err)
	}
	wantResults(t, "UpdateBatch with unique values", res, []want{{"d", repo.ErrAlreadyExists}, {"b", nil},
		{"d", repo.ErrAlreadyExists}}, false)
	wantNamed(t, "d taking a's email", res[0].Err, "email", "")
	wantNamed(t, "d taking b's nick", res[2].Err, "nick", "b")
	wantMembers(ctx, t, r, map[string]string{"a": "a@x", "b": "b2@x", "d": "d@x"})

	// DeleteBatch and DeleteWhere release the values their records held.
	res, err = r.DeleteBatch(ctx, []string{"a"})
	if err != nil || res[0].Err != nil {
		t.Fatalf("DeleteBatch a: %+v, %v", res, err)
	}
	create(ctx, t, r, things.Member{ID: "g", Email: "a@x", Nick: ptr("al"), Seat: ptr[int64](1)})
	n, err := r.DeleteWhere(ctx, things.MemberQuery().Where(things.MemberFields.Email.EQ("b2@x")))
	if err != nil || n != 1 {
		t.Fatalf("DeleteWhere b: %d, %v", n, err)
	}
	res, err = r.UpsertBatch(ctx, []things.Member{{ID: "h", Email: "b2@x", Nick: ptr("bb")}})
	if err != nil || res[0].Err != nil {
		t.Errorf("UpsertBatch of b's released values: %+v, %v", res, err)
	}
	wantMembers(ctx, t, r, map[string]string{"d": "d@x", "g": "a@x", "h": "b2@x"})
}

func testBulkClosed(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, []things.Thing{minimalThing("c1")})
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, _, err := r.GetBatch(ctx, []string{"c1"})
	wantErr(t, "GetBatch after Close", err, repo.ErrClosed)
	_, err = r.UpsertBatch(ctx, []things.Thing{minimalThing("c1")})
	wantErr(t, "UpsertBatch after Close", err, repo.ErrClosed)
	_, err = r.UpdateBatch(ctx, []things.Thing{minimalThing("c1")})
	wantErr(t, "UpdateBatch after Close", err, repo.ErrClosed)
	_, err = r.DeleteBatch(ctx, []string{"c1"})
	wantErr(t, "DeleteBatch after Close", err, repo.ErrClosed)
	_, err = r.DeleteWhere(ctx, things.ThingQuery())
	wantErr(t, "DeleteWhere after Close", err, repo.ErrClosed)
	_, err = r.StreamWrite(ctx, func(func(things.Thing) bool) {})
	wantErr(t, "StreamWrite after Close", err, repo.ErrClosed)
	_, err = r.StreamTransform(ctx, things.ThingQuery(), func(x things.Thing) (things.Thing, repo.Action, error) {
		return x, repo.ActionSkip, nil
	})
	wantErr(t, "StreamTransform after Close", err, repo.ErrClosed)
}
