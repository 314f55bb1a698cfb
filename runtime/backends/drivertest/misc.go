package drivertest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

func testTimes(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	F := things.ThingFields
	plus0530 := time.FixedZone("IST", 5*3600+1800)
	minus8 := time.FixedZone("PST", -8*3600)
	plus2 := time.FixedZone("CEST", 2*3600)
	minus3 := time.FixedZone("BRT", -3*3600)

	in := things.Thing{ID: "tz", Name: "tz",
		At:      ptr(time.Date(2024, 3, 10, 8, 30, 15, 123456789, plus0530)),
		Created: time.Date(2023, 12, 31, 23, 59, 59, 999999999, minus8)}
	created, err := r.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	wantAt := time.Date(2024, 3, 10, 3, 0, 15, 123456000, time.UTC)
	wantCreated := time.Date(2024, 1, 1, 7, 59, 59, 999999000, time.UTC)
	check := func(what string, x things.Thing) {
		t.Helper()
		if x.At == nil || !x.At.Equal(wantAt) || x.At.Location() != time.UTC {
			t.Errorf("%s: at = %v, want %v in UTC at microsecond precision", what, x.At, wantAt)
		}
		if !x.Created.Equal(wantCreated) || x.Created.Location() != time.UTC {
			t.Errorf("%s: created = %v, want %v in UTC at microsecond precision", what, x.Created, wantCreated)
		}
	}
	check("Create", created)
	got, err := r.Get(ctx, "tz")
	if err != nil {
		t.Fatal(err)
	}
	check("Get", got)
	found := find(ctx, t, r, things.ThingQuery())
	if len(found) != 1 {
		t.Fatalf("Find: %d records", len(found))
	}
	check("Find", found[0])
	// The operand is normalized the same way: the original value matches.
	if ids := findIDs(ctx, t, r, things.ThingQuery().Where(F.At.EQ(*in.At), F.Created.EQ(in.Created))); !slices.Equal(ids, []string{"tz"}) {
		t.Errorf("EQ with the un-normalized original values: %v", ids)
	}

	// Sorting and range filters use instants, not wall clocks: by wall clock the order
	// below would be z3, z2, z1.
	seed(ctx, t, r, []things.Thing{
		{ID: "z1", Name: "z", Created: t0, At: ptr(time.Date(2024, 7, 1, 10, 0, 0, 0, plus2))},   // 08:00Z
		{ID: "z2", Name: "z", Created: t0, At: ptr(time.Date(2024, 7, 1, 9, 0, 0, 0, time.UTC))}, // 09:00Z
		{ID: "z3", Name: "z", Created: t0, At: ptr(time.Date(2024, 7, 1, 7, 0, 0, 0, minus3))},   // 10:00Z
		{ID: "z4", Name: "z", Created: t0, At: ptr(time.Date(1969, 12, 31, 23, 59, 59, 999999500, time.UTC))},
		{ID: "z5", Name: "z", Created: t0, At: ptr(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))},
	})
	zq := things.ThingQuery().Where(F.Name.EQ("z"))
	if ids := findIDs(ctx, t, r, zq.OrderBy(F.At.Asc())); !slices.Equal(ids, []string{"z4", "z1", "z2", "z3", "z5"}) {
		t.Errorf("sort by time asc: %v", ids)
	}
	if ids := findIDs(ctx, t, r, zq.OrderBy(F.At.Desc())); !slices.Equal(ids, []string{"z5", "z3", "z2", "z1", "z4"}) {
		t.Errorf("sort by time desc: %v", ids)
	}
	nineZ := time.Date(2024, 7, 1, 9, 0, 0, 0, time.UTC)
	if ids := findIDs(ctx, t, r, zq.Where(F.At.GT(nineZ.In(plus0530)))); !slices.Equal(ids, []string{"z3", "z5"}) {
		t.Errorf("GT 09:00Z given in +05:30: %v", ids)
	}
	if ids := findIDs(ctx, t, r, zq.Where(F.At.Between(nineZ.Add(-time.Hour).In(minus8), nineZ))); !slices.Equal(ids, []string{"z1", "z2"}) {
		t.Errorf("BETWEEN 08:00Z and 09:00Z in other zones: %v", ids)
	}
	// Before 1970, truncation goes toward the past.
	z4, err := r.Get(ctx, "z4")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC); z4.At == nil || !z4.At.Equal(want) {
		t.Errorf("pre-1970 time stored as %v, want %v", z4.At, want)
	}
	if ids := findIDs(ctx, t, r, zq.Where(F.At.LT(time.Unix(0, 0)))); !slices.Equal(ids, []string{"z4"}) {
		t.Errorf("LT epoch: %v", ids)
	}
}

