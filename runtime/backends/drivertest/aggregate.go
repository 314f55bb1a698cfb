package drivertest

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

type aggCase struct {
	name    string
	q       query.Query[things.Thing]
	groups  []query.GroupKey[things.Thing]
	metrics []query.Metric[things.Thing]
	want    []string // query.Group.String of each group, in order
}

// aggCases pin the meaning of Aggregate (docs/semantics.md, "Aggregations") over
// opThings: missing values, list elements (with a repeated element), UTC time buckets,
// microsecond precision, filters and empty inputs.
func aggCases() []aggCase {
	F := things.ThingFields
	Q := things.ThingQuery
	type (
		G = query.GroupKey[things.Thing]
		M = query.Metric[things.Thing]
	)
	return []aggCase{
		{"ungrouped", Q(), nil, []M{F.Rank.Count(), F.Count.Sum(), F.Rank.Sum(), F.Rank.Min(), F.Rank.Max(),
			F.Rank.Avg(), F.Ratio.Sum(), F.Ratio.Avg(), F.Score.Min(), F.Score.Max(), F.At.Min(), F.At.Max(),
			F.Kind.CountDistinct(), F.Flag.CountDistinct(), F.Name.CountDistinct(), F.Blob.Count()},
			[]string{`{} count=8 [6 112 104 -5 100 17.333333333333332 5.5 0.6875 -2 1e+300 2024-01-01T00:00:00Z 2025-01-01T00:00:00Z 3 2 8 2]`}},
		{"by enum, missing last", Q(), []G{F.Kind.GroupBy()}, []M{F.Rank.Sum(), F.Ratio.Avg(), F.Score.Count()},
			[]string{`{"a"} count=2 [2 1.25 1]`, `{"b"} count=1 [-5 1 1]`, `{"c"} count=1 [0 -1.25 1]`, `{null} count=4 [107 0.8125 3]`}},
		{"by bool", Q(), []G{F.Active.GroupBy()}, []M{F.Count.Sum()},
			[]string{`{false} count=4 [35]`, `{true} count=4 [77]`}},
		{"by two fields", Q(), []G{F.Active.GroupBy(), F.Flag.GroupBy()}, []M{F.Rank.Max()},
			[]string{`{false false} count=2 [-5]`, `{false true} count=1 [7]`, `{false null} count=1 [null]`,
				`{true false} count=1 [0]`, `{true true} count=1 [1]`, `{true null} count=2 [100]`}},
		{"by int", Q(), []G{F.Rank.GroupBy()}, []M{F.Kind.CountDistinct()},
			[]string{`{-5} count=1 [1]`, `{0} count=1 [1]`, `{1} count=2 [1]`, `{7} count=1 [0]`, `{100} count=1 [0]`, `{null} count=2 [0]`}},
		{"by string list element", Q(), []G{F.Tags.GroupBy()}, []M{F.Count.Sum()},
			[]string{`{""} count=1 [30]`, `{"Red"} count=1 [-3]`, `{"blue"} count=2 [30]`, `{"red"} count=2 [20]`,
				`{"x"} count=1 [40]`, `{"日本"} count=1 [40]`, `{null} count=2 [5]`}},
		{"by list element with min, max, avg and count", Q(), []G{F.Tags.GroupBy()}, []M{F.Rank.Min(), F.Rank.Max(), F.Ratio.Avg(), F.Score.Count()},
			[]string{`{""} count=1 [0 0 -1.25 1]`, `{"Red"} count=1 [1 1 2 0]`, `{"blue"} count=2 [-5 1 0.75 2]`, `{"red"} count=2 [1 7 0.5 2]`,
				`{"x"} count=1 [100 100 3.25 1]`, `{"日本"} count=1 [100 100 3.25 1]`, `{null} count=2 [null null -0.25 1]`}},
		{"by list element with count distinct", Q(), []G{F.Tags.GroupBy()}, []M{F.Kind.CountDistinct(), F.Rank.Sum()},
			[]string{`{""} count=1 [1 0]`, `{"Red"} count=1 [1 1]`, `{"blue"} count=2 [2 -4]`, `{"red"} count=2 [1 8]`,
				`{"x"} count=1 [0 100]`, `{"日本"} count=1 [0 100]`, `{null} count=2 [0 null]`}},
		{"by list element and bool", Q(), []G{F.Levels.GroupBy(), F.Active.GroupBy()}, []M{F.Count.Sum()},
			[]string{`{"high" false} count=1 [20]`, `{"high" true} count=1 [30]`, `{"low" false} count=1 [10]`, `{"low" true} count=1 [10]`,
				`{"mid" false} count=2 [25]`, `{null false} count=1 [0]`, `{null true} count=2 [37]`}},
		{"by int list element, repeated element once", Q(), []G{F.Nums.GroupBy()}, []M{F.Count.Sum()},
			[]string{`{-5} count=1 [20]`, `{0} count=1 [30]`, `{1} count=1 [10]`, `{2} count=1 [10]`, `{7} count=1 [10]`,
				`{100} count=1 [-3]`, `{null} count=3 [45]`}},
		{"by enum list element", Q(), []G{F.Levels.GroupBy()}, nil,
			[]string{`{"high"} count=2 []`, `{"low"} count=2 []`, `{"mid"} count=2 []`, `{null} count=3 []`}},
		{"time by UTC day", Q(), []G{F.At.ByDay()}, []M{F.At.Min()},
			[]string{`{2024-01-01T00:00:00Z} count=2 [2024-01-01T00:00:00Z]`, `{2024-06-01T00:00:00Z} count=2 [2024-06-01T12:00:00Z]`,
				`{2025-01-01T00:00:00Z} count=1 [2025-01-01T00:00:00Z]`, `{null} count=3 [null]`}},
		{"time by month, max to the microsecond", Q(), []G{F.Created.ByMonth()}, []M{F.At.Max()},
			[]string{`{2024-01-01T00:00:00Z} count=3 [2025-01-01T00:00:00Z]`, `{2024-06-01T00:00:00Z} count=3 [2024-06-01T12:00:00.000001Z]`,
				`{2025-01-01T00:00:00Z} count=2 [2024-01-01T00:00:00Z]`}},
		{"filter", Q().Where(F.Rank.GT(0)), []G{F.Kind.GroupBy()}, []M{F.Rank.Sum(), F.Score.Avg()},
			[]string{`{"a"} count=2 [2 1.5]`, `{null} count=2 [107 5e+299]`}},
		{"sort, limit and projection do not apply", Q().OrderBy(F.Rank.Desc()).Limit(1).Offset(2).Select(F.Name),
			[]G{F.Active.GroupBy()}, nil, []string{`{false} count=4 []`, `{true} count=4 []`}},
		{"grouped, nothing matches", Q().Where(F.Name.IN()), []G{F.Kind.GroupBy()}, []M{F.Rank.Sum()}, []string{}},
		{"ungrouped, nothing matches", Q().Where(F.Name.IN()), nil,
			[]M{F.Rank.Count(), F.Rank.Sum(), F.Score.Avg(), F.At.Min(), F.Kind.CountDistinct()},
			[]string{`{} count=0 [0 null null null 0]`}},
	}
}

