package postgres_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// TestUUIDList covers a list<uuid> field (a uuid[] column): it is stored and read back in
// order and in canonical form (one record at a time and with COPY), projected, updated,
// filtered with Contains / ContainsAny / NotContains / Exists (an operand that is not a
// canonical UUID matches no element), and a non-canonical UUID in a list is rejected.
func TestUUIDList(t *testing.T) {
	h := newHarness(t)
	ctx, r, _ := itemRepo(t, h)
	u := func(i int) string { return fmt.Sprintf("0190a0b0-0000-7000-8000-%012d", i) }
	recs := []item{
		{ID: "a", Kind: "a", Refs: []string{u(1), u(2)}},
		{ID: "b", Kind: "a", Refs: []string{u(2)}},
		{ID: "c", Kind: "a", Refs: []string{u(3), u(1), u(2), u(1)}}, // order and repeats kept
		{ID: "d", Kind: "a"},
		{ID: "e", Kind: "a", Refs: []string{}},
	}
	for _, rec := range recs {
		if _, err := r.Create(ctx, rec); err != nil {
			t.Fatalf("Create %s: %v", rec.ID, err)
		}
	}
	batch := make([]item, 20) // COPY
	for i := range batch {
		batch[i] = item{ID: fmt.Sprintf("z%02d", i), Kind: "b", Refs: []string{u(100 + i), u(1)}}
	}
	if res, err := r.CreateBatch(ctx, batch); err != nil {
		t.Fatal(err)
	} else {
		for i, x := range res {
			if x.Err != nil {
				t.Fatalf("batch item %d: %v", i, x.Err)
			}
		}
	}
	for _, want := range append(slices.Clone(recs), batch...) {
		got, err := r.Get(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(want.Refs) == 0 {
			want.Refs = nil // an empty list is missing
		}
		if !slices.Equal(got.Refs, want.Refs) {
			t.Errorf("Get(%s).Refs = %q, want %q", want.ID, got.Refs, want.Refs)
		}
	}
	noBatch := itemFields.ID.IN("a", "b", "c", "d", "e")
	upper := strings.ToUpper(u(2))
	for _, c := range []struct {
		what string
		cond query.Cond[item]
		want []string
	}{
		{"Contains u1", itemFields.Refs.Contains(u(1)), []string{"a", "c"}},
		{"Contains u3", itemFields.Refs.Contains(u(3)), []string{"c"}},
		{"Contains upper-case u2", itemFields.Refs.Contains(upper), nil},
		{"Contains braces u2", itemFields.Refs.Contains("{" + u(2) + "}"), nil},
		{"Contains junk", itemFields.Refs.Contains("junk"), nil},
		{"ContainsAny u3 junk upper-u2", itemFields.Refs.ContainsAny(u(3), "junk", upper), []string{"c"}},
		{"ContainsAny u2 u9", itemFields.Refs.ContainsAny(u(2), u(9)), []string{"a", "b", "c"}},
		{"ContainsAny junk", itemFields.Refs.ContainsAny("junk"), nil},
		{"ContainsAny none", itemFields.Refs.ContainsAny(), nil},
		{"NotContains u1", itemFields.Refs.NotContains(u(1)), []string{"b", "d", "e"}},
		{"NotContains junk", itemFields.Refs.NotContains("junk"), []string{"a", "b", "c", "d", "e"}},
		{"ContainsNone u1 u3", itemFields.Refs.ContainsNone(u(1), u(3)), []string{"b", "d", "e"}},
		{"Exists", itemFields.Refs.Exists(), []string{"a", "b", "c"}},
		{"NotExists", itemFields.Refs.NotExists(), []string{"d", "e"}},
	} {
		got, err := r.Find(ctx, itemQuery().Where(query.And(noBatch, c.cond)))
		if err != nil {
			t.Errorf("%s: %v", c.what, err)
			continue
		}
		if ids := itemIDs(got); !slices.Equal(ids, c.want) && (len(ids) != 0 || len(c.want) != 0) {
			t.Errorf("%s: %q, want %q", c.what, ids, c.want)
		}
	}
	if n, err := r.Count(ctx, itemQuery().Where(itemFields.Refs.Contains(u(1)))); err != nil || n != 22 {
		t.Errorf("Count Contains u1 = %d, %v; want 22", n, err)
	}
	// Projection.
	got, err := r.Find(ctx, itemQuery().Where(itemFields.ID.EQ("c")).Select(itemFields.Refs))
	if err != nil || len(got) != 1 || !slices.Equal(got[0].Refs, recs[2].Refs) {
		t.Errorf("Select refs = %+v, %v", got, err)
	}
	// Update and Upsert replace the list.
	if _, err := r.Update(ctx, item{ID: "a", Kind: "a", Refs: []string{u(7)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Upsert(ctx, item{ID: "f", Kind: "a", Refs: []string{u(7), u(8)}}); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Find(ctx, itemQuery().Where(itemFields.Refs.Contains(u(7)))); err != nil || !slices.Equal(itemIDs(got), []string{"a", "f"}) {
		t.Errorf("after Update/Upsert, Contains u7 = %q, %v", itemIDs(got), err)
	}
	// Non-canonical UUIDs in a list are rejected, one record at a time and in a batch.
	for _, bad := range []string{upper, "{" + u(1) + "}", strings.ReplaceAll(u(1), "-", ""), "urn:uuid:" + u(1), "junk", ""} {
		_, err := r.Create(ctx, item{ID: "bad", Kind: "a", Refs: []string{u(1), bad}})
		if !errors.Is(err, repo.ErrInvalidInput) || !strings.Contains(err.Error(), "refs") {
			t.Errorf("Create with %q in refs: %v, want ErrInvalidInput naming refs", bad, err)
		}
	}
	bb := make([]item, 20)
	for i := range bb {
		bb[i] = item{ID: fmt.Sprintf("y%02d", i), Kind: "a", Refs: []string{u(i)}}
	}
	bb[4].Refs = []string{upper}
	res, err := r.CreateBatch(ctx, bb)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range res {
		if (i == 4) != errors.Is(x.Err, repo.ErrInvalidInput) || (i != 4 && x.Err != nil) {
			t.Errorf("batch with a non-canonical uuid in item 4: item %d: %v", i, x.Err)
		}
	}
	if ok, err := r.Exists(ctx, "bad"); err != nil || ok {
		t.Errorf("a record with a non-canonical uuid was stored: %v, %v", ok, err)
	}
}