// unicodeNames are sorted by byte order (code point order), which differs from collation
// order, from case-insensitive order and from UTF-16 order (U+FF41 sorts before U+1F600
// here, after it in UTF-16).
var unicodeNames = []string{
	"", "A", "B", "Z", "a", "a b", "aa", "b", "e\u0301", "\u00a0", "é", "日本", "ａ", "😀",
}

func testUnicode(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	F := things.ThingFields
	var recs []things.Thing
	for i, n := range unicodeNames {
		// Insert in reverse order so that the id order (u00, u01, ...) is the byte order but
		// the insertion order is not.
		recs = append([]things.Thing{{ID: fmt.Sprintf("u%02d", i), Name: n, Title: ptr(n), Created: t0}}, recs...)
	}
	seed(ctx, t, r, recs)
	var asc []string
	for i := range unicodeNames {
		asc = append(asc, fmt.Sprintf("u%02d", i))
	}
	desc := slices.Clone(asc)
	slices.Reverse(desc)
	byName := map[string]string{}
	for i, n := range unicodeNames {
		byName[n] = asc[i]
	}
	checks := []struct {
		name string
		q    query.Query[things.Thing]
		want []string
	}{
		{"sort asc is byte order", things.ThingQuery().OrderBy(F.Name.Asc()), asc},
		{"sort desc is byte order", things.ThingQuery().OrderBy(F.Title.Desc()), desc},
		{"no normalization: é is not e+◌́", things.ThingQuery().Where(F.Name.EQ("é")), []string{byName["é"]}},
		{"decomposed form matches itself", things.ThingQuery().Where(F.Name.EQ("e\u0301")), []string{byName["e\u0301"]}},
		{"no case folding", things.ThingQuery().Where(F.Name.IN("a")), []string{byName["a"]}},
		{"no width folding", things.ThingQuery().Where(F.Name.EQ("ａ")), []string{byName["ａ"]}},
		{"_ is one code point", things.ThingQuery().Where(F.Name.Like("_")).OrderBy(F.Name.Asc()),
			[]string{byName["A"], byName["B"], byName["Z"], byName["a"], byName["b"], byName["\u00a0"], byName["é"], byName["ａ"], byName["😀"]}},
		{"e_ matches e + combining accent", things.ThingQuery().Where(F.Name.Like("e_")), []string{byName["e\u0301"]}},
		{"REGEX . is one code point", things.ThingQuery().Where(F.Title.Regex("..")).OrderBy(F.Name.Asc()),
			[]string{byName["aa"], byName["e\u0301"], byName["日本"]}},
		{"GT by bytes", things.ThingQuery().Where(F.Name.GT("z")), []string{byName["\u00a0"], byName["é"], byName["日本"], byName["ａ"], byName["😀"]}},
		{"BETWEEN by bytes", things.ThingQuery().Where(F.Name.Between("Z", "b")), []string{byName["Z"], byName["a"], byName["a b"], byName["aa"], byName["b"]}},
	}
	for _, c := range checks {
		got := findIDs(ctx, t, r, c.q)
		want := c.want
		if len(c.q.Spec().Sort) == 0 {
			want = slices.Sorted(slices.Values(want))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", c.name, got, want)
		}
	}
	// Pagination over unicode keys.
	if got := walkPages(t, pageOf(ctx, r), things.ThingQuery().OrderBy(F.Name.Desc()), 4, len(asc)); !slices.Equal(got, desc) {
		t.Errorf("pages by name desc: %v", got)
	}
}

