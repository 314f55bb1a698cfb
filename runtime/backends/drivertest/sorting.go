package drivertest

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// sortValue returns the value of a sortable field of r and whether it is present. It is
// the suite's own reference, independent of any backend.
func sortValue(r *things.Thing, field string) (any, bool) {
	str := func(p *string) (any, bool) {
		if p == nil {
			return nil, false
		}
		return *p, true
	}
	switch field {
	case "id":
		return r.ID, true
	case "name":
		return r.Name, true
	case "title":
		return str(r.Title)
	case "body":
		return str(r.Body)
	case "code":
		return str(r.Code)
	case "kind":
		if r.Kind == nil {
			return nil, false
		}
		return string(*r.Kind), true
	case "rank":
		if r.Rank == nil {
			return nil, false
		}
		return *r.Rank, true
	case "count":
		return r.Count, true
	case "score":
		if r.Score == nil {
			return nil, false
		}
		return *r.Score, true
	case "ratio":
		return r.Ratio, true
	case "flag":
		if r.Flag == nil {
			return nil, false
		}
		return *r.Flag, true
	case "active":
		return r.Active, true
	case "at":
		if r.At == nil {
			return nil, false
		}
		return *r.At, true
	case "created":
		return r.Created, true
	}
	panic("drivertest: no sortable field " + field)
}

func compareValues(a, b any) int {
	switch x := a.(type) {
	case string:
		return strings.Compare(x, b.(string)) // byte order
	case int64:
		return cmp.Compare(x, b.(int64))
	case float64:
		return cmp.Compare(x, b.(float64))
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case time.Time:
		return x.Compare(b.(time.Time))
	}
	panic(fmt.Sprintf("drivertest: cannot compare %T", a))
}

