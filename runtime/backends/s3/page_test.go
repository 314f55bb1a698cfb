package s3_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// countLists makes d count its LIST requests (ListObjectsV2) in the returned counter.
func countLists[T any](d *s3.Driver[T]) *atomic.Int64 {
	var n atomic.Int64
	s3.WrapHTTPForTest(d, func(next awss3.HTTPClient) awss3.HTTPClient {
		return s3.HTTPDoer(func(req *http.Request) (*http.Response, error) {
			if req.Method == http.MethodGet && req.URL.Query().Get("list-type") == "2" {
				n.Add(1)
			}
			return next.Do(req)
		})
	})
	return &n
}

// walk reads every page of q from r and returns the ids in order and the number of pages.
func walk(ctx context.Context, t *testing.T, r *repo.Collection[things.Thing], q query.Query[things.Thing]) ([]string, int) {
	t.Helper()
	var ids []string
	pages := 0
	cursor := ""
	for {
		p, err := r.Page(ctx, q, cursor)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, x := range p.Items {
			ids = append(ids, x.ID)
		}
		if p.Next == "" {
			return ids, pages
		}
		cursor = p.Next
	}
}

// TestPageWalkLists walks 3000 records in pages of 100 and counts the LIST requests: each
// page resumes the listing after its cursor's key, so a page costs one LIST (of up to 1000
// keys), not a listing from the start of the prefix (which made the walk cost
// O(N²/page size) listed keys: 1 to 4 LISTs a page here, 62 in all).
func TestPageWalkLists(t *testing.T) {
	ctx, d, r := newDriver(t, s3.WithConcurrency(16))
	const n, size = 3000, 100
	upsertAll(ctx, t, d, someThings(n, "w"))
	lists := countLists(d)
	ids, pages := walk(ctx, t, r, things.ThingQuery().Limit(size))
	if len(ids) != n || !slices.IsSorted(ids) || pages != n/size {
		t.Fatalf("walk: %d ids (sorted %v) in %d pages; want %d in %d", len(ids), slices.IsSorted(ids), pages, n, n/size)
	}
	// Every page fits in one LIST of 1000 keys: exactly one LIST a page, within the goal of
	// N/1000 + pages.
	if got := lists.Load(); got != int64(pages) || got > n/1000+int64(pages) {
		t.Errorf("%d LIST requests for %d pages of %d records; want %d", got, pages, size, pages)
	}
	t.Logf("%d records in %d pages of %d: %d LIST requests", n, pages, size, lists.Load())

	// A stream lists N/1000 pages (the SDK's paginator), and so does a walk in pages of
	// more than 1000 records.
	lists.Store(0)
	count := 0
	for _, err := range r.Stream(ctx, things.ThingQuery()) {
		if err != nil {
			t.Fatal(err)
		}
		count++
	}
	if count != n || lists.Load() != n/1000 {
		t.Errorf("stream: %d records, %d LIST requests; want %d and %d", count, lists.Load(), n, n/1000)
	}
	lists.Store(0)
	if ids, pages = walk(ctx, t, r, things.ThingQuery().Limit(1200)); len(ids) != n || pages != 3 {
		t.Fatalf("walk in pages of 1200: %d ids in %d pages", len(ids), pages)
	}
	if got := lists.Load(); got > n/1000+int64(pages) {
		t.Errorf("%d LIST requests for %d pages of 1200; want at most %d", got, pages, n/1000+pages)
	}
}

// TestIDRanges checks the listing from an id range (page cursors and id comparisons) over
// short ids and long ids cut into segments, with the cursor inside a long-id "directory":
// every record in the range once, in order, whatever the bound.
func TestIDRanges(t *testing.T) {
	ctx, d, r := newDriver(t, s3.WithConcurrency(8))
	var recs []things.Thing
	add := func(id string) { recs = append(recs, things.Thing{ID: id, Name: "n"}) }
	slashes := func(n int) string { return strings.Repeat("/", n) }
	for i := range 20 {
		add(fmt.Sprintf("%c%02d", 'A'+i%3, i))           // short ids, after the long ones ('/' < 'A')
		add(longID(fmt.Sprintf("%02d", i)))              // three segments, all under one first segment
		add(slashes(100) + fmt.Sprint(i%5))              // two segments, under the same first one
		add(slashes(42) + fmt.Sprintf("x%02d", i))       // one segment
		add(slashes(169) + "a" + strings.Repeat("b", i)) // two full segments (508 bytes), then more
	}
	add("!")         // before everything
	add(slashes(85)) // 255 bytes: one byte in the second segment
	add("~~")        // after everything
	sortIDs := func(xs []string) []string { sort.Strings(xs); return slices.Compact(xs) }
	var all []string
	for i := range recs {
		all = append(all, recs[i].ID)
	}
	all = sortIDs(all)
	upsertAll(ctx, t, d, recs)

	for _, size := range []int{1, 3, 7, 50} {
		got, _ := walk(ctx, t, r, things.ThingQuery().Limit(size))
		if !slices.Equal(got, all) {
			t.Errorf("walk in pages of %d: %d ids, want %d\ngot  %q\nwant %q", size, len(got), len(all), got, all)
		}
	}
	f := things.ThingFields
	bounds := []string{"", "!", "0", "C", "~", slashes(84), slashes(85), slashes(100), slashes(169), slashes(169) + "a", longID("0"), longID("05"), longID("~")}
	for i := 0; i < len(all); i += 3 {
		bounds = append(bounds, all[i])
	}
	for _, b := range bounds {
		var gt, gte, lt, between []string
		for _, id := range all {
			if id > b {
				gt = append(gt, id)
			}
			if id >= b {
				gte = append(gte, id)
			}
			if id < b {
				lt = append(lt, id)
			}
			if id >= b && id <= longID("10") {
				between = append(between, id)
			}
		}
		for _, c := range []struct {
			name string
			q    query.Query[things.Thing]
			want []string
		}{
			{"GT", things.ThingQuery().Where(f.ID.GT(b)), gt},
			{"GTE", things.ThingQuery().Where(f.ID.GTE(b)), gte},
			{"LT", things.ThingQuery().Where(f.ID.LT(b)), lt},
			{"BETWEEN", things.ThingQuery().Where(f.ID.Between(b, longID("10"))), between},
			{"GTE or EQ", things.ThingQuery().Where(query.Or(f.ID.GTE(b), f.ID.EQ(longID("12")))), sortIDs(append(slices.Clone(gte), longID("12")))},
		} {
			found, err := r.Find(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range found {
				got = append(got, x.ID)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%s %q: %d ids, want %d\ngot  %q\nwant %q", c.name, b, len(got), len(c.want), got, c.want)
			}
			if n, err := r.Count(ctx, c.q); err != nil || n != int64(len(c.want)) {
				t.Errorf("Count %s %q = %d, %v; want %d", c.name, b, n, err, len(c.want))
			}
		}
	}
}