func testAggregate(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	if got, err := r.Aggregate(ctx, things.ThingQuery(), nil, things.ThingFields.Rank.Sum()); err != nil {
		t.Fatalf("Aggregate of an empty repository: %v", err)
	} else if s := groupStrings(got); len(s) != 1 || s[0] != "{} count=0 [null]" {
		t.Errorf("Aggregate of an empty repository = %q", s)
	}
	seed(ctx, t, r, opThings())
	for _, c := range aggCases() {
		got, err := r.Aggregate(ctx, c.q, c.groups, c.metrics...)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if g, w := strings.Join(groupStrings(got), "\n"), strings.Join(c.want, "\n"); g != w {
			t.Errorf("%s:\ngot\n%s\nwant\n%s", c.name, g, w)
		}
		checkKinds(t, c.name, got, len(c.groups), len(c.metrics))
	}
	testAggregateInvalid(t, h)
}

func groupStrings(gs []query.Group) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.String()
	}
	return out
}

// checkKinds checks the shape of every group: one key per group key and one value per
// metric, each with a kind.
func checkKinds(t *testing.T, name string, gs []query.Group, keys, metrics int) {
	t.Helper()
	for _, g := range gs {
		if len(g.Keys) != keys || len(g.Metrics) != metrics {
			t.Errorf("%s: group %s has %d keys and %d metrics, want %d and %d", name, g, len(g.Keys), len(g.Metrics), keys, metrics)
		}
		for _, v := range append(append([]query.Value(nil), g.Keys...), g.Metrics...) {
			if v.Kind == query.KindInvalid {
				t.Errorf("%s: group %s has a value without a kind", name, g)
			}
		}
	}
}

