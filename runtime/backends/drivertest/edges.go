package drivertest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
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

// testLongOperands: string operands of 2,000 bytes in GT, GTE, LT, LTE, BETWEEN,
// STARTS_WITH, LIKE and their negations, on a required, an optional and a text field, give
// the same answer on every backend (Elasticsearch refused range, prefix and wildcard
// operands of 1,000 bytes), and Page ordered by a string field walks across boundary values
// of 2,000 bytes in both directions.
func testLongOperands(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	F := things.ThingFields
	base := randomText(2000, 21)
	vals := []string{
		base, base + "a", base[:1999], base[:1999] + "~", base[:1500] + "0" + base[1501:], base[:950], base[:950] + "z",
		base[:900], base[:899], base[:899] + "~", base[:901], strings.Repeat("é", 1000), strings.Repeat("é", 999) + "f",
		"a", "zzz", "", base[:1000] + "%_" + base[1002:],
	}
	recs := make([]things.Thing, len(vals))
	for i, v := range vals {
		recs[i] = minimalThing(fmt.Sprintf("long%02d", i))
		recs[i].Name = v
		if i%3 != 0 {
			recs[i].Title = ptr(v)
		}
		recs[i].Body = ptr(v)
	}
	seed(ctx, t, r, recs)
	type fieldOf struct {
		f   query.StringField[things.Thing]
		get func(*things.Thing) (string, bool)
	}
	fields := []fieldOf{
		{F.Name, func(r *things.Thing) (string, bool) { return r.Name, true }},
		{F.Title, func(r *things.Thing) (string, bool) { return deref(r.Title) }},
		{F.Body, func(r *things.Thing) (string, bool) { return deref(r.Body) }},
	}
	ops := []struct {
		name string
		cond func(query.StringField[things.Thing], string) query.Cond[things.Thing]
		pred func(v, s string) bool
	}{
		{"GT", query.StringField[things.Thing].GT, func(v, s string) bool { return v > s }},
		{"GTE", query.StringField[things.Thing].GTE, func(v, s string) bool { return v >= s }},
		{"LT", query.StringField[things.Thing].LT, func(v, s string) bool { return v < s }},
		{"LTE", query.StringField[things.Thing].LTE, func(v, s string) bool { return v <= s }},
		{"StartsWith", query.StringField[things.Thing].StartsWith, strings.HasPrefix},
		{"Like s%", func(f query.StringField[things.Thing], s string) query.Cond[things.Thing] { return f.Like(s + "%") },
			func(v, s string) bool { return likeMatch(s+"%", v) }},
		{"Like %s_%", func(f query.StringField[things.Thing], s string) query.Cond[things.Thing] {
			return f.Like("%" + s[100:] + "_%")
		}, func(v, s string) bool { return likeMatch("%"+s[100:]+"_%", v) }},
		{"Between", func(f query.StringField[things.Thing], s string) query.Cond[things.Thing] {
			return f.Between(s[:950], s)
		},
			func(v, s string) bool { return v >= s[:950] && v <= s }},
	}
	operands := []string{base, base[:1999], base[:1500], base[:1000] + "%_"}
	for _, fo := range fields {
		for _, op := range ops {
			for _, s := range operands {
				var want, wantNot []string
				for i := range recs {
					v, ok := fo.get(&recs[i])
					if ok && op.pred(v, s) {
						want = append(want, recs[i].ID)
					} else {
						wantNot = append(wantNot, recs[i].ID)
					}
				}
				c := op.cond(fo.f, s)
				if got := findIDs(ctx, t, r, things.ThingQuery().Where(c)); !slices.Equal(got, want) {
					t.Errorf("%s %s(%d bytes): %q, want %q", fo.f.Name(), op.name, len(s), got, want)
				}
				if n := count(ctx, t, r, things.ThingQuery().Where(query.Not(c))); n != int64(len(wantNot)) {
					t.Errorf("%s NOT %s(%d bytes): Count %d, want %d", fo.f.Name(), op.name, len(s), n, len(wantNot))
				}
			}
		}
	}
	for _, fo := range fields {
		for _, desc := range []bool{false, true} {
			sorted := slices.Clone(recs)
			slices.SortStableFunc(sorted, func(a, b things.Thing) int {
				va, oka := fo.get(&a)
				vb, okb := fo.get(&b)
				switch {
				case oka != okb: // missing values last in both directions
					if oka {
						return -1
					}
					return 1
				case va != vb:
					c := strings.Compare(va, vb)
					if desc {
						c = -c
					}
					return c
				}
				return strings.Compare(a.ID, b.ID)
			})
			s := fo.f.Asc()
			if desc {
				s = fo.f.Desc()
			}
			q := things.ThingQuery().OrderBy(s, F.ID.Asc())
			if got := walkPages(t, pageOf(ctx, r), q, 2, len(recs)); !slices.Equal(got, thingIDs(sorted)) {
				t.Errorf("Page by %s (desc %v):\n got %q\nwant %q", fo.f.Name(), desc, got, thingIDs(sorted))
			}
		}
	}
}

func deref(p *string) (string, bool) {
	if p == nil {
		return "", false
	}
	return *p, true
}

// likeMatch reports whether v matches the LIKE pattern (package query's reading of it).
func likeMatch(pattern, v string) bool {
	l, err := query.ParseLike(pattern)
	return err == nil && l.Match(v)
}
