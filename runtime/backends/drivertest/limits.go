package drivertest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// LimitHarness is the harness of RunLimitTests: a Harness that also makes repositories of
// Limited records.
type LimitHarness interface {
	Harness
	MakeLimited(ctx context.Context, t *testing.T) (repo.Repository[Limited], error)
}

// RunLimitTests runs the conformance cases of the portable limits and edge rules
// (docs/semantics.md, "Limits"): the same numbers, the same errors and the same answers on
// every backend.
func RunLimitTests(t *testing.T, h LimitHarness) {
	t.Run("HugeLimit", func(t *testing.T) { testHugeLimit(t, h) })
	t.Run("IDBytes", func(t *testing.T) { testIDBytes(t, h) })
	t.Run("LongIDOrder", func(t *testing.T) { testLongIDOrder(t, h) })
	t.Run("IndexedStringBytes", func(t *testing.T) { testIndexedStringBytes(t, h) })
	t.Run("StoredStringBytes", func(t *testing.T) { testStoredStringBytes(t, h) })
	t.Run("FilterConditions", func(t *testing.T) { testFilterConditions(t, h) })
	t.Run("LargeIN", func(t *testing.T) { testLargeIN(t, h) })
	t.Run("NonFiniteCursor", func(t *testing.T) { testNonFiniteCursor(t, h) })
	t.Run("JSONUTF8", func(t *testing.T) { testJSONUTF8(t, h) })
	t.Run("EndpointIDs", func(t *testing.T) { testEndpointIDs(t, h) })
	t.Run("LongOperands", func(t *testing.T) { testLongOperands(t, h) })
	t.Run("TimeRange", func(t *testing.T) { testTimeRange(t, h) })
	t.Run("ExtremeIntSort", func(t *testing.T) { testExtremeIntSort(t, h) })
	t.Run("RegexPortability", func(t *testing.T) { testRegexPortability(t, h) })
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, h) })
}

// The documented limits (docs/semantics.md, "Limits"), written out here so that a change
// of a limit is a change of this suite too.
const (
	idLimit         = 255
	indexedLimit    = 2048
	conditionsLimit = 10000
)

// wantLimitErr fails the test unless err is ErrInvalidInput naming field (when not empty),
// the limit and the size.
func wantLimitErr(t *testing.T, what string, err error, field string, limit, size int) {
	t.Helper()
	wantErr(t, what, err, repo.ErrInvalidInput)
	if err == nil {
		return
	}
	msg := err.Error()
	for _, s := range []string{field, strconv.Itoa(limit), strconv.Itoa(size)} {
		if !strings.Contains(msg, s) {
			t.Errorf("%s: error %q does not name %q", what, msg, s)
		}
	}
	var le *repo.LimitError
	if !errors.As(err, &le) || le.Max != limit || le.Size != size {
		t.Errorf("%s: error %q does not wrap a *repo.LimitError{Max: %d, Size: %d}", what, msg, limit, size)
	}
}