// testAggregateInvalid: operations that do not apply to their field are ErrInvalidInput,
// with the same message on every backend, before the store is asked.
func testAggregateInvalid(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	F := things.ThingFields
	Q := things.ThingQuery
	cases := []struct {
		name    string
		q       query.Query[things.Thing]
		groups  []query.GroupKey[things.Thing]
		metrics []query.Metric[things.Thing]
		msg     string
	}{
		{"sum over a string", Q(), nil, []query.Metric[things.Thing]{query.NewIntField[things.Thing]("name").Sum()},
			"sum does not apply to string field name"},
		{"avg over a list", Q(), nil, []query.Metric[things.Thing]{query.NewIntField[things.Thing]("nums").Avg()},
			"avg does not apply to list<int> field nums"},
		{"min over a bool", Q(), nil, []query.Metric[things.Thing]{query.NewIntField[things.Thing]("flag").Min()},
			"min does not apply to bool field flag"},
		{"unknown field", Q(), nil, []query.Metric[things.Thing]{query.NewIntField[things.Thing]("nope").Sum()},
			`record Thing has no field "nope"`},
		{"group by a float", Q(), query.By(query.NewIntField[things.Thing]("score").GroupBy()), nil,
			"cannot group by float field score"},
		{"group by a text field", Q(), query.By(F.Body.GroupBy()), nil, "cannot group by text field body"},
		{"group by a time without bucket", Q(), query.By(query.NewIntField[things.Thing]("at").GroupBy()), nil,
			"cannot group by time field at: a time key needs a day or month bucket"},
		{"bad filter", Q().Where(F.Score.EQ(math.NaN())), query.By(F.Kind.GroupBy()), nil, "score"},
	}
	for _, c := range cases {
		_, err := r.Aggregate(ctx, c.q, c.groups, c.metrics...)
		wantErr(t, c.name, err, repo.ErrInvalidInput)
		if err != nil && (!strings.HasPrefix(err.Error(), "repokit: Thing.Aggregate: invalid input: ") || !strings.Contains(err.Error(), c.msg)) {
			t.Errorf("%s: error %q, want Thing.Aggregate and %q", c.name, err, c.msg)
		}
	}
}

// testAggregateMany: more groups than one Elasticsearch composite page (1000) and more
// distinct values than one page, all counted.
func testAggregateMany(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	const n, groups = 2345, 1500
	recs := make([]things.Thing, n)
	for i := range recs {
		recs[i] = things.Thing{ID: fmt.Sprintf("m%05d", i), Name: fmt.Sprintf("n%05d", i), Count: int64(i % groups),
			Rank: ptr(int64(i)), Created: t0}
	}
	seed(ctx, t, r, recs)
	F := things.ThingFields
	got, err := r.Aggregate(ctx, things.ThingQuery(), query.By(F.Count.GroupBy()), F.Name.CountDistinct(), F.Rank.Sum())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != groups {
		t.Fatalf("%d groups, want %d", len(got), groups)
	}
	for c, g := range got {
		want := fmt.Sprintf("{%d} count=1 [1 %d]", c, c)
		if c < n-groups {
			want = fmt.Sprintf("{%d} count=2 [2 %d]", c, 2*c+groups)
		}
		if g.String() != want {
			t.Fatalf("group %d = %s, want %s", c, g, want)
		}
	}
	all, err := r.Aggregate(ctx, things.ThingQuery(), nil, F.Name.CountDistinct(), F.Count.CountDistinct())
	if err != nil {
		t.Fatal(err)
	}
	if s := groupStrings(all); len(s) != 1 || s[0] != fmt.Sprintf("{} count=%d [%d %d]", n, n, groups) {
		t.Errorf("ungrouped = %q", s)
	}
}

