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

func testInvalidInput(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	bad := func(field string, mod func(*things.Thing)) (string, things.Thing) {
		x := fullThing("bad-" + field)
		mod(&x)
		return field, x
	}
	cases := []struct {
		field string
		rec   things.Thing
	}{}
	add := func(f string, x things.Thing) {
		cases = append(cases, struct {
			field string
			rec   things.Thing
		}{f, x})
	}
	add(bad("id", func(x *things.Thing) { x.ID = "" }))
	add(bad("id", func(x *things.Thing) { x.ID = "a\x00b" }))
	add(bad("id", func(x *things.Thing) { x.ID = "a\xffb" }))
	add(bad("kind", func(x *things.Thing) { x.Kind = ptr(things.ThingKind("zzz")) }))
	add(bad("kind", func(x *things.Thing) { x.Kind = ptr(things.ThingKind("A")) }))
	add(bad("levels", func(x *things.Thing) { x.Levels = []things.ThingLevel{"low", "bogus"} }))
	add(bad("ratio", func(x *things.Thing) { x.Ratio = math.NaN() }))
	add(bad("ratio", func(x *things.Thing) { x.Ratio = math.Inf(-1) }))
	add(bad("score", func(x *things.Thing) { x.Score = ptr(math.Inf(1)) }))
	add(bad("name", func(x *things.Thing) { x.Name = "bad \xff utf8" }))
	add(bad("name", func(x *things.Thing) { x.Name = "nul\x00inside" }))
	add(bad("title", func(x *things.Thing) { x.Title = ptr("\x00") }))
	add(bad("body", func(x *things.Thing) { x.Body = ptr("\xc3") }))
	add(bad("tags", func(x *things.Thing) { x.Tags = []string{"ok", "a\x00"} }))
	add(bad("code", func(x *things.Thing) { x.Code = ptr("not-a-uuid") }))
	add(bad("code", func(x *things.Thing) { x.Code = ptr("0190A6C4-1B2C-7D3E-8F40-123456789ABC") }))
	add(bad("code", func(x *things.Thing) { x.Code = ptr("") }))
	add(bad("meta", func(x *things.Thing) { x.Meta = json.RawMessage(`{"unterminated":`) }))
	for _, c := range cases {
		_, err := r.Create(ctx, c.rec)
		what := "Create with a bad " + c.field
		wantErr(t, what, err, repo.ErrInvalidInput)
		if err != nil && !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: error %q does not name the field", what, err)
		}
		var re *repo.Error
		if err != nil && (!errors.As(err, &re) || re.Record != "Thing") {
			t.Errorf("%s: error %#v is not a *repo.Error for Thing", what, err)
		}
	}
	if n := count(ctx, t, r, things.ThingQuery()); n != 0 {
		t.Errorf("%d invalid records were stored", n)
	}

	// Bad ids in calls that take one.
	for _, id := range []string{"", "a\x00", "\xff"} {
		_, err := r.Get(ctx, id)
		wantErr(t, "Get("+id+")", err, repo.ErrInvalidInput)
		_, err = r.Exists(ctx, id)
		wantErr(t, "Exists("+id+")", err, repo.ErrInvalidInput)
		wantErr(t, "Delete("+id+")", r.Delete(ctx, id), repo.ErrInvalidInput)
		_, err = r.Update(ctx, things.Thing{ID: id, Name: "x", Created: t0})
		wantErr(t, "Update("+id+")", err, repo.ErrInvalidInput)
	}

	// An invalid Update leaves the stored record alone.
	good, err := r.Create(ctx, fullThing("good"))
	if err != nil {
		t.Fatal(err)
	}
	broken := good
	broken.Ratio = math.NaN()
	_, err = r.Update(ctx, broken)
	wantErr(t, "Update with NaN", err, repo.ErrInvalidInput)
	if got, _ := r.Get(ctx, "good"); got.RecordVersion != good.RecordVersion || got.Ratio != good.Ratio {
		t.Errorf("an invalid Update changed the record")
	}

	// UUID ids are checked on every call.
	ctxO, o := makeOthers(t, h)
	for _, id := range []string{"not-a-uuid", "0190A6C4-1B2C-7D3E-8F40-123456789ABC", "0190a6c41b2c7d3e8f40123456789abc"} {
		_, err := o.Get(ctxO, id)
		wantErr(t, "Other.Get("+id+")", err, repo.ErrInvalidInput)
		_, err = o.Create(ctxO, things.Other{ID: id, Label: "x"})
		wantErr(t, "Other.Create with id "+id, err, repo.ErrInvalidInput)
	}
}