func makeLimited(t *testing.T, h LimitHarness) (context.Context, repo.Repository[Limited]) {
	t.Helper()
	ctx := testContext(t)
	r, err := h.MakeLimited(ctx, t)
	if err != nil {
		t.Fatalf("MakeLimited: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return ctx, r
}

// testHugeLimit: a limit of math.MaxInt means "all of them" in Find, Stream and Page (a
// page of every record and no next cursor), with or without an offset, in id order and in
// another order.
func testHugeLimit(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	recs := randomThings(7, 3)
	seed(ctx, t, r, recs)
	F := things.ThingFields
	for _, q := range []query.Query[things.Thing]{things.ThingQuery(), things.ThingQuery().OrderBy(F.Rank.Desc())} {
		all := findIDs(ctx, t, r, q)
		if len(all) != len(recs) {
			t.Fatalf("Find(%s) = %d records, want %d", q, len(all), len(recs))
		}
		for _, limit := range []int{math.MaxInt, math.MaxInt - 1} {
			p, err := r.Page(ctx, q.Limit(limit), "")
			if err != nil || !slices.Equal(thingIDs(p.Items), all) || p.Next != "" {
				t.Errorf("Page(%s, limit %d) = %v, next %q, %v; want %v and no next page", q, limit, thingIDs(p.Items), p.Next, err, all)
			}
			for _, off := range []int{0, 2, len(recs), len(recs) + 5} {
				want := all[min(off, len(all)):]
				if got := findIDs(ctx, t, r, q.Limit(limit).Offset(off)); !slices.Equal(got, want) {
					t.Errorf("Find(%s, limit %d, offset %d) = %v, want %v", q, limit, off, got, want)
				}
				var streamed []string
				for rec, err := range r.Stream(ctx, q.Limit(limit).Offset(off)) {
					if err != nil {
						t.Fatalf("Stream(%s, limit %d, offset %d): %v", q, limit, off, err)
					}
					streamed = append(streamed, rec.ID)
				}
				if !slices.Equal(streamed, want) {
					t.Errorf("Stream(%s, limit %d, offset %d) = %v, want %v", q, limit, off, streamed, want)
				}
			}
		}
	}
}

// longIDs returns ids of exactly n bytes: letters, punctuation that every backend escapes
// or quotes ("/", ".", "%", "~", space, quotes), two- and three-byte characters.
func longIDs(n int) []string {
	fill := func(unit string) string {
		s := strings.Repeat(unit, n/len(unit))
		return s + strings.Repeat("z", n-len(s))
	}
	return []string{
		fill("a"), fill("/"), fill("."), fill("%"), fill("/.%~ '\""), fill("é"), fill("日"), fill("..\\"),
	}
}

// testIDBytes: an id of up to 255 bytes of any content is stored and read back on every
// backend; a longer one is ErrInvalidInput naming the limit and its size, in every call that
// takes an id, before the backend is asked, and in a batch fails only its own record.
func testIDBytes(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	ids := longIDs(idLimit)
	recs := make([]things.Thing, len(ids))
	for i, id := range ids {
		if len(id) != idLimit {
			t.Fatalf("test id of %d bytes", len(id))
		}
		recs[i] = fullThing(id)
	}
	seed(ctx, t, r, recs[1:])
	if _, err := r.Create(ctx, recs[0]); err != nil {
		t.Fatalf("Create with an id of %d bytes: %v", idLimit, err)
	}
	for _, id := range ids {
		got, err := r.Get(ctx, id)
		if err != nil || got.ID != id {
			t.Errorf("Get(%.20q...): id %.20q..., %v", id, got.ID, err)
			continue
		}
		if ok, err := r.Exists(ctx, id); !ok || err != nil {
			t.Errorf("Exists(%.20q...) = %v, %v", id, ok, err)
		}
		got.Name = "updated"
		if _, err := r.Update(ctx, got, repo.IfVersion(got.RecordVersion)); err != nil {
			t.Errorf("Update(%.20q...): %v", id, err)
		}
	}
	want := slices.Clone(ids)
	slices.Sort(want)
	if got := findIDs(ctx, t, r, things.ThingQuery()); !slices.Equal(got, want) {
		t.Errorf("Find in id order: %d ids, not the %d ids in byte order", len(got), len(want))
	}
	if got := walkPages(t, pageOf(ctx, r), things.ThingQuery(), 3, len(want)); !slices.Equal(got, want) {
		t.Errorf("Page through long ids: %d ids, not the %d ids in byte order", len(got), len(want))
	}
	if err := r.Delete(ctx, ids[1]); err != nil {
		t.Errorf("Delete: %v", err)
	}

	long := strings.Repeat("/", idLimit+1)
	_, err := r.Create(ctx, fullThing(long))
	wantLimitErr(t, "Create with a long id", err, "id", idLimit, idLimit+1)
	_, err = r.Upsert(ctx, fullThing(long))
	wantLimitErr(t, "Upsert with a long id", err, "id", idLimit, idLimit+1)
	_, err = r.Update(ctx, fullThing(long))
	wantLimitErr(t, "Update with a long id", err, "id", idLimit, idLimit+1)
	_, err = r.Get(ctx, long)
	wantLimitErr(t, "Get with a long id", err, "id", idLimit, idLimit+1)
	_, err = r.Exists(ctx, long)
	wantLimitErr(t, "Exists with a long id", err, "id", idLimit, idLimit+1)
	wantLimitErr(t, "Delete with a long id", r.Delete(ctx, long), "id", idLimit, idLimit+1)

	// In a batch (small and large), the long ids fail alone.
	for _, n := range []int{3, 20} {
		batch := make([]things.Thing, n)
		for i := range batch {
			batch[i] = minimalThing(fmt.Sprintf("batch%d-%02d", n, i))
		}
		batch[1].ID = strings.Repeat("é", idLimit/2+1)
		batch[n-1].ID = long
		res, err := r.CreateBatch(ctx, batch)
		if err != nil {
			t.Fatalf("CreateBatch(%d): %v", n, err)
		}
		for i, x := range res {
			switch i {
			case 1, n - 1:
				wantLimitErr(t, fmt.Sprintf("CreateBatch(%d) item %d", n, i), x.Err, "id", idLimit, len(batch[i].ID))
			default:
				if x.Err != nil {
					t.Errorf("CreateBatch(%d) item %d: %v", n, i, x.Err)
				}
			}
		}
	}
	if n := count(ctx, t, r, things.ThingQuery()); n != int64(len(ids)-1+1+18) {
		t.Errorf("%d records stored, want %d", n, len(ids)-1+1+18)
	}
}

// testLongIDOrder: ids around the length where an escaped id needs more than one key
// segment (S3) list and page in byte order like any others.
func testLongIDOrder(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	var ids []string
	for _, unit := range []string{"a", "%", "é"} {
		for _, n := range []int{1, 84, 85, 86, 127, 128, 170, 254, 255} {
			s := strings.Repeat(unit, n)
			if len(s) > idLimit {
				continue
			}
			ids = append(ids, s)
			if len(s) < idLimit {
				ids = append(ids, s+"0", s+"~")
			}
			if len(s) > 1 {
				ids = append(ids, s[:len(s)-1]+"!")
			}
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	recs := make([]things.Thing, 0, len(ids))
	for _, id := range ids {
		if strings.ToValidUTF8(id, "") == id {
			recs = append(recs, minimalThing(id))
		}
	}
	seed(ctx, t, r, recs)
	want := thingIDs(recs)
	if got := findIDs(ctx, t, r, things.ThingQuery()); !slices.Equal(got, want) {
		t.Errorf("Find in id order:\n got %q\nwant %q", got, want)
	}
	F := things.ThingFields
	desc := slices.Clone(want)
	slices.Reverse(desc)
	if got := findIDs(ctx, t, r, things.ThingQuery().OrderBy(F.ID.Desc())); !slices.Equal(got, desc) {
		t.Errorf("Find in descending id order:\n got %q\nwant %q", got, desc)
	}
	if got := walkPages(t, pageOf(ctx, r), things.ThingQuery(), 4, len(want)); !slices.Equal(got, want) {
		t.Errorf("Page in id order:\n got %q\nwant %q", got, want)
	}
	mid := want[len(want)/2]
	var after []string
	for _, id := range want {
		if id > mid {
			after = append(after, id)
		}
	}
	if got := findIDs(ctx, t, r, things.ThingQuery().Where(F.ID.GT(mid))); !slices.Equal(got, after) {
		t.Errorf("Find(id > %.20q...) = %d ids, want %d", mid, len(got), len(after))
	}
}

// randomText returns n bytes of letters and digits that do not compress, drawn from seed.
func randomText(n int, seed uint64) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	rng := rand.New(rand.NewPCG(seed, 11))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// testIndexedStringBytes: indexed and unique string values (list elements included) of up to
// 2048 bytes are stored, found and kept unique on every backend; longer ones are
// ErrInvalidInput naming the field, the limit and the size, in Create, Update, Upsert and in
// a batch, where they fail alone (small and COPY-sized batches). Values of fields without an
// index have no such limit.
func testIndexedStringBytes(t *testing.T, h LimitHarness) {
	ctx, r := makeLimited(t, h)
	F := LimitedFields
	atLimit := []string{randomText(indexedLimit, 1), strings.Repeat("é", indexedLimit/2), randomText(indexedLimit-1, 2) + "~"}
	var ok []Limited
	for i, v := range atLimit {
		ok = append(ok,
			Limited{ID: fmt.Sprintf("idx%d", i), Idx: ptr(v)},
			Limited{ID: fmt.Sprintf("uniq%d", i), Uniq: ptr(v)},
			Limited{ID: fmt.Sprintf("tags%d", i), Tags: []string{"short", v}},
		)
	}
	ok = append(ok, Limited{ID: "note", Note: ptr(randomText(5*indexedLimit, 3))})
	seed(ctx, t, r, ok)
	for _, want := range ok {
		got, err := r.Get(ctx, want.ID)
		if err != nil || !equalLimited(got, want) {
			t.Errorf("Get(%s): %v; the record did not round-trip", want.ID, err)
		}
	}
	for i, v := range atLimit {
		for _, c := range []struct {
			cond query.Cond[Limited]
			id   string
		}{{F.Idx.EQ(v), fmt.Sprintf("idx%d", i)}, {F.Uniq.EQ(v), fmt.Sprintf("uniq%d", i)}, {F.Tags.Contains(v), fmt.Sprintf("tags%d", i)}} {
			got, err := r.Find(ctx, LimitedQuery().Where(c.cond))
			if err != nil || len(got) != 1 || got[0].ID != c.id {
				t.Errorf("Find(%.30s...) = %d records, %v; want %s", c.cond, len(got), err, c.id)
			}
		}
	}
	_, err := r.Create(ctx, Limited{ID: "uniq-again", Uniq: ptr(atLimit[0])})
	wantErr(t, "Create repeating a unique value of 2048 bytes", err, repo.ErrAlreadyExists)

	over := randomText(indexedLimit+1, 4)
	overs := []struct {
		field string
		rec   Limited
	}{
		{"idx", Limited{ID: "over-idx", Idx: ptr(over)}},
		{"uniq", Limited{ID: "over-uniq", Uniq: ptr(over)}},
		{"tags", Limited{ID: "over-tags", Tags: []string{"short", over}}},
	}
	for _, c := range overs {
		_, err := r.Create(ctx, c.rec)
		wantLimitErr(t, "Create with a long "+c.field, err, c.field, indexedLimit, indexedLimit+1)
		_, err = r.Upsert(ctx, c.rec)
		wantLimitErr(t, "Upsert with a long "+c.field, err, c.field, indexedLimit, indexedLimit+1)
		upd := c.rec
		upd.ID = "idx0"
		_, err = r.Update(ctx, upd)
		wantLimitErr(t, "Update with a long "+c.field, err, c.field, indexedLimit, indexedLimit+1)
	}
	if got, err := r.Get(ctx, "idx0"); err != nil || got.Idx == nil || *got.Idx != atLimit[0] {
		t.Errorf("a rejected Update changed the record: %v", err)
	}

	for _, n := range []int{3, 20} {
		batch := make([]Limited, n)
		for i := range batch {
			batch[i] = Limited{ID: fmt.Sprintf("b%d-%02d", n, i), Idx: ptr(randomText(100, uint64(i))), Uniq: ptr(fmt.Sprintf("u%d-%d", n, i))}
		}
		bad := map[int]string{1: "idx", n - 1: "tags"}
		batch[1].Idx = ptr(over)
		batch[n-1].Tags = []string{over}
		res, err := r.CreateBatch(ctx, batch)
		if err != nil {
			t.Fatalf("CreateBatch(%d): %v", n, err)
		}
		for i, x := range res {
			if f, isBad := bad[i]; isBad {
				wantLimitErr(t, fmt.Sprintf("CreateBatch(%d) item %d", n, i), x.Err, f, indexedLimit, indexedLimit+1)
			} else if x.Err != nil {
				t.Errorf("CreateBatch(%d) item %d: %v", n, i, x.Err)
			}
		}
	}
	if n := count(ctx, t, r, LimitedQuery()); n != int64(len(ok)+1+18) {
		t.Errorf("%d records stored, want %d", n, len(ok)+1+18)
	}
}

func equalLimited(a, b Limited) bool {
	eq := func(x, y *string) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.ID == b.ID && eq(a.Idx, b.Idx) && eq(a.Uniq, b.Uniq) && eq(a.Note, b.Note) && slices.Equal(a.Tags, b.Tags)
}

// testFilterConditions: a filter of up to 10,000 conditions gets the same answer on every
// backend (an OR of that many is more than PostgreSQL's parameters per statement allow when
// each takes two, and more than Elasticsearch's clauses per bool query); one more condition
// is ErrInvalidInput naming the limit and the count, in Find, Count, Stream and Page.
func testFilterConditions(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	recs := make([]things.Thing, 30)
	for i := range recs {
		recs[i] = minimalThing(fmt.Sprintf("c%02d", i))
		recs[i].Rank = ptr(int64(i))
	}
	seed(ctx, t, r, recs)
	F := things.ThingFields
	// Rank BETWEEN 3k+1 AND 3k+1 for k < 5000: 5000 conditions of two operands, matching
	// ranks 1, 4, ..., 28; then 5000 more that match nothing.
	conds := make([]query.Cond[things.Thing], 0, conditionsLimit+1)
	for k := range conditionsLimit / 2 {
		conds = append(conds, F.Rank.Between(int64(3*k+1), int64(3*k+1)))
	}
	for k := range conditionsLimit / 2 {
		conds = append(conds, F.Name.EQ(fmt.Sprintf("none-%d", k)))
	}
	var want []string
	for i := 1; i < len(recs); i += 3 {
		want = append(want, recs[i].ID)
	}
	q := things.ThingQuery().Where(query.Or(conds...))
	if got := findIDs(ctx, t, r, q); !slices.Equal(got, want) {
		t.Errorf("Find with an OR of %d conditions = %v, want %v", len(conds), got, want)
	}
	if n := count(ctx, t, r, q); n != int64(len(want)) {
		t.Errorf("Count with an OR of %d conditions = %d, want %d", len(conds), n, len(want))
	}
	if got := walkPages(t, pageOf(ctx, r), q, 4, len(want)); !slices.Equal(got, want) {
		t.Errorf("Page with an OR of %d conditions = %v, want %v", len(conds), got, want)
	}
	// The same conditions negated, under an AND: every record but those.
	neg := make([]query.Cond[things.Thing], len(conds))
	for i, c := range conds {
		neg[i] = query.Not(c)
	}
	if n := count(ctx, t, r, things.ThingQuery().Where(neg...)); n != int64(len(recs)-len(want)) {
		t.Errorf("Count with an AND of %d negated conditions = %d, want %d", len(neg), n, len(recs)-len(want))
	}

	over := things.ThingQuery().Where(query.Or(append(conds, F.Active.EQ(true))...))
	_, err := r.Find(ctx, over)
	wantLimitErr(t, "Find over the limit", err, "", conditionsLimit, conditionsLimit+1)
	_, err = r.Count(ctx, over)
	wantLimitErr(t, "Count over the limit", err, "", conditionsLimit, conditionsLimit+1)
	_, err = r.Page(ctx, over, "")
	wantLimitErr(t, "Page over the limit", err, "", conditionsLimit, conditionsLimit+1)
	for _, err := range r.Stream(ctx, over) {
		wantLimitErr(t, "Stream over the limit", err, "", conditionsLimit, conditionsLimit+1)
		break
	}
}

// testLargeIN: IN and NOT IN with 70,000 values are one condition each, with the same answer
// on every backend (more values than PostgreSQL's parameters per statement and
// Elasticsearch's terms per query).
func testLargeIN(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	recs := make([]things.Thing, 10)
	for i := range recs {
		recs[i] = minimalThing(fmt.Sprintf("in%02d", i))
		recs[i].Rank = ptr(int64(i * 10000))
		recs[i].Tags = []string{fmt.Sprintf("t%d", i*10000)}
	}
	seed(ctx, t, r, recs)
	F := things.ThingFields
	const n = 70000
	ranks := make([]int64, 0, n)
	tags := make([]string, 0, n)
	for v := range n {
		if v%20000 == 0 { // 0, 20000, 40000, 60000: records in00, in02, in04, in06
			ranks = append(ranks, int64(v))
			tags = append(tags, fmt.Sprintf("t%d", v))
		} else {
			ranks = append(ranks, int64(-v))
			tags = append(tags, fmt.Sprintf("x%d", v))
		}
	}
	want := []string{"in00", "in02", "in04", "in06"}
	rest := []string{"in01", "in03", "in05", "in07", "in08", "in09"}
	for _, c := range []struct {
		cond query.Cond[things.Thing]
		want []string
	}{
		{F.Rank.IN(ranks...), want}, {F.Rank.NotIn(ranks...), rest},
		{F.Tags.ContainsAny(tags...), want}, {query.Not(F.Tags.ContainsAny(tags...)), rest},
	} {
		if got := findIDs(ctx, t, r, things.ThingQuery().Where(c.cond)); !slices.Equal(got, c.want) {
			t.Errorf("Find(%.40s...) = %v, want %v", c.cond, got, c.want)
		}
	}
}

// testNonFiniteCursor: a cursor edited to hold NaN or an infinity for a float key, or a NUL
// in a string key, is ErrInvalidInput on every backend (never a first page again).
func testNonFiniteCursor(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, randomThings(20, 9))
	F := things.ThingFields
	forge := func(cursor string, val string) string {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		d["v"].([]any)[0] = val
		b, _ := json.Marshal(d)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	for _, c := range []struct {
		q    query.Query[things.Thing]
		vals []string
	}{
		{things.ThingQuery().OrderBy(F.Ratio.Asc()), []string{"NaN", "nan", "+Inf", "-Inf", "Inf", "infinity", "-Infinity"}},
		{things.ThingQuery().OrderBy(F.Ratio.Desc()), []string{"NaN", "+Inf", "-Inf"}},
		{things.ThingQuery().OrderBy(F.Name.Asc()), []string{"a\x00b"}},
	} {
		p, err := r.Page(ctx, c.q.Limit(3), "")
		if err != nil || p.Next == "" {
			t.Fatalf("Page(%s): %v, next %q", c.q, err, p.Next)
		}
		if _, err := r.Page(ctx, c.q.Limit(3), forge(p.Next, "0")); err != nil {
			t.Errorf("Page(%s) with a cursor holding 0: %v", c.q, err)
		}
		for _, v := range c.vals {
			got, err := r.Page(ctx, c.q.Limit(3), forge(p.Next, v))
			if !errors.Is(err, repo.ErrInvalidInput) {
				t.Errorf("Page(%s) with a cursor holding %q = %v, %v; want ErrInvalidInput", c.q, v, thingIDs(got.Items), err)
			}
		}
	}
}

// testJSONUTF8: a json field whose strings hold invalid UTF-8 is ErrInvalidInput naming the
// field on every backend, in Create, Update and a batch (where it fails alone); valid
// non-ASCII JSON is stored.
func testJSONUTF8(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	good := fullThing("json-ok")
	good.Meta = json.RawMessage(`{"k":"é日😀","\u00e9":["\ud83d\ude00"]}`)
	if _, err := r.Create(ctx, good); err != nil {
		t.Fatalf("Create with non-ASCII JSON: %v", err)
	}
	if got, err := r.Get(ctx, "json-ok"); err != nil || !json.Valid(got.Meta) {
		t.Errorf("Get: %q, %v", got.Meta, err)
	}
	for _, meta := range []string{"{\"k\":\"\xff\"}", "[\"a\xc3\"]", "\"\xed\xa0\x80\"", "{\"\xe9\":1}"} {
		bad := fullThing("json-bad")
		bad.Meta = json.RawMessage(meta)
		_, err := r.Create(ctx, bad)
		wantErr(t, fmt.Sprintf("Create with json %q", meta), err, repo.ErrInvalidInput)
		if err != nil && !strings.Contains(err.Error(), "meta") {
			t.Errorf("Create with json %q: error %q does not name the field", meta, err)
		}
		upd := good
		upd.Meta = bad.Meta
		_, err = r.Update(ctx, upd)
		wantErr(t, fmt.Sprintf("Update with json %q", meta), err, repo.ErrInvalidInput)
		batch := []things.Thing{minimalThing("jb-0"), bad, minimalThing("jb-2")}
		res, err := r.CreateBatch(ctx, batch)
		if err != nil {
			t.Fatalf("CreateBatch: %v", err)
		}
		wantErr(t, fmt.Sprintf("CreateBatch item with json %q", meta), res[1].Err, repo.ErrInvalidInput)
		for _, i := range []int{0, 2} {
			if res[i].Err != nil && !errors.Is(res[i].Err, repo.ErrAlreadyExists) {
				t.Errorf("CreateBatch item %d: %v", i, res[i].Err)
			}
		}
	}
	if ok, _ := r.Exists(ctx, "json-bad"); ok {
		t.Errorf("a record with invalid UTF-8 in its json field was stored")
	}
}
