package eval_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/eval"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/textsearch"
)

func randomRecs(n int, seed uint64) []rec {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]rec, n)
	for i := range out {
		r := rec{ID: fmt.Sprintf("id%04d", rng.IntN(1_000_000)*10+i%10), Count: int64(rng.IntN(3))}
		if rng.IntN(3) > 0 {
			r.I = ptr(int64(rng.IntN(4)))
		}
		if rng.IntN(3) > 0 {
			r.S = ptr([]string{"", "a", "B", "é"}[rng.IntN(4)])
		}
		out[i] = r
	}
	return out
}

func ptrs(recs []rec) []*rec {
	out := make([]*rec, len(recs))
	for i := range recs {
		out[i] = &recs[i]
	}
	return out
}

func idsOf(rs []*rec) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// TestWindow checks that Window's partial selection returns exactly the slice of the fully
// sorted matches, for offsets and limits around the heap and full-sort paths.
func TestWindow(t *testing.T) {
	recs := randomRecs(300, 1)
	keys := []query.SortKey{{Field: "i", Desc: true}, {Field: "s"}}
	full, err := eval.NewPlan(recDesc, &query.Spec{Filter: query.All(), Sort: keys})
	if err != nil {
		t.Fatal(err)
	}
	all := idsOf(full.Window(ptrs(slices.Clone(recs))))
	if len(all) != len(recs) {
		t.Fatalf("Window without limit returned %d of %d", len(all), len(recs))
	}
	for _, c := range []struct{ offset, limit int }{
		{0, 1}, {0, 10}, {3, 10}, {0, 149}, {0, 150}, {0, 151}, {100, 60}, {290, 20}, {299, 1}, {300, 1}, {500, 5}, {7, 0}, {0, 300}, {0, 1 << 62}, {1 << 62, 1 << 62},
	} {
		p, err := eval.NewPlan(recDesc, &query.Spec{Filter: query.All(), Sort: keys, Offset: c.offset, Limit: c.limit})
		if err != nil {
			t.Fatal(err)
		}
		got := idsOf(p.Window(ptrs(slices.Clone(recs))))
		want := all[min(c.offset, len(all)):]
		if c.limit > 0 {
			want = want[:min(c.limit, len(want))]
		}
		if !slices.Equal(got, want) {
			t.Errorf("offset %d limit %d: got %v, want %v", c.offset, c.limit, got, want)
		}
	}
}

// TestTopK checks that records offered one at a time to a TopK give exactly the window of
// the fully sorted records, for offsets and limits below, at and above the record count.
func TestTopK(t *testing.T) {
	recs := randomRecs(300, 2)
	keys := []query.SortKey{{Field: "s", Desc: true}, {Field: "i"}}
	full, err := eval.NewPlan(recDesc, &query.Spec{Filter: query.All(), Sort: keys})
	if err != nil {
		t.Fatal(err)
	}
	all := idsOf(full.Window(ptrs(slices.Clone(recs))))
	for _, c := range []struct{ offset, limit int }{
		{0, 1}, {0, 2}, {0, 10}, {5, 10}, {0, 299}, {0, 300}, {0, 301}, {250, 60}, {299, 1}, {300, 1}, {500, 5}, {0, 0}, {7, 0}, {0, 1 << 62}, {1 << 62, 1 << 62},
	} {
		p, err := eval.NewPlan(recDesc, &query.Spec{Filter: query.All(), Sort: keys, Offset: c.offset, Limit: c.limit})
		if err != nil {
			t.Fatal(err)
		}
		top := p.TopK()
		for _, r := range ptrs(slices.Clone(recs)) {
			top.Add(r)
		}
		got := idsOf(top.Window())
		want := all[min(c.offset, len(all)):]
		if c.limit > 0 {
			want = want[:min(c.limit, len(want))]
		}
		if !slices.Equal(got, want) {
			t.Errorf("offset %d limit %d: got %v, want %v", c.offset, c.limit, got, want)
		}
	}
}

// TestPlanOrder checks NewPlan's total order: missing values last in both directions, the
// id appended as an ascending tiebreaker.
func TestPlanOrder(t *testing.T) {
	recs := []rec{
		{ID: "d", I: ptr[int64](1)},
		{ID: "a"},
		{ID: "c", I: ptr[int64](1)},
		{ID: "b", I: ptr[int64](2)},
		{ID: "e"},
	}
	for _, c := range []struct {
		keys []query.SortKey
		want string
	}{
		{nil, "a,b,c,d,e"},
		{[]query.SortKey{{Field: "i"}}, "c,d,b,a,e"},
		{[]query.SortKey{{Field: "i", Desc: true}}, "b,c,d,a,e"},
		{[]query.SortKey{{Field: "id", Desc: true}}, "e,d,c,b,a"},
		{[]query.SortKey{{Field: "i"}, {Field: "id", Desc: true}}, "d,c,b,e,a"},
	} {
		p, err := eval.NewPlan(recDesc, &query.Spec{Filter: query.All(), Sort: c.keys})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(idsOf(p.Window(ptrs(slices.Clone(recs)))), ","); got != c.want {
			t.Errorf("sort %v: got %s, want %s", c.keys, got, c.want)
		}
	}
}