func testInvalidQuery(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, []things.Thing{fullThing("q1"), minimalThing("q2")})
	F := things.ThingFields
	Q := things.ThingQuery
	nope := query.NewStringField[things.Thing]("nope")
	cases := []struct {
		name string
		q    query.Query[things.Thing]
		also error
	}{
		{"negative limit", Q().Limit(-1), query.ErrBadQuery},
		{"negative offset", Q().Offset(-1), query.ErrBadQuery},
		{"unknown field", Q().Where(nope.EQ("x")), query.ErrBadQuery},
		{"unknown field deep in OR", Q().Where(query.Or(F.Name.EQ("x"), query.Not(nope.Exists()))), query.ErrBadQuery},
		{"unknown sort field", Q().OrderBy(nope.Asc()), query.ErrBadQuery},
		{"unknown selected field", Q().Select(nope), query.ErrBadQuery},
		{"sort by a list", Q().OrderBy(query.NewStringField[things.Thing]("tags").Asc()), query.ErrBadQuery},
		{"sort by bytes", Q().OrderBy(query.NewStringField[things.Thing]("blob").Desc()), query.ErrBadQuery},
		{"sort by json", Q().OrderBy(query.NewStringField[things.Thing]("meta").Asc()), query.ErrBadQuery},
		{"EQ on json", Q().Where(query.NewStringField[things.Thing]("meta").EQ("x")), query.ErrBadQuery},
		{"LIKE on enum", Q().Where(query.NewStringField[things.Thing]("kind").Like("a%")), query.ErrBadQuery},
		{"LIKE on a list", Q().Where(query.NewStringField[things.Thing]("tags").Like("a%")), query.ErrBadQuery},
		{"GT on a list", Q().Where(query.NewIntField[things.Thing]("nums").GT(1)), query.ErrBadQuery},
		{"int operand on a string", Q().Where(query.NewIntField[things.Thing]("name").EQ(1)), query.ErrBadQuery},
		{"string operand on an int", Q().Where(query.NewStringField[things.Thing]("rank").IN("1")), query.ErrBadQuery},
		{"NaN operand", Q().Where(F.Score.EQ(math.NaN())), query.ErrBadValue},
		{"infinite operand", Q().Where(F.Ratio.Between(0, math.Inf(1))), query.ErrBadValue},
		{"NUL in operand", Q().Where(F.Name.IN("ok", "a\x00")), query.ErrBadValue},
		{"invalid UTF-8 operand", Q().Where(F.Title.NEQ("\xff")), query.ErrBadValue},
		{"invalid UTF-8 prefix", Q().Where(F.Title.StartsWith("\xff")), query.ErrBadValue},
	}
	for _, c := range cases {
		_, err := r.Find(ctx, c.q)
		wantErr(t, "Find: "+c.name, err, repo.ErrInvalidInput, c.also)
		_, err = r.Page(ctx, c.q, "")
		wantErr(t, "Page: "+c.name, err, repo.ErrInvalidInput, c.also)
		var serr error
		n := 0
		for _, err := range r.Stream(ctx, c.q) {
			n++
			serr = err
			if err != nil {
				break
			}
		}
		if n != 1 {
			t.Errorf("Stream: %s: yielded %d items, want just the error", c.name, n)
		}
		wantErr(t, "Stream: "+c.name, serr, repo.ErrInvalidInput, c.also)
	}
	// Count checks the filter (and the query's own errors).
	for _, c := range cases[2:5] {
		_, err := r.Count(ctx, c.q)
		wantErr(t, "Count: "+c.name, err, repo.ErrInvalidInput, c.also)
	}
	_, err := r.Page(ctx, Q().Offset(1), "")
	wantErr(t, "Page with an offset", err, repo.ErrInvalidInput)
}

