package drivertest

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// thingCmp compares records by value: times as instants, nil and empty slices alike (both
// mean missing), versions ignored.
var thingCmp = []cmp.Option{
	cmpopts.EquateEmpty(),
	cmpopts.IgnoreFields(things.Thing{}, "RecordVersion"),
}

var (
	t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	t2 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
)

// fullThing returns a record with every field set, already normalized.
func fullThing(id string) things.Thing {
	return things.Thing{
		ID: id, Name: "name " + id, Title: ptr("title " + id), Body: ptr("body\nwith lines"),
		Code: ptr("0190a6c4-1b2c-7d3e-8f40-123456789abc"), Kind: ptr(things.ThingKindB),
		Rank: ptr[int64](-42), Count: 1 << 40, Score: ptr(-0.125), Ratio: 1e-9,
		Flag: ptr(false), Active: true, At: ptr(t1.Add(123456 * time.Microsecond)), Created: t0,
		Tags: []string{"x", "", "y"}, Nums: []int64{math.MinInt64, 0, math.MaxInt64},
		Levels: []things.ThingLevel{things.ThingLevelHigh, things.ThingLevelLow},
		Blob:   []byte{0, 1, 2, 255}, Meta: json.RawMessage(`{"k":[1,"two",null]}`),
	}
}

// minimalThing returns a record with only the required fields set.
func minimalThing(id string) things.Thing {
	return things.Thing{ID: id, Name: "min " + id, Created: t2}
}

func testCRUD(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)

	in := fullThing("x1")
	created, err := r.Create(ctx, in)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if created.RecordVersion == "" {
		t.Errorf("Create returned no version")
	}
	if d := cmp.Diff(in, created, thingCmp...); d != "" {
		t.Errorf("Create returned a different record (-sent +returned):\n%s", d)
	}
	got, err := r.Get(ctx, "x1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if d := cmp.Diff(in, got, thingCmp...); d != "" {
		t.Errorf("Get returned a different record (-stored +got):\n%s", d)
	}
	if got.RecordVersion != created.RecordVersion {
		t.Errorf("Get version %q, Create returned %q", got.RecordVersion, created.RecordVersion)
	}

	for id, want := range map[string]bool{"x1": true, "nope": false} {
		ok, err := r.Exists(ctx, id)
		if err != nil || ok != want {
			t.Errorf("Exists(%q) = %v, %v; want %v", id, ok, err, want)
		}
	}

	dup := fullThing("x1")
	dup.Name = "duplicate"
	_, err = r.Create(ctx, dup)
	wantErr(t, "Create with a taken id", err, repo.ErrAlreadyExists)
	if got, _ := r.Get(ctx, "x1"); got.Name != in.Name {
		t.Errorf("a failed Create changed the stored record: name %q", got.Name)
	}

	upd := got
	upd.Name, upd.Title, upd.Tags = "renamed", nil, nil
	updated, err := r.Update(ctx, upd)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if updated.RecordVersion == "" || updated.RecordVersion == got.RecordVersion {
		t.Errorf("Update version %q, before %q: want a new version", updated.RecordVersion, got.RecordVersion)
	}
	got2, err := r.Get(ctx, "x1")
	if err != nil {
		t.Fatalf("Get after Update: %v", err)
	}
	if d := cmp.Diff(upd, got2, thingCmp...); d != "" {
		t.Errorf("Get after Update (-want +got):\n%s", d)
	}
	if got2.Title != nil || len(got2.Tags) != 0 {
		t.Errorf("Update did not clear title and tags: %v %v", got2.Title, got2.Tags)
	}
	if got2.RecordVersion != updated.RecordVersion {
		t.Errorf("Get version %q, Update returned %q", got2.RecordVersion, updated.RecordVersion)
	}

	_, err = r.Update(ctx, fullThing("nope"))
	wantErr(t, "Update of a missing record", err, repo.ErrNotFound)
	if ok, _ := r.Exists(ctx, "nope"); ok {
		t.Errorf("Update of a missing record created it")
	}

	_, err = r.Get(ctx, "nope")
	wantErr(t, "Get of a missing record", err, repo.ErrNotFound)
	if err != nil && (!strings.Contains(err.Error(), "Thing") || !strings.Contains(err.Error(), `"nope"`)) {
		t.Errorf("error %q does not name the record type and id", err)
	}
	var re *repo.Error
	if !errors.As(err, &re) || re.Record != "Thing" || re.Op != "Get" || re.ID != "nope" {
		t.Errorf("error %#v: want a *repo.Error for Thing.Get id nope", err)
	}

	if err := r.Delete(ctx, "x1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err = r.Get(ctx, "x1")
	wantErr(t, "Get after Delete", err, repo.ErrNotFound)
	if ok, _ := r.Exists(ctx, "x1"); ok {
		t.Errorf("Exists after Delete = true")
	}
	wantErr(t, "second Delete", r.Delete(ctx, "x1"), repo.ErrNotFound)

	m := minimalThing("m1")
	if _, err := r.Create(ctx, m); err != nil {
		t.Fatalf("Create minimal: %v", err)
	}
	gm, err := r.Get(ctx, "m1")
	if err != nil {
		t.Fatalf("Get minimal: %v", err)
	}
	if d := cmp.Diff(m, gm, thingCmp...); d != "" {
		t.Errorf("minimal record (-want +got):\n%s", d)
	}
	if gm.Title != nil || gm.Rank != nil || gm.Score != nil || gm.Flag != nil || gm.At != nil || gm.Kind != nil {
		t.Errorf("missing optional values came back present: %+v", gm)
	}
	if n := count(ctx, t, r, things.ThingQuery()); n != 1 {
		t.Errorf("Count = %d, want 1", n)
	}
}

