package drivertest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// stringLimit is the documented longest string value (docs/semantics.md, "Limits"): Lucene's
// longest term, which Elasticsearch's keyword fields hold.
const stringLimit = 32766

// testStoredStringBytes: string and text values (list elements included) of exactly 32,766
// bytes, of one-, two- and three-byte characters, are stored, read back, found by EQ,
// ranges, STARTS_WITH, LIKE and list conditions, sorted and paged alike on every backend,
// also when they share all but their last byte; an operand one byte longer matches what it
// should, without an error. A value one byte over is ErrInvalidInput naming the field, the
// limit and the size, in Create, Upsert, Update and in every batch (CreateBatch,
// UpsertBatch, UpdateBatch, StreamWrite), where it fails alone.
func testStoredStringBytes(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	v1 := randomText(stringLimit, 21)
	v2 := strings.Repeat("日", stringLimit/3)
	v3 := strings.Repeat("é", stringLimit/2)
	v4 := v1[:stringLimit-1] + "~" // all but the last byte shared with v1, sorts after it
	v5 := v1[:stringLimit-1]       // a prefix of v1, sorts before it
	for _, v := range []string{v1, v2, v3, v4} {
		if len(v) != stringLimit {
			t.Fatalf("test value of %d bytes", len(v))
		}
	}
	mk := func(id, name, title, body string, tags ...string) things.Thing {
		rec := minimalThing(id)
		rec.Name, rec.Title, rec.Body, rec.Tags = name, ptr(title), ptr(body), tags
		return rec
	}
	recs := []things.Thing{
		mk("s0", v1, v2, v3, v1, "t"),
		mk("s1", v2, v3, v1, v2),
		mk("s2", v3, v1, v2, v3, v4),
		mk("s3", v4, "b", v4),
		mk("s4", v5, v5, v5, "t", v5),
		mk("s5", "m", "m", "m"),
	}
	if _, err := r.Create(ctx, recs[0]); err != nil {
		t.Fatalf("Create with strings of %d bytes: %v", stringLimit, err)
	}
	if _, err := r.Upsert(ctx, recs[1]); err != nil {
		t.Fatalf("Upsert with strings of %d bytes: %v", stringLimit, err)
	}
	seed(ctx, t, r, recs[2:])
	for _, want := range recs {
		got, err := r.Get(ctx, want.ID)
		if err != nil || got.Name != want.Name || *got.Title != *want.Title || *got.Body != *want.Body || !slices.Equal(got.Tags, want.Tags) {
			t.Errorf("Get(%s): %v; the record did not round-trip", want.ID, err)
		}
	}

	F := things.ThingFields
	type field struct {
		name string
		f    query.StringField[things.Thing]
		get  func(*things.Thing) string
	}
	fields := []field{
		{"name", F.Name, func(r *things.Thing) string { return r.Name }},
		{"title", F.Title, func(r *things.Thing) string { return *r.Title }},
		{"body", F.Body, func(r *things.Thing) string { return *r.Body }},
	}
	over := v1 + "x"
	ids := func(keep func(*things.Thing) bool) []string {
		var out []string
		for i := range recs {
			if keep(&recs[i]) {
				out = append(out, recs[i].ID)
			}
		}
		return out
	}
	check := func(c query.Cond[things.Thing], want []string) {
		t.Helper()
		q := things.ThingQuery().Where(c)
		got, err := r.Find(ctx, q)
		if err != nil || !slices.Equal(thingIDs(got), want) {
			t.Errorf("Find(%.60s...) = %v, %v; want %v", c, thingIDs(got), err, want)
			return
		}
		if n, err := r.Count(ctx, q); err != nil || n != int64(len(want)) {
			t.Errorf("Count(%.60s...) = %d, %v; want %d", c, n, err, len(want))
		}
	}
	for _, fl := range fields {
		for _, v := range []string{v1, v2, v3, v4, v5, over} {
			check(fl.f.EQ(v), ids(func(r *things.Thing) bool { return fl.get(r) == v }))
		}
		check(query.Not(fl.f.EQ(v1)), ids(func(r *things.Thing) bool { return fl.get(r) != v1 }))
		for _, v := range []string{v1, over} {
			check(fl.f.GT(v), ids(func(r *things.Thing) bool { return fl.get(r) > v }))
			check(fl.f.GTE(v), ids(func(r *things.Thing) bool { return fl.get(r) >= v }))
			check(fl.f.LT(v), ids(func(r *things.Thing) bool { return fl.get(r) < v }))
		}
		check(fl.f.LTE(v4), ids(func(r *things.Thing) bool { return fl.get(r) <= v4 }))
		check(fl.f.Between(v5, v1), ids(func(r *things.Thing) bool { return fl.get(r) >= v5 && fl.get(r) <= v1 }))
		for _, p := range []string{v1[:20000], v2[:3000], v5, v1, over} {
			check(fl.f.StartsWith(p), ids(func(r *things.Thing) bool { return strings.HasPrefix(fl.get(r), p) }))
		}
		check(fl.f.Like(v5+"_"), ids(func(r *things.Thing) bool { v := fl.get(r); return len(v) == stringLimit && v[:stringLimit-1] == v5 }))
		check(fl.f.Like("%"+v3[100:300]+"%"), ids(func(r *things.Thing) bool { return strings.Contains(fl.get(r), v3[100:300]) }))
	}
	// Ids are shorter, but an id operand is not limited (S3 starts its listing at the id).
	check(F.ID.EQ(over), nil)
	check(F.ID.IN(over, v2, "s1"), []string{"s1"})
	check(F.ID.GTE(v1), ids(func(r *things.Thing) bool { return r.ID >= v1 }))
	check(F.ID.Between(v2, v3), nil)
	check(query.Or(F.ID.GT(v2), F.ID.EQ("s2")), []string{"s2"})
	for _, v := range []string{v1, v4, v5, over} {
		check(F.Tags.Contains(v), ids(func(r *things.Thing) bool { return slices.Contains(r.Tags, v) }))
	}
	check(F.Tags.ContainsAny(v2, v3, over), ids(func(r *things.Thing) bool {
		return slices.Contains(r.Tags, v2) || slices.Contains(r.Tags, v3)
	}))

	for _, fl := range fields {
		for _, desc := range []bool{false, true} {
			want := slices.Clone(recs)
			slices.SortFunc(want, func(a, b things.Thing) int {
				c := cmp.Compare(fl.get(&a), fl.get(&b))
				if desc {
					c = -c
				}
				return cmp.Or(c, cmp.Compare(a.ID, b.ID))
			})
			key := fl.f.Asc()
			if desc {
				key = fl.f.Desc()
			}
			q := things.ThingQuery().OrderBy(key)
			if got := findIDs(ctx, t, r, q); !slices.Equal(got, thingIDs(want)) {
				t.Errorf("Find ordered by %s (desc %v) = %v, want %v", fl.name, desc, got, thingIDs(want))
			}
			if got := walkPages(t, pageOf(ctx, r), q, 1, len(want)); !slices.Equal(got, thingIDs(want)) {
				t.Errorf("Page ordered by %s (desc %v, one a page) = %v, want %v", fl.name, desc, got, thingIDs(want))
			}
		}
	}

	testStringOver(ctx, t, r, recs[5])
}