// testAggregateLimits: int sums are exact up to 2^53 and ErrInvalidInput from 2^53 on
// (also past the int64 range), and a float sum that is not finite is ErrInvalidInput, on
// every backend.
func testAggregateLimits(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	const big = int64(1) << 52
	seed(ctx, t, r, []things.Thing{
		{ID: "a", Count: big, Rank: ptr(big), Score: ptr(1e308), Created: t0},
		{ID: "b", Count: big - 1, Rank: ptr(big), Score: ptr(1e308), Created: t0},
		{ID: "c", Count: -5, Rank: ptr(int64(math.MaxInt64)), Created: t0},
		{ID: "d", Count: 5, Rank: ptr(int64(math.MaxInt64)), Created: t0},
	})
	F := things.ThingFields
	got, err := r.Aggregate(ctx, things.ThingQuery(), nil, F.Count.Sum())
	if err != nil {
		t.Fatal(err)
	}
	if s := groupStrings(got); len(s) != 1 || s[0] != "{} count=4 [9007199254740991]" {
		t.Errorf("sum below 2^53 = %q", s)
	}
	_, err = r.Aggregate(ctx, things.ThingQuery().Where(F.ID.IN("a", "b")), nil, F.Rank.Sum())
	wantErr(t, "int sum of 2^53", err, repo.ErrInvalidInput)
	if err != nil && !strings.HasSuffix(err.Error(), "sum(rank) is beyond ±2^53") {
		t.Errorf("int sum of 2^53: %v", err)
	}
	_, err = r.Aggregate(ctx, things.ThingQuery(), query.By(F.Active.GroupBy()), F.Rank.Sum())
	wantErr(t, "int sum past int64", err, repo.ErrInvalidInput)
	if err != nil && !strings.HasSuffix(err.Error(), "sum(rank) is beyond ±2^53") {
		t.Errorf("int sum past int64: %v", err)
	}
	_, err = r.Aggregate(ctx, things.ThingQuery(), nil, F.Score.Sum())
	wantErr(t, "float sum past MaxFloat64", err, repo.ErrInvalidInput)
}

// testAggregateKeywords: fields named after SQL reserved words as keys and metrics (quoted
// identifiers on PostgreSQL, plain paths on Elasticsearch).
func testAggregateKeywords(t *testing.T, h Harness) {
	ctx, r := makeKeywords(t, h)
	x, y := things.KeywordGroupX, things.KeywordGroupY
	seed(ctx, t, r, []things.Keyword{
		{ID: "1", Type: "a", Order: ptr[int64](3), Select: ptr(true), Group: &x},
		{ID: "2", Type: "b", Order: ptr[int64](4), Select: ptr(false), Group: &x},
		{ID: "3", Type: "a", Select: ptr(true), Group: &y},
		{ID: "4", Type: "c", Order: ptr[int64](-1)},
	})
	F := things.KeywordFields
	got, err := r.Aggregate(ctx, things.KeywordQuery().Where(F.Type.NEQ("zz")), query.By(F.Group.GroupBy(), F.Select.GroupBy()),
		F.Order.Sum(), F.Order.Max(), F.Type.CountDistinct())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"x" false} count=1 [4 4 1]`, `{"x" true} count=1 [3 3 1]`, `{"y" true} count=1 [null null 1]`, `{null null} count=1 [-1 -1 1]`}
	if g, w := strings.Join(groupStrings(got), "\n"), strings.Join(want, "\n"); g != w {
		t.Errorf("got\n%s\nwant\n%s", g, w)
	}
}