// testEmptyIsMissing checks that an empty list, bytes or json value is stored as missing by
// every call that writes a record.
func testEmptyIsMissing(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	empty := func(id string) things.Thing {
		th := minimalThing(id)
		th.Tags, th.Nums, th.Levels = []string{}, []int64{}, []things.ThingLevel{}
		th.Blob, th.Meta = []byte{}, json.RawMessage{}
		return th
	}
	if _, err := r.Create(ctx, empty("create")); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := r.Upsert(ctx, empty("upsert")); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	if _, err := r.Create(ctx, fullThing("update")); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := r.Update(ctx, empty("update")); err != nil {
		t.Fatalf("Update: %v", err)
	}
	seed(ctx, t, r, []things.Thing{empty("batch1"), empty("batch2")})
	F := things.ThingFields
	for _, c := range []struct {
		name             string
		exists, notExist query.Cond[things.Thing]
	}{
		{"tags", F.Tags.Exists(), F.Tags.NotExists()},
		{"nums", F.Nums.Exists(), F.Nums.NotExists()},
		{"levels", F.Levels.Exists(), F.Levels.NotExists()},
		{"blob", F.Blob.Exists(), F.Blob.NotExists()},
		{"meta", F.Meta.Exists(), F.Meta.NotExists()},
	} {
		if n := count(ctx, t, r, things.ThingQuery().Where(c.exists)); n != 0 {
			t.Errorf("%s: %d records with an empty value match Exists, want 0", c.name, n)
		}
		if n := count(ctx, t, r, things.ThingQuery().Where(c.notExist)); n != 5 {
			t.Errorf("%s: %d records with an empty value match NotExists, want 5", c.name, n)
		}
	}
}

