package drivertest

import (
	"math"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/repo"
)

func testCreateBatch(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	pre := fullThing("p1")
	pre.Name = "pre-existing"
	seed(ctx, t, r, []things.Thing{pre})

	b1 := fullThing("b1")
	b1.Name = "first b1"
	b1dup := fullThing("b1")
	b1dup.Name = "second b1"
	nan := fullThing("bad")
	nan.Ratio = math.NaN()
	batch := []things.Thing{b1, fullThing("p1"), fullThing("b2"), b1dup, nan, {Name: "no id", Created: t0}, fullThing("b3")}
	res, err := r.CreateBatch(ctx, batch)
	if err != nil {
		t.Fatalf("CreateBatch: %v", err)
	}
	if len(res) != len(batch) {
		t.Fatalf("CreateBatch returned %d results for %d records", len(res), len(batch))
	}
	wantIDs := []string{"b1", "p1", "b2", "b1", "bad", "", "b3"}
	wantKinds := []error{nil, repo.ErrAlreadyExists, nil, repo.ErrAlreadyExists, repo.ErrInvalidInput, repo.ErrInvalidInput, nil}
	for i, x := range res {
		if x.ID != wantIDs[i] {
			t.Errorf("result %d: id %q, want %q", i, x.ID, wantIDs[i])
		}
		if wantKinds[i] == nil {
			if x.Err != nil || x.Version == "" {
				t.Errorf("result %d (%s): err %v, version %q; want success with a version", i, x.ID, x.Err, x.Version)
			}
			continue
		}
		wantErr(t, "batch item "+x.ID, x.Err, wantKinds[i])
		if x.Version != "" {
			t.Errorf("result %d (%s) failed but has version %q", i, x.ID, x.Version)
		}
	}
	ids := findIDs(ctx, t, r, things.ThingQuery())
	if want := []string{"b1", "b2", "b3", "p1"}; !equalStrings(ids, want) {
		t.Errorf("stored ids %v, want %v", ids, want)
	}
	if got, _ := r.Get(ctx, "b1"); got.Name != "first b1" {
		t.Errorf("b1 is %q: the duplicate later in the batch must not replace the first", got.Name)
	}
	if got, _ := r.Get(ctx, "p1"); got.Name != "pre-existing" {
		t.Errorf("p1 is %q: a duplicate in a batch must not replace the stored record", got.Name)
	}
	if got, _ := r.Get(ctx, "b2"); got.RecordVersion != res[2].Version {
		t.Errorf("b2 version %q, batch result %q", got.RecordVersion, res[2].Version)
	}

	empty, err := r.CreateBatch(ctx, nil)
	if err != nil || len(empty) != 0 {
		t.Errorf("CreateBatch(nil) = %v, %v", empty, err)
	}

	big := make([]things.Thing, 300)
	for i := range big {
		big[i] = minimalThing("big-" + itoa(i))
	}
	seed(ctx, t, r, big)
	if n := count(ctx, t, r, things.ThingQuery().Where(things.ThingFields.ID.StartsWith("big-"))); n != 300 {
		t.Errorf("Count after a batch of 300 = %d", n)
	}

	// A batch of only failures stores nothing and is not an error as a whole.
	res, err = r.CreateBatch(ctx, []things.Thing{fullThing("b1"), nan})
	if err != nil || len(res) != 2 || res[0].Err == nil || res[1].Err == nil {
		t.Errorf("all-failing batch: %v, %+v", err, res)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func itoa(i int) string {
	const digits = "0123456789"
	if i == 0 {
		return "000"
	}
	var b [3]byte
	for j := 2; j >= 0; j-- {
		b[j] = digits[i%10]
		i /= 10
	}
	return string(b[:])
}
