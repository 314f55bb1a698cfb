package query_test

import (
	"slices"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/query"
)

type aggRec struct{}

func TestAggSpecOfHandles(t *testing.T) {
	price := query.NewFloatField[aggRec]("price")
	cat := query.NewEnumField[aggRec, string]("category")
	at := query.NewTimeField[aggRec]("at")
	tags := query.NewStringListField[aggRec]("tags")
	q := query.New[aggRec]().Where(price.GT(1))
	s := query.NewAggSpec(q, query.By(cat.GroupBy(), at.ByMonth(), tags.GroupBy()), []query.Metric[aggRec]{price.Sum(), price.Avg(), cat.CountDistinct()})
	want := "WHERE price GT 1 GROUP BY category, at/month, tags SELECT count(*), sum(price), avg(price), count_distinct(category)"
	if got := s.String(); got != want {
		t.Errorf("spec = %s\nwant %s", got, want)
	}
}

func TestCompareValuesNullsLast(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	vs := []query.Value{
		{Kind: query.KindTime, Null: true},
		{Kind: query.KindTime, Time: t0.Add(time.Microsecond)},
		{Kind: query.KindTime, Time: t0},
	}
	slices.SortFunc(vs, query.CompareValues)
	if !vs[0].Time.Equal(t0) || vs[1].Time.Equal(t0) || !vs[2].Null {
		t.Errorf("sorted = %v", vs)
	}
	strs := []query.Value{{Kind: query.KindString, Null: true}, {Kind: query.KindString, Str: "b"}, {Kind: query.KindString, Str: "B"}}
	slices.SortFunc(strs, query.CompareValues)
	if got := []string{strs[0].String(), strs[1].String(), strs[2].String()}; !slices.Equal(got, []string{`"B"`, `"b"`, "null"}) {
		t.Errorf("sorted = %v", got)
	}
	if query.CompareValues(query.Value{Kind: query.KindBool}, query.Value{Kind: query.KindBool, Bool: true}) >= 0 {
		t.Error("false should sort before true")
	}
}

func TestValueAny(t *testing.T) {
	for _, c := range []struct {
		v    query.Value
		want any
	}{
		{query.Value{Kind: query.KindEnum, Str: "a"}, "a"},
		{query.Value{Kind: query.KindInt, Int: -3}, int64(-3)},
		{query.Value{Kind: query.KindFloat, Float: 1.5}, 1.5},
		{query.Value{Kind: query.KindBool, Bool: true}, true},
		{query.Value{Kind: query.KindInt, Null: true}, nil},
	} {
		if got := c.v.Any(); got != c.want {
			t.Errorf("%v.Any() = %#v, want %#v", c.v, got, c.want)
		}
	}
	g := query.Group{Keys: []query.Value{{Kind: query.KindString, Str: "x"}, {Kind: query.KindBool, Null: true}}, Count: 2,
		Metrics: []query.Value{{Kind: query.KindFloat, Float: 0.5}}}
	if got := g.String(); got != `{"x" null} count=2 [0.5]` {
		t.Errorf("Group.String = %s", got)
	}
}