func testUpsert(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	a := fullThing("u1")
	first, err := r.Upsert(ctx, a)
	if err != nil {
		t.Fatalf("Upsert (create): %v", err)
	}
	if first.RecordVersion == "" {
		t.Errorf("Upsert returned no version")
	}
	a.Name = "replaced"
	a.Tags = []string{"only"}
	second, err := r.Upsert(ctx, a)
	if err != nil {
		t.Fatalf("Upsert (replace): %v", err)
	}
	if second.RecordVersion == first.RecordVersion {
		t.Errorf("Upsert kept version %q", first.RecordVersion)
	}
	got, err := r.Get(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(a, got, thingCmp...); d != "" {
		t.Errorf("after Upsert (-want +got):\n%s", d)
	}
	if n := count(ctx, t, r, things.ThingQuery()); n != 1 {
		t.Errorf("Count after two Upserts of one id = %d", n)
	}
	bad := fullThing("u2")
	bad.Ratio = math.NaN()
	_, err = r.Upsert(ctx, bad)
	wantErr(t, "Upsert of an invalid record", err, repo.ErrInvalidInput)
	_, err = r.Upsert(ctx, things.Thing{Name: "no id"})
	wantErr(t, "Upsert without id", err, repo.ErrInvalidInput)

	ctxO, o := makeOthers(t, h)
	got2, err := o.Upsert(ctxO, things.Other{Label: "generated"})
	if err != nil {
		t.Fatalf("Upsert Other without id: %v", err)
	}
	if err := uuidOK(got2.ID); err != nil {
		t.Errorf("Upsert generated id: %v", err)
	}
}

func uuidOK(id string) error {
	u, err := uuid.Parse(id)
	if err != nil {
		return err
	}
	if u.String() != id {
		return errors.New("id " + id + " is not a canonical lower-case UUID")
	}
	return nil
}

func testIsolation(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	in := fullThing("i1")
	at := time.Date(2024, 3, 1, 10, 0, 0, 123456789, paris)
	in.At = &at
	want := fullThing("i1")
	want.At = ptr(at.UTC().Truncate(time.Microsecond))

	if _, err := r.Create(ctx, in); err != nil {
		t.Fatal(err)
	}
	// Create worked on its own copy: the caller's values are unchanged.
	if in.At != &at || !at.Equal(time.Date(2024, 3, 1, 10, 0, 0, 123456789, paris)) || at.Location() != paris {
		t.Errorf("Create modified the caller's time: %v", at)
	}
	// Changing the caller's record after Create does not change the stored one.
	in.Tags[0] = "mutated"
	*in.Title = "mutated"
	in.Blob[0] = 42
	got, err := r.Get(ctx, "i1")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got, thingCmp...); d != "" {
		t.Errorf("stored record changed through the caller's slices/pointers (-want +got):\n%s", d)
	}
	// Changing a returned record does not change the stored one.
	got.Tags[0] = "mutated"
	*got.Title = "mutated"
	got.Nums[0] = 7
	found := find(ctx, t, r, things.ThingQuery())
	if len(found) != 1 {
		t.Fatalf("Find returned %d records", len(found))
	}
	found[0].Tags[1] = "mutated"
	*found[0].Code = "mutated"
	again, err := r.Get(ctx, "i1")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, again, thingCmp...); d != "" {
		t.Errorf("stored record changed through a returned record (-want +got):\n%s", d)
	}
}

func testVersionConflict(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	v1rec, err := r.Create(ctx, fullThing("v"))
	if err != nil {
		t.Fatal(err)
	}
	v1 := v1rec.RecordVersion
	a := v1rec
	a.Name = "first writer"
	v2rec, err := r.Update(ctx, a, repo.IfVersion(v1))
	if err != nil {
		t.Fatalf("Update with the current version: %v", err)
	}
	b := v1rec
	b.Name = "second writer"
	_, err = r.Update(ctx, b, repo.IfVersion(v1))
	wantErr(t, "Update with a stale version", err, repo.ErrVersionConflict)
	if got, _ := r.Get(ctx, "v"); got.Name != "first writer" || got.RecordVersion != v2rec.RecordVersion {
		t.Errorf("a conflicting Update changed the record: %q %q", got.Name, got.RecordVersion)
	}
	wantErr(t, "Delete with a stale version", r.Delete(ctx, "v", repo.IfVersion(v1)), repo.ErrVersionConflict)
	if ok, _ := r.Exists(ctx, "v"); !ok {
		t.Errorf("a conflicting Delete removed the record")
	}
	_, err = r.Update(ctx, a, repo.IfVersion(""))
	wantErr(t, "IfVersion with an empty version", err, repo.ErrInvalidInput)
	_, err = r.Update(ctx, fullThing("missing"), repo.IfVersion(v1))
	wantErr(t, "IfVersion on a missing record", err, repo.ErrNotFound)
	// A version this backend never issued, on a missing record: still not found.
	_, err = r.Update(ctx, fullThing("missing"), repo.IfVersion("7"))
	wantErr(t, "IfVersion (foreign version) on a missing record", err, repo.ErrNotFound)
	wantErr(t, "Delete IfVersion (foreign version) of a missing record", r.Delete(ctx, "missing", repo.IfVersion("7")), repo.ErrNotFound)
	if err := r.Delete(ctx, "v", repo.IfVersion(v2rec.RecordVersion)); err != nil {
		t.Fatalf("Delete with the current version: %v", err)
	}

	// A record deleted and created again with other content does not accept an old
	// version.
	w, err := r.Create(ctx, fullThing("w"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, "w"); err != nil {
		t.Fatal(err)
	}
	w2 := fullThing("w")
	w2.Name = "reborn"
	if _, err := r.Create(ctx, w2); err != nil {
		t.Fatal(err)
	}
	stale := w
	stale.Name = "stale writer"
	_, err = r.Update(ctx, stale, repo.IfVersion(w.RecordVersion))
	wantErr(t, "Update of a re-created record with the old record's version", err, repo.ErrVersionConflict)
}
