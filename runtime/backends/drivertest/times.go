package drivertest

import (
	"slices"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
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
