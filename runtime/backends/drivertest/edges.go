package drivertest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

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
		{"Like short%long", func(f query.StringField[things.Thing], s string) query.Cond[things.Thing] {
			return f.Like(s[:10] + "%" + s[10:])
		}, func(v, s string) bool { return likeMatch(s[:10]+"%"+s[10:], v) }},
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

// testTimeRange: times from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z are stored,
// read, filtered and sorted on every backend; a time outside years 1 to 9,999 in UTC (also
// one whose own zone is inside) is ErrInvalidInput naming the field and the year in Create,
// Upsert, Update and a batch, where it fails alone, before any backend stores it. Filter
// operands outside the range are allowed and compare like any other time.
func testTimeRange(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	F := things.ThingFields
	first := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	last := time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
	lastInZone := time.Date(10000, 1, 1, 4, 59, 59, 999999000, time.FixedZone("", 5*3600)) // = last
	recs := []things.Thing{minimalThing("t-first"), minimalThing("t-last"), minimalThing("t-mid")}
	recs[0].Created, recs[0].At = first, ptr(last)
	recs[1].Created, recs[1].At = lastInZone, ptr(first)
	seed(ctx, t, r, recs)
	for _, c := range []struct {
		id          string
		created, at time.Time
	}{{"t-first", first, last}, {"t-last", last, first}} {
		got, err := r.Get(ctx, c.id)
		if err != nil || !got.Created.Equal(c.created) || got.At == nil || !got.At.Equal(c.at) {
			t.Errorf("Get(%s) = created %v at %v, %v; want %v, %v", c.id, got.Created, got.At, err, c.created, c.at)
		}
	}
	if got := findIDs(ctx, t, r, things.ThingQuery().OrderBy(F.Created.Desc())); !slices.Equal(got, []string{"t-last", "t-mid", "t-first"}) {
		t.Errorf("Find by created desc = %v", got)
	}
	if got := findIDs(ctx, t, r, things.ThingQuery().Where(F.At.EQ(last))); !slices.Equal(got, []string{"t-first"}) {
		t.Errorf("Find(at = %v) = %v", last, got)
	}
	for _, c := range []struct {
		cond query.Cond[things.Thing]
		want []string
	}{
		{F.Created.LT(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)), []string{"t-first", "t-last", "t-mid"}},
		{F.Created.GT(time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)), []string{"t-first", "t-last", "t-mid"}},
		{F.Created.LTE(first), []string{"t-first"}},
		{F.Created.GTE(last), []string{"t-last"}},
	} {
		if got := findIDs(ctx, t, r, things.ThingQuery().Where(c.cond)); !slices.Equal(got, c.want) {
			t.Errorf("Find(%s) = %v, want %v", c.cond, got, c.want)
		}
	}

	bads := []struct {
		at   time.Time
		year int
	}{
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), 10000},
		{time.Date(9999, 12, 31, 23, 30, 0, 0, time.FixedZone("", -3600)), 10000},
		{time.Date(1, 1, 1, 0, 30, 0, 0, time.FixedZone("", 3600)), 0},
		{time.Date(-1, 6, 1, 0, 0, 0, 0, time.UTC), -1},
	}
	wantYear := func(what string, err error, field string, year int) {
		t.Helper()
		wantErr(t, what, err, repo.ErrInvalidInput)
		var le *repo.LimitError
		if err != nil && (!errors.As(err, &le) || le.Size != year || !strings.Contains(err.Error(), field) || !strings.Contains(err.Error(), fmt.Sprintf("year %d", year))) {
			t.Errorf("%s: %q does not name %s and the year %d", what, err, field, year)
		}
	}
	for _, b := range bads {
		rec := minimalThing("t-bad")
		rec.Created = b.at
		_, err := r.Create(ctx, rec)
		wantYear(fmt.Sprintf("Create with created %v", b.at), err, "created", b.year)
		_, err = r.Upsert(ctx, rec)
		wantYear(fmt.Sprintf("Upsert with created %v", b.at), err, "created", b.year)
		upd := recs[2]
		upd.At = ptr(b.at)
		_, err = r.Update(ctx, upd)
		wantYear(fmt.Sprintf("Update with at %v", b.at), err, "at", b.year)
		batch := []things.Thing{minimalThing("t-b0"), rec, minimalThing("t-b2")}
		res, err := r.CreateBatch(ctx, batch)
		if err != nil {
			t.Fatalf("CreateBatch: %v", err)
		}
		wantYear(fmt.Sprintf("CreateBatch item with created %v", b.at), res[1].Err, "created", b.year)
		for _, i := range []int{0, 2} {
			if res[i].Err != nil && !errors.Is(res[i].Err, repo.ErrAlreadyExists) {
				t.Errorf("CreateBatch item %d: %v", i, res[i].Err)
			}
		}
	}
	if got := findIDs(ctx, t, r, things.ThingQuery()); !slices.Equal(got, []string{"t-b0", "t-b2", "t-first", "t-last", "t-mid"}) {
		t.Errorf("stored: %v", got)
	}
}