// injectionStrings look like SQL, LIKE, regular expression, JSON or query DSL syntax; they
// must be stored and matched as plain text.
var injectionStrings = []string{
	`'; DROP TABLE thing; --`, `' OR '1'='1`, `%`, `_`, `\`, `\\`, `%_\`, `"`, `""`, `{"a":1}`, `{"$gt":""}`,
	`*`, `.*`, `?`, `a*b?`, `$where`, `${x}`, "back`tick", `<script>`, `) OR (1=1`, `--`, `/* c */`, `:name`, `$1`,
}

func testInjection(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	F := things.ThingFields
	var recs []things.Thing
	byName := map[string]string{}
	for i, s := range injectionStrings {
		id := fmt.Sprintf("i%02d", i)
		byName[s] = id
		recs = append(recs, things.Thing{ID: id, Name: s, Title: ptr(s), Tags: []string{s, "plain"}, Meta: []byte(`{"v":` + jsonString(s) + `}`), Created: t0})
	}
	// Ids that look like syntax are opaque too.
	oddIDs := []string{`x'; DROP TABLE thing; --`, `100%`, `a_b`, `q"uote`, `back\slash`, `sp ace`, `slash/ed`, `日本`, `{"id":1}`}
	for _, id := range oddIDs {
		recs = append(recs, things.Thing{ID: id, Name: "odd id", Created: t0})
	}
	seed(ctx, t, r, recs)
	if n := count(ctx, t, r, things.ThingQuery()); n != int64(len(recs)) {
		t.Fatalf("Count = %d, want %d", n, len(recs))
	}
	for _, s := range injectionStrings {
		id := byName[s]
		got, err := r.Get(ctx, id)
		if err != nil {
			t.Fatalf("Get(%s): %v", id, err)
		}
		if got.Name != s || got.Title == nil || *got.Title != s || !slices.Equal(got.Tags, []string{s, "plain"}) {
			t.Errorf("%q came back as %q / %v / %v", s, got.Name, got.Title, got.Tags)
		}
		var prefixed []string
		for _, o := range injectionStrings {
			if strings.HasPrefix(o, s) {
				prefixed = append(prefixed, byName[o])
			}
		}
		slices.Sort(prefixed)
		for _, c := range []struct {
			what string
			cond query.Cond[things.Thing]
			want []string
		}{
			{"EQ", F.Name.EQ(s), []string{id}},
			{"IN", F.Title.IN(s, "nothing"), []string{id}},
			{"NEQ", query.And(F.Name.NEQ(s), F.Name.NEQ("odd id")), nil},
			{"LIKE escaped", F.Name.Like(query.EscapeLike(s)), []string{id}},
			{"STARTS_WITH", F.Title.StartsWith(s), prefixed},
			{"contains", F.Tags.Contains(s), []string{id}},
		} {
			got := findIDs(ctx, t, r, things.ThingQuery().Where(c.cond))
			want := c.want
			if c.what == "NEQ" {
				want = slices.DeleteFunc(slices.Sorted(maps(byName)), func(x string) bool { return x == id })
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s %q: got %v, want %v", c.what, s, got, want)
			}
		}
	}
	for _, id := range oddIDs {
		if got, err := r.Get(ctx, id); err != nil || got.ID != id {
			t.Errorf("Get(%q) = %q, %v", id, got.ID, err)
		}
		if ids := findIDs(ctx, t, r, things.ThingQuery().Where(F.ID.EQ(id))); !slices.Equal(ids, []string{id}) {
			t.Errorf("Find(id = %q) = %v", id, ids)
		}
	}
	if err := r.Delete(ctx, oddIDs[0]); err != nil {
		t.Errorf("Delete(%q): %v", oddIDs[0], err)
	}
	if n := count(ctx, t, r, things.ThingQuery()); n != int64(len(recs)-1) {
		t.Errorf("Count after deleting one = %d, want %d", n, len(recs)-1)
	}
}

