package drivertest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
)

func testGeneratedIDs(t *testing.T, h Harness) {
	ctx, o := makeOthers(t, h)
	a, err := o.Create(ctx, things.Other{Label: "a"})
	if err != nil {
		t.Fatalf("Create without id: %v", err)
	}
	if err := uuidOK(a.ID); err != nil {
		t.Errorf("generated id: %v", err)
	}
	if a.RecordVersion == "" {
		t.Errorf("no version")
	}
	if got, err := o.Get(ctx, a.ID); err != nil || got.Label != "a" {
		t.Errorf("Get(generated id) = %+v, %v", got, err)
	}

	batch := make([]things.Other, 50)
	for i := range batch {
		batch[i] = things.Other{Label: "batch " + itoa(i)}
	}
	res, err := o.CreateBatch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{a.ID: true}
	for i, x := range res {
		if x.Err != nil {
			t.Fatalf("item %d: %v", i, x.Err)
		}
		if err := uuidOK(x.ID); err != nil {
			t.Errorf("item %d: %v", i, err)
		}
		if seen[x.ID] {
			t.Errorf("id %s generated twice", x.ID)
		}
		seen[x.ID] = true
		if got, err := o.Get(ctx, x.ID); err != nil || got.Label != "batch "+itoa(i) {
			t.Errorf("item %d: Get = %+v, %v", i, got, err)
		}
	}
	if batch[0].ID != "" {
		t.Errorf("CreateBatch wrote the generated id into the caller's slice")
	}

	given := "0190a6c4-1b2c-7d3e-8f40-123456789abc"
	b, err := o.Create(ctx, things.Other{ID: given, Label: "given"})
	if err != nil || b.ID != given {
		t.Errorf("Create with a given id = %q, %v", b.ID, err)
	}
	if n := count(ctx, t, o, things.OtherQuery()); n != 52 {
		t.Errorf("Count = %d, want 52", n)
	}
}

func testDefaults(t *testing.T, h Harness) {
	ctx, o := makeOthers(t, h)
	a, err := o.Create(ctx, things.Other{Label: "defaulted"})
	if err != nil {
		t.Fatal(err)
	}
	if a.State == nil || *a.State != things.OtherStateNew {
		t.Errorf("Create returned state %v, want the default %q", a.State, things.OtherStateNew)
	}
	b, err := o.Create(ctx, things.Other{Label: "explicit", State: ptr(things.OtherStateDone)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := o.Get(ctx, a.ID)
	if err != nil || got.State == nil || *got.State != things.OtherStateNew {
		t.Errorf("stored state %v, %v; want the default", got.State, err)
	}
	got, err = o.Get(ctx, b.ID)
	if err != nil || got.State == nil || *got.State != things.OtherStateDone {
		t.Errorf("explicit state %v, %v", got.State, err)
	}
	n := count(ctx, t, o, things.OtherQuery().Where(things.OtherFields.State.EQ(things.OtherStateNew)))
	if n != 1 {
		t.Errorf("Count(state = new) = %d, want 1", n)
	}
	if n := count(ctx, t, o, things.OtherQuery().Where(things.OtherFields.State.NotExists())); n != 0 {
		t.Errorf("Count(state missing) = %d, want 0: defaults are stored", n)
	}
	// Update applies defaults too.
	got.State = nil
	up, err := o.Update(ctx, got)
	if err != nil || up.State == nil || *up.State != things.OtherStateNew {
		t.Errorf("Update without state = %v, %v; want the default", up.State, err)
	}
}

func testKeywords(t *testing.T, h Harness) {
	ctx, r := makeKeywords(t, h)
	F := things.KeywordFields
	recs := []things.Keyword{
		{ID: "k1", Type: "select", Order: ptr[int64](2), Select: ptr(true), Group: ptr(things.KeywordGroupX)},
		{ID: "k2", Type: "from", Order: ptr[int64](1), Group: ptr(things.KeywordGroupY)},
		{ID: "k3", Type: "where", Select: ptr(false)},
	}
	seed(ctx, t, r, recs)
	got, err := r.Get(ctx, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(recs[0], got, cmpopts.IgnoreFields(things.Keyword{}, "RecordVersion")); d != "" {
		t.Errorf("Get (-want +got):\n%s", d)
	}
	ids := func(q query.Query[things.Keyword]) []string {
		t.Helper()
		var out []string
		for _, k := range find(ctx, t, r, q) {
			out = append(out, k.ID)
		}
		return out
	}
	Q := things.KeywordQuery
	checks := []struct {
		q    query.Query[things.Keyword]
		want []string
	}{
		{Q().Where(F.Type.EQ("select")), []string{"k1"}},
		{Q().Where(F.Type.Like("%e%")), []string{"k1", "k3"}},
		{Q().Where(F.Order.GT(1)), []string{"k1"}},
		{Q().Where(F.Order.NotExists()), []string{"k3"}},
		{Q().Where(F.Select.EQ(true)), []string{"k1"}},
		{Q().Where(F.Select.NEQ(true)), []string{"k2", "k3"}},
		{Q().Where(F.Group.IN(things.KeywordGroupX)), []string{"k1"}},
		{Q().Where(F.Group.NotIn(things.KeywordGroupX)), []string{"k2", "k3"}},
		{Q().OrderBy(F.Order.Asc()), []string{"k2", "k1", "k3"}},
		{Q().OrderBy(F.Order.Desc()), []string{"k1", "k2", "k3"}},
		{Q().OrderBy(F.Select.Asc(), F.Type.Desc()), []string{"k3", "k1", "k2"}},
		{Q().OrderBy(F.Group.Desc()), []string{"k2", "k1", "k3"}},
		{Q().OrderBy(F.Type.Asc()).Limit(2), []string{"k2", "k1"}},
	}
	for _, c := range checks {
		if got := ids(c.q); !equalStrings(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.q, got, c.want)
		}
	}
	p, err := r.Page(ctx, Q().OrderBy(F.Order.Desc()).Limit(2), "")
	if err != nil {
		t.Fatal(err)
	}
	p2, err := r.Page(ctx, Q().OrderBy(F.Order.Desc()).Limit(2), p.Next)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 2 || len(p2.Items) != 1 || p2.Items[0].ID != "k3" || p2.Next != "" {
		t.Errorf("pages %+v then %+v", p, p2)
	}
	sel := find(ctx, t, r, Q().Where(F.ID.EQ("k1")).Select(F.Type, F.Group))
	if len(sel) != 1 || sel[0].Type != "select" || sel[0].Group == nil || sel[0].Order != nil || sel[0].Select != nil {
		t.Errorf("projection of type and group: %+v", sel)
	}
	k := recs[1]
	k.Type = "group"
	if _, err := r.Update(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, "k3"); err != nil {
		t.Fatal(err)
	}
	if got := ids(Q()); !equalStrings(got, []string{"k1", "k2"}) {
		t.Errorf("after delete: %v", got)
	}
}