func testClosed(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, []things.Thing{fullThing("c1")})
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, err := r.Create(ctx, fullThing("c2"))
	wantErr(t, "Create after Close", err, repo.ErrClosed)
	_, err = r.CreateBatch(ctx, []things.Thing{fullThing("c3")})
	wantErr(t, "CreateBatch after Close", err, repo.ErrClosed)
	_, err = r.Get(ctx, "c1")
	wantErr(t, "Get after Close", err, repo.ErrClosed)
	_, err = r.Update(ctx, fullThing("c1"))
	wantErr(t, "Update after Close", err, repo.ErrClosed)
	_, err = r.Upsert(ctx, fullThing("c1"))
	wantErr(t, "Upsert after Close", err, repo.ErrClosed)
	wantErr(t, "Delete after Close", r.Delete(ctx, "c1"), repo.ErrClosed)
	_, err = r.Exists(ctx, "c1")
	wantErr(t, "Exists after Close", err, repo.ErrClosed)
	_, err = r.Find(ctx, things.ThingQuery())
	wantErr(t, "Find after Close", err, repo.ErrClosed)
	_, err = r.Count(ctx, things.ThingQuery())
	wantErr(t, "Count after Close", err, repo.ErrClosed)
	_, err = r.Page(ctx, things.ThingQuery(), "")
	wantErr(t, "Page after Close", err, repo.ErrClosed)
	var serr error
	for _, err := range r.Stream(ctx, things.ThingQuery()) {
		serr = err
		break
	}
	wantErr(t, "Stream after Close", serr, repo.ErrClosed)
}

