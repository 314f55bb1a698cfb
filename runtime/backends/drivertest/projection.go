package drivertest

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
)

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