func TestSortKinds(t *testing.T) {
	recs := dataset()
	for _, c := range []struct {
		key  query.SortKey
		want string
	}{
		{query.SortKey{Field: "s"}, "d,b,a,e,c"}, // "" < "Apple" < "apple" < "é日本😀", missing last
		{query.SortKey{Field: "s", Desc: true}, "e,a,b,d,c"},
		{query.SortKey{Field: "f"}, "b,d,a,e,c"},
		{query.SortKey{Field: "f", Desc: true}, "e,a,d,b,c"},
		{query.SortKey{Field: "b"}, "b,d,a,c,e"},
		{query.SortKey{Field: "b", Desc: true}, "a,b,d,c,e"},
		{query.SortKey{Field: "t"}, "a,b,e,d,c"},
		{query.SortKey{Field: "t", Desc: true}, "d,e,b,a,c"},
		{query.SortKey{Field: "name"}, "c,d,a,b,e"},
		{query.SortKey{Field: "e"}, "d,b,a,c,e"},
		{query.SortKey{Field: "count", Desc: true}, "e,d,b,a,c"},
	} {
		p, err := eval.NewPlan(recDesc, &query.Spec{Filter: query.All(), Sort: []query.SortKey{c.key}})
		if err != nil {
			t.Fatal(err)
		}
		want := c.want
		if got := strings.Join(idsOf(p.Window(ptrs(slices.Clone(recs)))), ","); got != want {
			t.Errorf("sort %v: got %s, want %s", c.key, got, want)
		}
	}
}

func TestPlanErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		spec query.Spec
	}{
		{"negative limit", query.Spec{Filter: query.All(), Limit: -1}},
		{"negative offset", query.Spec{Filter: query.All(), Offset: -1}},
		{"unknown sort field", query.Spec{Filter: query.All(), Sort: []query.SortKey{{Field: "zz"}}}},
		{"sort by list", query.Spec{Filter: query.All(), Sort: []query.SortKey{{Field: "ss"}}}},
		{"sort by bytes", query.Spec{Filter: query.All(), Sort: []query.SortKey{{Field: "by"}}}},
		{"sort by json", query.Spec{Filter: query.All(), Sort: []query.SortKey{{Field: "js"}}}},
		{"unknown projected field", query.Spec{Filter: query.All(), Fields: []string{"zz"}}},
		{"bad filter", query.Spec{Filter: query.Expr{Op: query.OpGT, Field: "ss", Args: []any{"x"}}}},
	} {
		if _, err := eval.NewPlan(recDesc, &c.spec); err == nil || !errors.Is(err, query.ErrBadQuery) {
			t.Errorf("%s: NewPlan error %v, want ErrBadQuery", c.name, err)
		}
	}
}

func TestOutput(t *testing.T) {
	r := dataset()[0]
	r.Version = "7"
	full, _ := eval.NewPlan(recDesc, &query.Spec{Filter: query.All()})
	c := full.Output(&r)
	if c.ID != r.ID || *c.S != *r.S || !slices.Equal(c.Ss, r.Ss) || c.Version != "7" {
		t.Fatalf("Output without projection = %+v", c)
	}
	c.Ss[0] = "changed"
	*c.S = "changed"
	if r.Ss[0] == "changed" || *r.S == "changed" {
		t.Errorf("Output shares memory with the record")
	}

	p, _ := eval.NewPlan(recDesc, &query.Spec{Filter: query.All(), Fields: []string{"ss", "i"}})
	if !p.Projected() {
		t.Errorf("Projected() = false")
	}
	o := p.Output(&r)
	want := rec{ID: r.ID, Ss: []string{"x", "y"}, I: r.I, Version: "7"}
	if o.ID != want.ID || !slices.Equal(o.Ss, want.Ss) || o.I == nil || *o.I != *r.I || o.S != nil || o.F != nil || o.Name != "" || o.Count != 0 || o.Version != "7" {
		t.Errorf("projected Output = %+v, want %+v", o, want)
	}
	o.Ss[1] = "changed"
	if r.Ss[1] == "changed" {
		t.Errorf("projected Output shares memory with the record")
	}
	none, _ := eval.NewPlan(recDesc, &query.Spec{Filter: query.All(), Fields: []string{}})
	if o := none.Output(&r); o.ID != r.ID || o.S != nil || o.Ss != nil || o.Count != 0 {
		t.Errorf("empty projection Output = %+v", o)
	}
}

// BenchmarkWindowTop100 is the top-k step of a sorted, limited query on the memory backend
// (Plan.Window's bounded heap): the 100 smallest of 20,000 matches.
func BenchmarkWindowTop100(b *testing.B) {
	recs := ptrs(randomRecs(20_000, 3))
	p, err := eval.NewPlan(recDesc, &query.Spec{Filter: query.All(), Sort: []query.SortKey{{Field: "i", Desc: true}, {Field: "s"}}, Limit: 100})
	if err != nil {
		b.Fatal(err)
	}
	work := make([]*rec, len(recs))
	b.ReportAllocs()
	for b.Loop() {
		copy(work, recs)
		if got := p.Window(work); len(got) != 100 {
			b.Fatalf("%d records", len(got))
		}
	}
}