func maps(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range s {
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func testProjection(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, opThings())
	F := things.ThingFields
	full := map[string]things.Thing{}
	for _, x := range opThings() {
		full[x.ID] = x
	}
	got := find(ctx, t, r, things.ThingQuery().Where(F.Rank.Exists()).OrderBy(F.Rank.Desc()).Select(F.Name, F.Tags))
	var want []things.Thing
	for _, id := range []string{"e", "f", "a", "g", "d", "b"} {
		want = append(want, things.Thing{ID: id, Name: full[id].Name, Tags: full[id].Tags})
	}
	if d := cmp.Diff(want, got, thingCmp...); d != "" {
		t.Errorf("Select(name, tags) (-want +got):\n%s", d)
	}

	got = find(ctx, t, r, things.ThingQuery().Where(F.Title.Like("%o%")).Select())
	if d := cmp.Diff([]things.Thing{{ID: "a"}, {ID: "b"}, {ID: "f"}}, got, thingCmp...); d != "" {
		t.Errorf("Select() loads only the id (-want +got):\n%s", d)
	}

	sel := []query.Field[things.Thing]{F.Created, F.Flag, F.At, F.Meta, F.Levels, F.Kind, F.Code, F.Score, F.Blob}
	got = find(ctx, t, r, things.ThingQuery().Where(F.ID.IN("a", "c")).Select(sel...))
	a, c := full["a"], full["c"]
	want = []things.Thing{
		{ID: "a", Created: a.Created, Flag: a.Flag, At: a.At, Meta: a.Meta, Levels: a.Levels, Kind: a.Kind, Code: a.Code, Score: a.Score, Blob: a.Blob},
		{ID: "c", Created: c.Created},
	}
	if d := cmp.Diff(want, got, thingCmp...); d != "" {
		t.Errorf("Select(several kinds) (-want +got):\n%s", d)
	}

	var streamed []things.Thing
	for x, err := range r.Stream(ctx, things.ThingQuery().Where(F.ID.EQ("e")).Select(F.Body, F.Ratio)) {
		if err != nil {
			t.Fatal(err)
		}
		streamed = append(streamed, x)
	}
	e := full["e"]
	if d := cmp.Diff([]things.Thing{{ID: "e", Body: e.Body, Ratio: e.Ratio}}, streamed, thingCmp...); d != "" {
		t.Errorf("Stream with Select (-want +got):\n%s", d)
	}
	// A projected query filters and sorts on fields it does not load.
	ids := findIDs(ctx, t, r, things.ThingQuery().Where(F.Score.GT(0)).OrderBy(F.Score.Desc()).Select(F.Name))
	if !slices.Equal(ids, []string{"e", "f", "h", "a"}) {
		t.Errorf("filter and sort on unselected fields: %v", ids)
	}
}

func testCount(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	if n := count(ctx, t, r, things.ThingQuery()); n != 0 {
		t.Errorf("Count of an empty repository = %d", n)
	}
	seed(ctx, t, r, opThings())
	F := things.ThingFields
	cases := []struct {
		q    query.Query[things.Thing]
		want int64
	}{
		{things.ThingQuery(), 8},
		{things.ThingQuery().Limit(2).Offset(3).OrderBy(F.Rank.Desc()).Select(F.Name), 8}, // only the filter counts
		{things.ThingQuery().Where(F.Rank.Exists()), 6},
		{things.ThingQuery().Where(F.Rank.NotExists()), 2},
		{things.ThingQuery().Where(F.Name.IN()), 0},
		{things.ThingQuery().Where(F.Tags.Contains("red"), F.Active.EQ(true)), 1},
	}
	for _, c := range cases {
		if n := count(ctx, t, r, c.q); n != c.want {
			t.Errorf("Count(%s) = %d, want %d", c.q, n, c.want)
		}
	}
	if err := r.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if n := count(ctx, t, r, things.ThingQuery().Where(F.Rank.Exists())); n != 5 {
		t.Errorf("Count after Delete = %d, want 5", n)
	}
}

func hundred(t *testing.T, ctx context.Context, r repo.Repository[things.Thing]) {
	t.Helper()
	recs := make([]things.Thing, 100)
	for i := range recs {
		recs[i] = things.Thing{ID: fmt.Sprintf("s%03d", i), Name: "stream", Count: int64(i % 10), Created: t0}
	}
	seed(ctx, t, r, recs)
}

func testStream(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	hundred(t, ctx, r)
	F := things.ThingFields
	for _, q := range []query.Query[things.Thing]{
		things.ThingQuery(),
		things.ThingQuery().Where(F.Count.GTE(5)).OrderBy(F.Count.Desc()).Offset(3).Limit(20),
		things.ThingQuery().Where(F.Name.EQ("none")),
	} {
		want := findIDs(ctx, t, r, q)
		var got []string
		for rec, err := range r.Stream(ctx, q) {
			if err != nil {
				t.Fatalf("Stream(%s): %v", q, err)
			}
			got = append(got, rec.ID)
		}
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("Stream(%s) = %v, Find = %v", q, got, want)
		}
	}
}