// testStringOver: values one byte (or one character) over the string limit are rejected on
// every write path, a record at a time.
func testStringOver(ctx context.Context, t *testing.T, r repo.Repository[things.Thing], stored things.Thing) {
	overASCII := randomText(stringLimit+1, 22)
	over3 := strings.Repeat("日", stringLimit/3) + "é" // 32,768 bytes
	overs := []struct {
		field string
		size  int
		set   func(*things.Thing)
	}{
		{"name", stringLimit + 1, func(r *things.Thing) { r.Name = overASCII }},
		{"title", stringLimit + 2, func(r *things.Thing) { r.Title = ptr(over3) }},
		{"body", stringLimit + 1, func(r *things.Thing) { r.Body = ptr(overASCII) }},
		{"tags", stringLimit + 2, func(r *things.Thing) { r.Tags = []string{"t", over3} }},
	}
	for _, o := range overs {
		rec := minimalThing("over-" + o.field)
		o.set(&rec)
		_, err := r.Create(ctx, rec)
		wantLimitErr(t, "Create with a long "+o.field, err, o.field, stringLimit, o.size)
		_, err = r.Upsert(ctx, rec)
		wantLimitErr(t, "Upsert with a long "+o.field, err, o.field, stringLimit, o.size)
		upd := stored
		o.set(&upd)
		_, err = r.Update(ctx, upd)
		wantLimitErr(t, "Update with a long "+o.field, err, o.field, stringLimit, o.size)
	}
	if got, err := r.Get(ctx, stored.ID); err != nil || got.Name != stored.Name || *got.Title != *stored.Title || *got.Body != *stored.Body || len(got.Tags) != 0 {
		t.Errorf("a rejected Update changed the record: %v", err)
	}

	batches := []struct {
		name   string
		update bool
		write  func([]things.Thing) ([]repo.Result, error)
	}{
		{"CreateBatch", false, func(b []things.Thing) ([]repo.Result, error) { return r.CreateBatch(ctx, b) }},
		{"UpsertBatch", false, func(b []things.Thing) ([]repo.Result, error) { return r.UpsertBatch(ctx, b) }},
		{"UpdateBatch", true, func(b []things.Thing) ([]repo.Result, error) { return r.UpdateBatch(ctx, b) }},
		{"StreamWrite", false, func(b []things.Thing) ([]repo.Result, error) {
			res, err := r.StreamWrite(ctx, seqOf(b), repo.StreamBatchSize(7))
			out := make([]repo.Result, len(b))
			for _, f := range res.Failures {
				out[f.Index].Err = f.Err
			}
			return out, err
		}},
	}
	fields := things.ThingFields
	for bi, b := range batches {
		for _, n := range []int{3, 20} {
			batch := make([]things.Thing, n)
			for i := range batch {
				batch[i] = minimalThing(fmt.Sprintf("sb%d-%d-%02d", bi, n, i))
			}
			if b.update {
				seed(ctx, t, r, batch)
				for i := range batch {
					batch[i].Name = "updated"
				}
			}
			bad := map[int]int{1: 0, n - 1: 3} // index in batch: index in overs
			for i, o := range bad {
				overs[o].set(&batch[i])
			}
			res, err := b.write(batch)
			if err != nil {
				t.Fatalf("%s(%d): %v", b.name, n, err)
			}
			for i, x := range res {
				if o, isBad := bad[i]; isBad {
					wantLimitErr(t, fmt.Sprintf("%s(%d) item %d", b.name, n, i), x.Err, overs[o].field, stringLimit, overs[o].size)
				} else if x.Err != nil {
					t.Errorf("%s(%d) item %d: %v", b.name, n, i, x.Err)
				}
			}
			// The others were written: new records, or the update of the name.
			written := fields.Name.StartsWith("min ")
			if b.update {
				written = fields.Name.EQ("updated")
			}
			q := things.ThingQuery().Where(written, fields.ID.StartsWith(fmt.Sprintf("sb%d-%d-", bi, n)))
			if got := count(ctx, t, r, q); got != int64(n-2) {
				t.Errorf("%s(%d): %d records written, want %d", b.name, n, got, n-2)
			}
		}
	}
}

