package drivertest

import (
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
)

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