func testStreamBreak(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	hundred(t, ctx, r)
	// A complete stream first, so that connections a backend keeps for reuse exist before
	// the goroutine snapshot.
	n := 0
	for _, err := range r.Stream(ctx, things.ThingQuery()) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 100 {
		t.Fatalf("full stream: %d records", n)
	}
	opts := []goleak.Option{goleak.IgnoreCurrent()}
	if li, ok := h.(LeakIgnorer); ok {
		opts = append(opts, li.LeakOptions()...)
	}
	for _, stop := range []int{1, 3, 99} {
		n := 0
		for _, err := range r.Stream(ctx, things.ThingQuery()) {
			if err != nil {
				t.Fatal(err)
			}
			n++
			if n == stop {
				break
			}
		}
		if n != stop {
			t.Errorf("stream broken off after %d records read %d", stop, n)
		}
	}
	// Two interleaved streams, both broken off.
	outer := 0
	for range r.Stream(ctx, things.ThingQuery()) {
		outer++
		inner := 0
		for range r.Stream(ctx, things.ThingQuery().Where(things.ThingFields.Count.EQ(3))) {
			inner++
			if inner == 2 {
				break
			}
		}
		if outer == 2 {
			break
		}
	}
	goleak.VerifyNone(t, opts...)
	// Nothing is held: writes and reads still work.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := r.Create(wctx, things.Thing{ID: "after-break", Name: "x", Created: t0}); err != nil {
		t.Errorf("Create after breaking off streams: %v", err)
	}
	if n := count(wctx, t, r, things.ThingQuery()); n != 101 {
		t.Errorf("Count after breaking off streams = %d", n)
	}
}

func testStreamCancel(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	hundred(t, ctx, r)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n, afterErr := 0, 0
	var serr error
	for _, err := range r.Stream(sctx, things.ThingQuery()) {
		if serr != nil {
			afterErr++
		}
		if err != nil {
			serr = err
			continue
		}
		n++
		if n == 2 {
			cancel()
		}
	}
	if serr == nil {
		t.Fatalf("a stream whose context was cancelled after 2 of 100 records read %d records and no error", n)
	}
	if !errors.Is(serr, context.Canceled) {
		t.Errorf("stream error %q is not context.Canceled", serr)
	}
	if n >= 100 {
		t.Errorf("read %d records after cancelling", n)
	}
	if afterErr != 0 {
		t.Errorf("the stream yielded %d more items after its error", afterErr)
	}

	done, cancel2 := context.WithCancel(ctx)
	cancel2()
	_, err := r.Find(done, things.ThingQuery())
	wantCtxErr(t, "Find with a cancelled context", err, context.Canceled)
	_, err = r.Count(done, things.ThingQuery())
	wantCtxErr(t, "Count with a cancelled context", err, context.Canceled)
	_, err = r.Get(done, "s001")
	wantCtxErr(t, "Get with a cancelled context", err, context.Canceled)
	_, err = r.Create(done, things.Thing{ID: "cancelled", Name: "x", Created: t0})
	wantCtxErr(t, "Create with a cancelled context", err, context.Canceled)
	if ok, _ := r.Exists(ctx, "cancelled"); ok {
		t.Errorf("a Create with a cancelled context stored the record")
	}
	past, cancel3 := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel3()
	var derr error
	for _, err := range r.Stream(past, things.ThingQuery()) {
		if err != nil {
			derr = err
			break
		}
	}
	wantCtxErr(t, "Stream past its deadline", derr, context.DeadlineExceeded)
}

func wantCtxErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %v", what, want)
	} else if !errors.Is(err, want) {
		t.Errorf("%s: error %q is not %v", what, err, want)
	}
}

func testConcurrentWriters(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	const workers, per, increments = 8, 25, 10
	if _, err := r.Create(ctx, things.Thing{ID: "counter", Name: "counter", Created: t0}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	// Readers run while the writers write.
	var readers sync.WaitGroup
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := r.Find(ctx, things.ThingQuery().Where(things.ThingFields.Count.EQ(1)).Limit(10)); err != nil {
					t.Errorf("concurrent Find: %v", err)
					return
				}
				if _, err := r.Count(ctx, things.ThingQuery()); err != nil {
					t.Errorf("concurrent Count: %v", err)
					return
				}
			}
		}()
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				id := fmt.Sprintf("w%d-%02d", w, i)
				rec, err := r.Create(ctx, things.Thing{ID: id, Name: "worker", Created: t0})
				if err != nil {
					t.Errorf("Create %s: %v", id, err)
					return
				}
				rec.Count = 1
				if _, err := r.Update(ctx, rec, repo.IfVersion(rec.RecordVersion)); err != nil {
					t.Errorf("Update %s: %v", id, err)
					return
				}
			}
			// Optimistic increments of a shared record: retry on conflict.
			for range increments {
				for attempt := 0; ; attempt++ {
					if attempt > 1000 {
						t.Errorf("no progress incrementing the counter")
						return
					}
					c, err := r.Get(ctx, "counter")
					if err != nil {
						t.Errorf("Get counter: %v", err)
						return
					}
					c.Count++
					_, err = r.Update(ctx, c, repo.IfVersion(c.RecordVersion))
					if err == nil {
						break
					}
					if !errors.Is(err, repo.ErrVersionConflict) {
						t.Errorf("Update counter: %v", err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	readers.Wait()
	if t.Failed() {
		return
	}
	if n := count(ctx, t, r, things.ThingQuery()); n != workers*per+1 {
		t.Errorf("Count = %d, want %d", n, workers*per+1)
	}
	if n := count(ctx, t, r, things.ThingQuery().Where(things.ThingFields.Count.EQ(1), things.ThingFields.Name.EQ("worker"))); n != workers*per {
		t.Errorf("updated records = %d, want %d", n, workers*per)
	}
	c, err := r.Get(ctx, "counter")
	if err != nil {
		t.Fatal(err)
	}
	if c.Count != workers*increments {
		t.Errorf("counter = %d after %d optimistic increments: updates were lost", c.Count, workers*increments)
	}

	// Concurrent batches with the same ids: each id is stored exactly once.
	ids := make([]things.Thing, 50)
	for i := range ids {
		ids[i] = things.Thing{ID: fmt.Sprintf("dup-%02d", i), Name: "dup", Created: t0}
	}
	var mu sync.Mutex
	wins := map[string]int{}
	var bwg sync.WaitGroup
	for range 4 {
		bwg.Add(1)
		go func() {
			defer bwg.Done()
			res, err := r.CreateBatch(ctx, ids)
			if err != nil {
				t.Errorf("CreateBatch: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, x := range res {
				switch {
				case x.Err == nil:
					wins[x.ID]++
				case !errors.Is(x.Err, repo.ErrAlreadyExists):
					t.Errorf("batch item %s: %v", x.ID, x.Err)
				}
			}
		}()
	}
	bwg.Wait()
	for _, x := range ids {
		if wins[x.ID] != 1 {
			t.Errorf("id %s was created %d times by concurrent batches", x.ID, wins[x.ID])
		}
	}
	if n := count(ctx, t, r, things.ThingQuery().Where(things.ThingFields.Name.EQ("dup"))); n != 50 {
		t.Errorf("Count of batch records = %d, want 50", n)
	}
}