// CheckLegacyLongStrings: records with strings longer than the string limit, stored by the
// driver d directly (below the portable checks, as before the limit existed), are read
// through a repository over d like any others: Get, GetBatch, Find by EQ, STARTS_WITH and
// CONTAINS on the long values, Count, Stream, Find and Page ordered by the long field,
// Delete. Writing such a record back unchanged is ErrInvalidInput (a write rule); once its
// values are shortened, the Update succeeds. d must hold no Thing records yet. Backends whose
// server stores such strings (PostgreSQL, S3, memory) run it from their own tests.
func CheckLegacyLongStrings(t *testing.T, d repo.Driver[things.Thing]) {
	ctx := testContext(t)
	long := "a" + randomText(39999, 31) // sorts before "short"
	tag := strings.Repeat("日", 20000)
	legacy := []things.Thing{minimalThing("old1"), minimalThing("old2"), minimalThing("new")}
	legacy[0].Name, legacy[0].Tags, legacy[0].Body = long, []string{"t", tag}, ptr(long+long)
	legacy[1].Name = long + "~"
	legacy[2].Name = "short"
	res := make([]repo.Result, len(legacy))
	if err := d.Insert(ctx, legacy, res); err != nil {
		t.Fatalf("Insert below the portable layer: %v", err)
	}
	for i, x := range res {
		if x.Err != nil {
			t.Fatalf("Insert below the portable layer, record %d: %v", i, x.Err)
		}
	}
	r := repo.New(things.ThingSchema, d)
	got, err := r.Get(ctx, "old1")
	if err != nil || got.Name != long || !slices.Equal(got.Tags, legacy[0].Tags) || got.Body == nil || *got.Body != long+long {
		t.Fatalf("Get of a record with strings over the limit: %v; it did not round-trip", err)
	}
	if recs, res, err := r.GetBatch(ctx, []string{"old1", "old2"}); err != nil || len(recs) != 2 || res[0].Err != nil || res[1].Err != nil {
		t.Errorf("GetBatch: %d records, %v, %v", len(recs), res, err)
	}
	F := things.ThingFields
	for _, c := range []struct {
		cond query.Cond[things.Thing]
		want []string
	}{
		{F.Name.EQ(long), []string{"old1"}}, {F.Name.StartsWith(long[:30000]), []string{"old1", "old2"}},
		{F.Name.GT(long), []string{"new", "old2"}}, {F.Tags.Contains(tag), []string{"old1"}},
		{F.Body.EQ(long + long), []string{"old1"}},
	} {
		if ids := findIDs(ctx, t, r, things.ThingQuery().Where(c.cond)); !slices.Equal(ids, c.want) {
			t.Errorf("Find(%.40s...) = %v, want %v", c.cond, ids, c.want)
		}
	}
	if n := count(ctx, t, r, things.ThingQuery().Where(F.Name.StartsWith(long[:100]))); n != 2 {
		t.Errorf("Count = %d, want 2", n)
	}
	n := 0
	for _, err := range r.Stream(ctx, things.ThingQuery()) {
		if err != nil {
			t.Fatalf("Stream: %v", err)
		}
		n++
	}
	if n != 3 {
		t.Errorf("Stream: %d records, want 3", n)
	}
	byName := things.ThingQuery().OrderBy(F.Name.Desc())
	want := []string{"new", "old2", "old1"}
	if ids := findIDs(ctx, t, r, byName); !slices.Equal(ids, want) {
		t.Errorf("Find ordered by name = %v, want %v", ids, want)
	}
	if ids := walkPages(t, pageOf(ctx, r), byName, 1, 3); !slices.Equal(ids, want) {
		t.Errorf("Page ordered by name = %v, want %v", ids, want)
	}

	_, err = r.Update(ctx, got)
	wantLimitErr(t, "Update writing back a long name", err, "name", stringLimit, len(long))
	got.Name, got.Tags, got.Body = "shortened", nil, nil
	if _, err := r.Update(ctx, got); err != nil {
		t.Errorf("Update shortening the values: %v", err)
	}
	if err := r.Delete(ctx, "old2"); err != nil {
		t.Errorf("Delete of a record with a long name: %v", err)
	}
	if ids := findIDs(ctx, t, r, things.ThingQuery()); !slices.Equal(ids, []string{"new", "old1"}) {
		t.Errorf("after Update and Delete: %v, want [new old1]", ids)
	}
}