// refCompare orders records by keys the documented way: missing values last in both
// directions, then the id ascending.
func refCompare(keys []query.SortKey) func(a, b *things.Thing) int {
	return func(a, b *things.Thing) int {
		for _, k := range keys {
			x, okx := sortValue(a, k.Field)
			y, oky := sortValue(b, k.Field)
			switch {
			case !okx && !oky:
				continue
			case !okx:
				return 1
			case !oky:
				return -1
			}
			c := compareValues(x, y)
			if k.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return strings.Compare(a.ID, b.ID)
	}
}

func refSorted(recs []things.Thing, keys []query.SortKey) []string {
	s := slices.Clone(recs)
	c := refCompare(keys)
	slices.SortFunc(s, func(a, b things.Thing) int { return c(&a, &b) })
	return thingIDs(s)
}

// randomThings returns n records with values drawn from small domains, so that sort keys
// tie often and are often missing. Times are in assorted zones.
func randomThings(n int, seed uint64) []things.Thing {
	rng := rand.New(rand.NewPCG(seed, 7))
	zones := []*time.Location{time.UTC, time.FixedZone("A", 5*3600+1800), time.FixedZone("B", -8*3600)}
	pick := func(k int) int { return rng.IntN(k) }
	titles := []string{"", "a", "B", "b", "é", "日本", "a b", "Z"}
	names := []string{"alpha", "Alpha", "beta", "é", "😀", "日本", "", "ａ"}
	bodies := []string{"x", "y", "x y"}
	codes := []string{"0190a6c4-0000-7000-8000-000000000001", "0190a6c4-0000-7000-8000-00000000000a", "ffffffff-ffff-7fff-bfff-ffffffffffff"}
	kinds := []things.ThingKind{things.ThingKindA, things.ThingKindB, things.ThingKindC}
	base := time.Date(2024, 5, 5, 12, 0, 0, 0, time.UTC)
	out := make([]things.Thing, n)
	perm := rng.Perm(n)
	for i := range out {
		r := things.Thing{
			ID:      fmt.Sprintf("r%03d", perm[i]), // ids unrelated to insertion order
			Name:    names[pick(len(names))],
			Count:   int64(pick(4)),
			Ratio:   []float64{-1, 0, 0.5}[pick(3)],
			Active:  pick(2) == 0,
			Created: base.Add(time.Duration(pick(3)) * time.Hour).In(zones[pick(3)]),
		}
		if pick(4) > 0 {
			r.Title = ptr(titles[pick(len(titles))])
		}
		if pick(3) > 0 {
			r.Body = ptr(bodies[pick(len(bodies))])
		}
		if pick(2) > 0 {
			r.Code = ptr(codes[pick(len(codes))])
		}
		if pick(4) > 0 {
			r.Kind = ptr(kinds[pick(3)])
		}
		if pick(4) > 0 {
			r.Rank = ptr(int64(pick(5) - 2))
		}
		if pick(3) > 0 {
			r.Score = ptr([]float64{-1.5, 0, 2.5}[pick(3)])
		}
		if pick(3) > 0 {
			r.Flag = ptr(pick(2) == 0)
		}
		if pick(3) > 0 {
			r.At = ptr(base.Add(time.Duration(pick(4)-2) * time.Microsecond).In(zones[pick(3)]))
		}
		out[i] = r
	}
	return out
}

type pageFunc func(q query.Query[things.Thing], cursor string) (repo.Page[things.Thing], error)

func pageOf(ctx context.Context, r repo.Repository[things.Thing]) pageFunc {
	return func(q query.Query[things.Thing], cursor string) (repo.Page[things.Thing], error) {
		return r.Page(ctx, q, cursor)
	}
}

type sortShape struct {
	name  string
	sorts []query.Sort[things.Thing]
}

func (s sortShape) keys() []query.SortKey {
	out := make([]query.SortKey, len(s.sorts))
	for i, x := range s.sorts {
		out[i] = x.Key()
	}
	return out
}

func sortShapes() []sortShape {
	F := things.ThingFields
	type S = []query.Sort[things.Thing]
	return []sortShape{
		{"default (id)", S{}},
		{"optional int asc", S{F.Rank.Asc()}},
		{"optional int desc", S{F.Rank.Desc()}},
		{"optional string asc", S{F.Title.Asc()}},
		{"optional string desc", S{F.Title.Desc()}},
		{"enum asc, int desc", S{F.Kind.Asc(), F.Rank.Desc()}},
		{"optional bool asc, optional float desc", S{F.Flag.Asc(), F.Score.Desc()}},
		{"required bool desc, required time asc", S{F.Active.Desc(), F.Created.Asc()}},
		{"optional time desc", S{F.At.Desc()}},
		{"optional time asc", S{F.At.Asc()}},
		{"three required keys", S{F.Count.Asc(), F.Ratio.Desc(), F.Name.Asc()}},
		{"id desc", S{F.ID.Desc()}},
		{"unicode name desc", S{F.Name.Desc()}},
		{"uuid asc, text desc", S{F.Code.Asc(), F.Body.Desc()}},
		{"four optional keys", S{F.Title.Desc(), F.Kind.Asc(), F.Flag.Desc(), F.Rank.Asc()}},
		{"key then id desc", S{F.Count.Desc(), F.ID.Desc()}},
	}
}

const randomCount = 130

func testSort(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	data := randomThings(randomCount, 1)
	seed(ctx, t, r, data)
	for _, s := range sortShapes() {
		t.Run(s.name, func(t *testing.T) {
			got := findIDs(ctx, t, r, things.ThingQuery().OrderBy(s.sorts...))
			if want := refSorted(data, s.keys()); !slices.Equal(got, want) {
				t.Errorf("order differs from the reference:\n got %v\nwant %v", got, want)
			}
		})
	}
}

func testLimitOffset(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	data := randomThings(randomCount, 2)
	seed(ctx, t, r, data)
	F := things.ThingFields
	base := things.ThingQuery().OrderBy(F.Rank.Desc(), F.Name.Asc())
	full := refSorted(data, []query.SortKey{F.Rank.Desc().Key(), F.Name.Asc().Key()})
	if got := findIDs(ctx, t, r, base); !slices.Equal(got, full) {
		t.Fatalf("full order differs:\n got %v\nwant %v", got, full)
	}
	for _, c := range []struct{ offset, limit int }{
		{0, 0}, {0, 1}, {0, 10}, {5, 10}, {125, 10}, {129, 1}, {130, 5}, {200, 5}, {0, 500}, {17, 0}, {1, 129},
	} {
		want := full[min(c.offset, len(full)):]
		if c.limit > 0 {
			want = want[:min(c.limit, len(want))]
		}
		q := base.Offset(c.offset).Limit(c.limit)
		if got := findIDs(ctx, t, r, q); !slices.Equal(got, want) {
			t.Errorf("offset %d limit %d: got %v, want %v", c.offset, c.limit, got, want)
		}
		var streamed []string
		for rec, err := range r.Stream(ctx, q) {
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			streamed = append(streamed, rec.ID)
		}
		if !slices.Equal(streamed, want) && !(len(streamed) == 0 && len(want) == 0) {
			t.Errorf("Stream offset %d limit %d: got %v, want %v", c.offset, c.limit, streamed, want)
		}
	}
	// Limit and offset apply after the filter.
	filtered := things.ThingQuery().Where(F.Rank.Exists()).OrderBy(F.Rank.Asc())
	var present []things.Thing
	for _, d := range data {
		if d.Rank != nil {
			present = append(present, d)
		}
	}
	want := refSorted(present, []query.SortKey{F.Rank.Asc().Key()})[3:8]
	if got := findIDs(ctx, t, r, filtered.Offset(3).Limit(5)); !slices.Equal(got, want) {
		t.Errorf("filtered window: got %v, want %v", got, want)
	}
}

// walkPages reads every page of q and returns the ids in order, checking page sizes and
// that only the last page has no next cursor.
func walkPages(t *testing.T, h pageFunc, q query.Query[things.Thing], size, total int) []string {
	t.Helper()
	var ids []string
	cursor := ""
	maxPages := total/max(size, 1) + 2
	for pages := 1; ; pages++ {
		if pages > maxPages {
			t.Fatalf("more than %d pages of %d for %d records: pagination does not end", maxPages, size, total)
		}
		p, err := h(q.Limit(size), cursor)
		if err != nil {
			t.Fatalf("Page %d: %v", pages, err)
		}
		for _, it := range p.Items {
			ids = append(ids, it.ID)
		}
		if p.Next == "" {
			if len(p.Items) > size || (len(p.Items) == 0 && total > 0) {
				t.Errorf("last page %d has %d items (page size %d, %d records)", pages, len(p.Items), size, total)
			}
			if want := (total + size - 1) / size; total > 0 && pages != want {
				t.Errorf("%d pages of %d for %d records, want %d", pages, size, total, want)
			}
			return ids
		}
		if len(p.Items) != size {
			t.Errorf("page %d has %d items, want %d (it has a next cursor)", pages, len(p.Items), size)
		}
		cursor = p.Next
	}
}

func testPagination(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	data := randomThings(randomCount, 3)
	seed(ctx, t, r, data)
	page := pageOf(ctx, r)
	F := things.ThingFields
	for i, s := range sortShapes() {
		t.Run(s.name, func(t *testing.T) {
			q := things.ThingQuery().OrderBy(s.sorts...)
			full := findIDs(ctx, t, r, q)
			if want := refSorted(data, s.keys()); !slices.Equal(full, want) {
				t.Fatalf("Find order differs from the reference")
			}
			sizes := []int{7, 50, randomCount}
			if i < 4 {
				sizes = append(sizes, 1)
			}
			for _, size := range sizes {
				if got := walkPages(t, page, q, size, len(full)); !slices.Equal(got, full) {
					t.Errorf("pages of %d:\n got %v\nwant %v", size, got, full)
				}
			}
			// With a filter.
			fq := q.Where(query.Or(F.Rank.NEQ(0), F.Flag.EQ(true)))
			ffull := findIDs(ctx, t, r, fq)
			if got := walkPages(t, page, fq, 9, len(ffull)); !slices.Equal(got, ffull) {
				t.Errorf("filtered pages:\n got %v\nwant %v", got, ffull)
			}
		})
	}
	t.Run("default page size", func(t *testing.T) {
		p, err := r.Page(ctx, things.ThingQuery(), "")
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 100 || p.Next == "" {
			t.Fatalf("first page: %d items, next %q; want the default 100 and a cursor", len(p.Items), p.Next)
		}
		p2, err := r.Page(ctx, things.ThingQuery(), p.Next)
		if err != nil {
			t.Fatal(err)
		}
		if len(p2.Items) != randomCount-100 || p2.Next != "" {
			t.Errorf("second page: %d items, next %q", len(p2.Items), p2.Next)
		}
	})
	t.Run("page size may change between pages", func(t *testing.T) {
		q := things.ThingQuery().OrderBy(F.Title.Asc(), F.Score.Desc())
		full := findIDs(ctx, t, r, q)
		p, err := r.Page(ctx, q.Limit(5), "")
		if err != nil {
			t.Fatal(err)
		}
		p2, err := r.Page(ctx, q.Limit(20), p.Next)
		if err != nil {
			t.Fatal(err)
		}
		if got := append(thingIDs(p.Items), thingIDs(p2.Items)...); !slices.Equal(got, full[:25]) {
			t.Errorf("got %v, want %v", got, full[:25])
		}
	})
	t.Run("with projection", func(t *testing.T) {
		q := things.ThingQuery().OrderBy(F.At.Desc(), F.Flag.Asc()).Select(F.Name)
		full := findIDs(ctx, t, r, q)
		if got := walkPages(t, page, q, 11, len(full)); !slices.Equal(got, full) {
			t.Errorf("projected pages:\n got %v\nwant %v", got, full)
		}
	})
	t.Run("empty result", func(t *testing.T) {
		p, err := r.Page(ctx, things.ThingQuery().Where(F.Name.EQ("no such name")), "")
		if err != nil || len(p.Items) != 0 || p.Next != "" {
			t.Errorf("Page of nothing = %d items, next %q, %v", len(p.Items), p.Next, err)
		}
	})
}

func testPaginationStability(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	data := randomThings(60, 4)
	seed(ctx, t, r, data)
	page := pageOf(ctx, r)
	F := things.ThingFields
	keys := []query.SortKey{F.Rank.Asc().Key(), F.Title.Desc().Key()}
	q := things.ThingQuery().OrderBy(F.Rank.Asc(), F.Title.Desc())
	cmpRef := refCompare(keys)

	p1, err := page(q.Limit(10), "")
	if err != nil {
		t.Fatal(err)
	}
	last := p1.Items[len(p1.Items)-1]
	full := find(ctx, t, r, q)
	// Records change between the calls: one before the cursor and the one right after it
	// are deleted, the cursor's own record is deleted too, and new records are created
	// before and after it.
	for _, id := range []string{p1.Items[0].ID, full[10].ID, last.ID} {
		if err := r.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	early := things.Thing{ID: "new-early", Name: "x", Rank: ptr[int64](-100), Created: t0}
	late := things.Thing{ID: "new-late", Name: "y", Created: t0} // rank missing: sorts last
	seed(ctx, t, r, []things.Thing{early, late})

	var want []string
	for _, x := range find(ctx, t, r, q) {
		if cmpRef(&x, &last) > 0 {
			want = append(want, x.ID)
		}
	}
	var got []string
	cursor := p1.Next
	for cursor != "" {
		p, err := page(q.Limit(10), cursor)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, thingIDs(p.Items)...)
		cursor = p.Next
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages after changes:\n got %v\nwant %v", got, want)
	}
	if slices.Contains(got, "new-early") || !slices.Contains(got, "new-late") {
		t.Errorf("a record created before the cursor appeared, or one after it did not: %v", got)
	}
}

func testInvalidCursor(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, randomThings(20, 5))
	F := things.ThingFields
	q := things.ThingQuery().OrderBy(F.Rank.Asc())
	p, err := r.Page(ctx, q.Limit(5), "")
	if err != nil || p.Next == "" {
		t.Fatalf("Page: %v, next %q", err, p.Next)
	}
	other, err := r.Page(ctx, things.ThingQuery().OrderBy(F.Name.Asc()).Limit(5), "")
	if err != nil {
		t.Fatal(err)
	}
	otherDesc, err := r.Page(ctx, things.ThingQuery().OrderBy(F.Rank.Desc()).Limit(5), "")
	if err != nil {
		t.Fatal(err)
	}
	ctxO, o := makeOthers(t, h)
	seed(ctxO, t, o, []things.Other{{Label: "1"}, {Label: "2"}, {Label: "3"}})
	op, err := o.Page(ctxO, things.OtherQuery().Limit(1), "")
	if err != nil || op.Next == "" {
		t.Fatalf("Other Page: %v", err)
	}
	_, err = o.Page(ctxO, things.OtherQuery().Limit(1), p.Next)
	wantErr(t, "a Thing cursor on Other", err, repo.ErrInvalidInput)

	for name, c := range map[string]string{
		"garbage":                "not a cursor!",
		"base64 of non-JSON":     "Zm9vYmFy",
		"truncated":              p.Next[:len(p.Next)/2],
		"another sort field":     other.Next,
		"another sort direction": otherDesc.Next,
		"another record type":    op.Next,
		"JSON of the wrong form": "eyJmIjoxfQ", // {"f":1}
	} {
		_, err := r.Page(ctx, q.Limit(5), c)
		wantErr(t, "cursor: "+name, err, repo.ErrInvalidInput)
	}
	// The genuine cursor still works.
	if _, err := r.Page(ctx, q.Limit(5), p.Next); err != nil {
		t.Errorf("valid cursor: %v", err)
	}
}