// TestYield: Yield yields the window's outputs in order, stops when the loop breaks, and
// yields the context's error (once, then stops) when the context ends between records.
func TestYield(t *testing.T) {
	recs := randomRecs(5, 2)
	plan, err := eval.NewPlan(recDesc, &query.Spec{Filter: query.All(), Fields: []string{"i"}})
	if err != nil {
		t.Fatal(err)
	}
	window := plan.Window(ptrs(recs))
	var got []string
	plan.Yield(t.Context(), window, func(r rec, err error) bool {
		if err != nil || r.S != nil {
			t.Errorf("record %q: %v, s %v; want the projection without error", r.ID, err, r.S)
		}
		got = append(got, r.ID)
		return len(got) < 3
	})
	if want := idsOf(window)[:3]; !slices.Equal(got, want) {
		t.Errorf("yielded %v, want %v (stopped after the third)", got, want)
	}

	ctx, cancel := context.WithCancel(t.Context())
	var errs []error
	n := 0
	plan.Yield(ctx, window, func(r rec, err error) bool {
		if err != nil {
			errs = append(errs, err)
			return true
		}
		if n++; n == 2 {
			cancel()
		}
		return true
	})
	if n != 2 || len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("after a cancel at record 2: %d records, errors %v; want 2 and one context.Canceled", n, errs)
	}
}

// searchDesc is recDesc with its text field "name" searchable in English.
var searchDesc = func() *record.Desc[rec] {
	d := *recDesc
	d.Fields = slices.Clone(recFields)
	d.Fields[2].Search = "english"
	return record.MustNew(&d)
}()

// TestRelevanceOrder checks the relevance key on memory and S3: Window sorts by the score of
// textsearch.ScoreAll (highest first, the id breaking ties) and TopK, which keeps scores
// only for the records it holds, gives the same windows.
func TestRelevanceOrder(t *testing.T) {
	words := []string{"apple", "apples", "pear", "plum", "the", "tart"}
	rng := rand.New(rand.NewPCG(7, 7))
	recs := make([]rec, 300)
	for i := range recs {
		ws := make([]string, 1+rng.IntN(8))
		for j := range ws {
			ws[j] = words[rng.IntN(len(words))]
		}
		recs[i] = rec{ID: fmt.Sprintf("r%03d", i), Name: strings.Join(ws, " ")}
	}
	filter := query.Expr{Op: query.OpSearch, Field: "name", Args: []any{"apple"}}
	keys := []query.SortKey{query.RelevanceKey()}
	full, err := eval.NewPlan(searchDesc, &query.Spec{Filter: filter, Sort: keys})
	if err != nil {
		t.Fatal(err)
	}
	var matches []*rec
	for _, r := range ptrs(slices.Clone(recs)) {
		if full.Match(r) {
			matches = append(matches, r)
		}
	}
	sorted := full.Window(slices.Clone(matches))
	score := func(r *rec) float64 {
		return textsearch.ScoreAll(textsearch.Document(textsearch.English, r.Name), textsearch.Operand(textsearch.English, "apple"))
	}
	for i := 1; i < len(sorted); i++ {
		a, b := sorted[i-1], sorted[i]
		if sa, sb := score(a), score(b); sa < sb || sa == sb && a.ID > b.ID {
			t.Fatalf("%s (%v) before %s (%v)", a.ID, sa, b.ID, sb)
		}
	}
	all := idsOf(sorted)
	for _, c := range []struct{ offset, limit int }{{0, 1}, {0, 5}, {10, 20}, {0, len(all)}, {len(all) - 1, 5}, {3, 0}} {
		p, err := eval.NewPlan(searchDesc, &query.Spec{Filter: filter, Sort: keys, Offset: c.offset, Limit: c.limit})
		if err != nil {
			t.Fatal(err)
		}
		top := p.TopK()
		for _, r := range matches {
			top.Add(r)
		}
		want := all[c.offset:]
		if c.limit > 0 {
			want = want[:min(c.limit, len(want))]
		}
		if got := idsOf(top.Window()); !slices.Equal(got, want) {
			t.Errorf("TopK offset %d limit %d: %v, want %v", c.offset, c.limit, got, want)
		}
		if got := idsOf(p.Window(slices.Clone(matches))); !slices.Equal(got, want) {
			t.Errorf("Window offset %d limit %d: %v, want %v", c.offset, c.limit, got, want)
		}
	}
	if _, err := eval.NewPlan(searchDesc, &query.Spec{Filter: query.All(), Sort: keys}); !errors.Is(err, query.ErrBadQuery) {
		t.Errorf("relevance without a search condition: %v", err)
	}
}