// testExtremeIntSort: an optional int key sorts a stored math.MinInt64 or math.MaxInt64
// before a missing value in both directions (Elasticsearch sorted a missing long as the
// extreme value, and let the next key decide between them), in Find and in Page.
func testExtremeIntSort(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	F := things.ThingFields
	recs := []things.Thing{minimalThing("e0"), minimalThing("e1"), minimalThing("e2"), minimalThing("e3"), minimalThing("e4")}
	recs[1].Rank = ptr[int64](math.MaxInt64)
	recs[2].Rank = ptr[int64](math.MinInt64)
	recs[3].Rank = ptr[int64](0)
	seed(ctx, t, r, recs) // e0 and e4 have no rank; their ids sort before and after the others'
	for _, c := range []struct {
		s    query.Sort[things.Thing]
		want []string
	}{
		{F.Rank.Asc(), []string{"e2", "e3", "e1", "e0", "e4"}},
		{F.Rank.Desc(), []string{"e1", "e3", "e2", "e0", "e4"}},
	} {
		q := things.ThingQuery().OrderBy(c.s)
		if got := findIDs(ctx, t, r, q); !slices.Equal(got, c.want) {
			t.Errorf("Find(%s) = %v, want %v", q, got, c.want)
		}
		if got := walkPages(t, pageOf(ctx, r), q, 2, len(recs)); !slices.Equal(got, c.want) {
			t.Errorf("Page(%s) = %v, want %v", q, got, c.want)
		}
	}
}

// testRegexPortability: a REGEX pattern that one backend reads differently or refuses is
// ErrInvalidInput everywhere ([a-b-c], a repetition count over 255), patterns of up to 500
// bytes and counts up to 255 answer alike on every backend, and a longer pattern is
// ErrInvalidInput naming the field, the limit and the size.
func testRegexPortability(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	F := things.ThingFields
	recs := []things.Thing{minimalThing("re0"), minimalThing("re1"), minimalThing("re2")}
	recs[0].Name = strings.Repeat("a", 255)
	recs[1].Name = "b-"
	recs[2].Name = strings.Repeat("xy", 250)
	seed(ctx, t, r, recs)
	for _, c := range []struct {
		pattern string
		want    []string
	}{
		{"a{255}", []string{"re0"}},
		{"a{0,255}", []string{"re0"}},
		{`[a-c\-]+`, []string{"re0", "re1"}},
		{strings.Repeat("xy", 250), []string{"re2"}},
		{"(xy){250}", []string{"re2"}},
	} {
		if got := findIDs(ctx, t, r, things.ThingQuery().Where(F.Name.Regex(c.pattern))); !slices.Equal(got, c.want) {
			t.Errorf("Find(name REGEX %.30q) = %v, want %v", c.pattern, got, c.want)
		}
	}
	for _, p := range []string{"[a-b-c]", "[0-9a-f-z]", "a{256}", "(xy){1,300}"} {
		_, err := r.Find(ctx, things.ThingQuery().Where(F.Name.Regex(p)))
		wantErr(t, fmt.Sprintf("Find(name REGEX %q)", p), err, repo.ErrInvalidInput)
		_, err = r.Count(ctx, things.ThingQuery().Where(query.Not(F.Name.Regex(p))))
		wantErr(t, fmt.Sprintf("Count(NOT name REGEX %q)", p), err, repo.ErrInvalidInput)
	}
	long := strings.Repeat("xy", 250) + ".?"
	_, err := r.Find(ctx, things.ThingQuery().Where(F.Name.Regex(long)))
	wantLimitErr(t, "Find with a REGEX of 502 bytes", err, "name", 500, 502)
	_, err = r.Count(ctx, things.ThingQuery().Where(query.Or(F.Active.EQ(true), F.Title.Regex(long))))
	wantLimitErr(t, "Count with a REGEX of 502 bytes", err, "title", 500, 502)
}