func testCreateBatch(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	pre := fullThing("p1")
	pre.Name = "pre-existing"
	seed(ctx, t, r, []things.Thing{pre})

	b1 := fullThing("b1")
	b1.Name = "first b1"
	b1dup := fullThing("b1")
	b1dup.Name = "second b1"
	nan := fullThing("bad")
	nan.Ratio = math.NaN()
	batch := []things.Thing{b1, fullThing("p1"), fullThing("b2"), b1dup, nan, {Name: "no id", Created: t0}, fullThing("b3")}
	res, err := r.CreateBatch(ctx, batch)
	if err != nil {
		t.Fatalf("CreateBatch: %v", err)
	}
	if len(res) != len(batch) {
		t.Fatalf("CreateBatch returned %d results for %d records", len(res), len(batch))
	}
	wantIDs := []string{"b1", "p1", "b2", "b1", "bad", "", "b3"}
	wantKinds := []error{nil, repo.ErrAlreadyExists, nil, repo.ErrAlreadyExists, repo.ErrInvalidInput, repo.ErrInvalidInput, nil}
	for i, x := range res {
		if x.ID != wantIDs[i] {
			t.Errorf("result %d: id %q, want %q", i, x.ID, wantIDs[i])
		}
		if wantKinds[i] == nil {
			if x.Err != nil || x.Version == "" {
				t.Errorf("result %d (%s): err %v, version %q; want success with a version", i, x.ID, x.Err, x.Version)
			}
			continue
		}
		wantErr(t, "batch item "+x.ID, x.Err, wantKinds[i])
		if x.Version != "" {
			t.Errorf("result %d (%s) failed but has version %q", i, x.ID, x.Version)
		}
	}
	ids := findIDs(ctx, t, r, things.ThingQuery())
	if want := []string{"b1", "b2", "b3", "p1"}; !equalStrings(ids, want) {
		t.Errorf("stored ids %v, want %v", ids, want)
	}
	if got, _ := r.Get(ctx, "b1"); got.Name != "first b1" {
		t.Errorf("b1 is %q: the duplicate later in the batch must not replace the first", got.Name)
	}
	if got, _ := r.Get(ctx, "p1"); got.Name != "pre-existing" {
		t.Errorf("p1 is %q: a duplicate in a batch must not replace the stored record", got.Name)
	}
	if got, _ := r.Get(ctx, "b2"); got.RecordVersion != res[2].Version {
		t.Errorf("b2 version %q, batch result %q", got.RecordVersion, res[2].Version)
	}

	empty, err := r.CreateBatch(ctx, nil)
	if err != nil || len(empty) != 0 {
		t.Errorf("CreateBatch(nil) = %v, %v", empty, err)
	}

	big := make([]things.Thing, 300)
	for i := range big {
		big[i] = minimalThing("big-" + itoa(i))
	}
	seed(ctx, t, r, big)
	if n := count(ctx, t, r, things.ThingQuery().Where(things.ThingFields.ID.StartsWith("big-"))); n != 300 {
		t.Errorf("Count after a batch of 300 = %d", n)
	}

	// A batch of only failures stores nothing and is not an error as a whole.
	res, err = r.CreateBatch(ctx, []things.Thing{fullThing("b1"), nan})
	if err != nil || len(res) != 2 || res[0].Err == nil || res[1].Err == nil {
		t.Errorf("all-failing batch: %v, %+v", err, res)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func itoa(i int) string {
	const digits = "0123456789"
	if i == 0 {
		return "000"
	}
	var b [3]byte
	for j := 2; j >= 0; j-- {
		b[j] = digits[i%10]
		i /= 10
	}
	return string(b[:])
}

func testGeneratedIDs(t *testing.T, h Harness) {
	ctx, o := makeOthers(t, h)
	a, err := o.Create(ctx, things.Other{Label: "a"})
	if err != nil {
		t.Fatalf("Create without id: %v", err)
	}
	if err := uuidOK(a.ID); err != nil {
		t.Errorf("generated id: %v", err)
	}
	if a.RecordVersion == "" {
		t.Errorf("no version")
	}
	if got, err := o.Get(ctx, a.ID); err != nil || got.Label != "a" {
		t.Errorf("Get(generated id) = %+v, %v", got, err)
	}

	batch := make([]things.Other, 50)
	for i := range batch {
		batch[i] = things.Other{Label: "batch " + itoa(i)}
	}
	res, err := o.CreateBatch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{a.ID: true}
	for i, x := range res {
		if x.Err != nil {
			t.Fatalf("item %d: %v", i, x.Err)
		}
		if err := uuidOK(x.ID); err != nil {
			t.Errorf("item %d: %v", i, err)
		}
		if seen[x.ID] {
			t.Errorf("id %s generated twice", x.ID)
		}
		seen[x.ID] = true
		if got, err := o.Get(ctx, x.ID); err != nil || got.Label != "batch "+itoa(i) {
			t.Errorf("item %d: Get = %+v, %v", i, got, err)
		}
	}
	if batch[0].ID != "" {
		t.Errorf("CreateBatch wrote the generated id into the caller's slice")
	}

	given := "0190a6c4-1b2c-7d3e-8f40-123456789abc"
	b, err := o.Create(ctx, things.Other{ID: given, Label: "given"})
	if err != nil || b.ID != given {
		t.Errorf("Create with a given id = %q, %v", b.ID, err)
	}
	if n := count(ctx, t, o, things.OtherQuery()); n != 52 {
		t.Errorf("Count = %d, want 52", n)
	}
}

func testDefaults(t *testing.T, h Harness) {
	ctx, o := makeOthers(t, h)
	a, err := o.Create(ctx, things.Other{Label: "defaulted"})
	if err != nil {
		t.Fatal(err)
	}
	if a.State == nil || *a.State != things.OtherStateNew {
		t.Errorf("Create returned state %v, want the default %q", a.State, things.OtherStateNew)
	}
	b, err := o.Create(ctx, things.Other{Label: "explicit", State: ptr(things.OtherStateDone)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := o.Get(ctx, a.ID)
	if err != nil || got.State == nil || *got.State != things.OtherStateNew {
		t.Errorf("stored state %v, %v; want the default", got.State, err)
	}
	got, err = o.Get(ctx, b.ID)
	if err != nil || got.State == nil || *got.State != things.OtherStateDone {
		t.Errorf("explicit state %v, %v", got.State, err)
	}
	n := count(ctx, t, o, things.OtherQuery().Where(things.OtherFields.State.EQ(things.OtherStateNew)))
	if n != 1 {
		t.Errorf("Count(state = new) = %d, want 1", n)
	}
	if n := count(ctx, t, o, things.OtherQuery().Where(things.OtherFields.State.NotExists())); n != 0 {
		t.Errorf("Count(state missing) = %d, want 0: defaults are stored", n)
	}
	// Update applies defaults too.
	got.State = nil
	up, err := o.Update(ctx, got)
	if err != nil || up.State == nil || *up.State != things.OtherStateNew {
		t.Errorf("Update without state = %v, %v; want the default", up.State, err)
	}
}

func testKeywords(t *testing.T, h Harness) {
	ctx, r := makeKeywords(t, h)
	F := things.KeywordFields
	recs := []things.Keyword{
		{ID: "k1", Type: "select", Order: ptr[int64](2), Select: ptr(true), Group: ptr(things.KeywordGroupX)},
		{ID: "k2", Type: "from", Order: ptr[int64](1), Group: ptr(things.KeywordGroupY)},
		{ID: "k3", Type: "where", Select: ptr(false)},
	}
	seed(ctx, t, r, recs)
	got, err := r.Get(ctx, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(recs[0], got, cmpopts.IgnoreFields(things.Keyword{}, "RecordVersion")); d != "" {
		t.Errorf("Get (-want +got):\n%s", d)
	}
	ids := func(q query.Query[things.Keyword]) []string {
		t.Helper()
		var out []string
		for _, k := range find(ctx, t, r, q) {
			out = append(out, k.ID)
		}
		return out
	}
	Q := things.KeywordQuery
	checks := []struct {
		q    query.Query[things.Keyword]
		want []string
	}{
		{Q().Where(F.Type.EQ("select")), []string{"k1"}},
		{Q().Where(F.Type.Like("%e%")), []string{"k1", "k3"}},
		{Q().Where(F.Order.GT(1)), []string{"k1"}},
		{Q().Where(F.Order.NotExists()), []string{"k3"}},
		{Q().Where(F.Select.EQ(true)), []string{"k1"}},
		{Q().Where(F.Select.NEQ(true)), []string{"k2", "k3"}},
		{Q().Where(F.Group.IN(things.KeywordGroupX)), []string{"k1"}},
		{Q().Where(F.Group.NotIn(things.KeywordGroupX)), []string{"k2", "k3"}},
		{Q().OrderBy(F.Order.Asc()), []string{"k2", "k1", "k3"}},
		{Q().OrderBy(F.Order.Desc()), []string{"k1", "k2", "k3"}},
		{Q().OrderBy(F.Select.Asc(), F.Type.Desc()), []string{"k3", "k1", "k2"}},
		{Q().OrderBy(F.Group.Desc()), []string{"k2", "k1", "k3"}},
		{Q().OrderBy(F.Type.Asc()).Limit(2), []string{"k2", "k1"}},
	}
	for _, c := range checks {
		if got := ids(c.q); !equalStrings(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.q, got, c.want)
		}
	}
	p, err := r.Page(ctx, Q().OrderBy(F.Order.Desc()).Limit(2), "")
	if err != nil {
		t.Fatal(err)
	}
	p2, err := r.Page(ctx, Q().OrderBy(F.Order.Desc()).Limit(2), p.Next)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 2 || len(p2.Items) != 1 || p2.Items[0].ID != "k3" || p2.Next != "" {
		t.Errorf("pages %+v then %+v", p, p2)
	}
	sel := find(ctx, t, r, Q().Where(F.ID.EQ("k1")).Select(F.Type, F.Group))
	if len(sel) != 1 || sel[0].Type != "select" || sel[0].Group == nil || sel[0].Order != nil || sel[0].Select != nil {
		t.Errorf("projection of type and group: %+v", sel)
	}
	k := recs[1]
	k.Type = "group"
	if _, err := r.Update(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, "k3"); err != nil {
		t.Fatal(err)
	}
	if got := ids(Q()); !equalStrings(got, []string{"k1", "k2"}) {
		t.Errorf("after delete: %v", got)
	}
}
