package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

func TestLimits(t *testing.T) {
	drivertest.RunLimitTests(t, drivertest.On(newHarness(t)))
}

// TestIndexRowTooLarge: a value too long for a btree or GIN index entry (SQLSTATE 54000) is
// ErrInvalidInput for its own record only, on every write path of the driver (COPY batch,
// multi-row INSERT batch, single INSERT, UPDATE, upsert), also when the portable limits are
// bypassed (the driver called directly): the other records of the batch are stored.
func TestIndexRowTooLarge(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	desc := drivertest.LimitedSchema
	d, err := postgres.New(ctx, h.m, h.cfg, desc, postgres.WithTable(tableName(t, h.m, h.cfg, "limited")))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	huge := func(seed int) string { // random letters: no compression brings them under the index limit
		rng := rand.New(rand.NewPCG(uint64(seed), 1))
		b := make([]byte, 3000)
		for i := range b {
			b[i] = byte('a' + rng.IntN(26))
		}
		return string(b)
	}
	for _, n := range []int{20, 3} {
		recs := make([]drivertest.Limited, n)
		for i := range recs {
			recs[i] = drivertest.Limited{ID: fmt.Sprintf("b%d-%02d", n, i), Idx: ptr(fmt.Sprint("v", i))}
		}
		bad := map[int]bool{1: true, n - 1: true}
		recs[1].Idx = ptr(huge(n))
		recs[n-1].ID = huge(n + 1) // the primary key's index
		res := make([]repo.Result, n)
		if err := d.Insert(ctx, recs, res); err != nil {
			t.Fatalf("Insert of %d records with 2 too large for an index: the whole batch failed: %v", n, err)
		}
		for i, x := range res {
			switch {
			case bad[i] && !errors.Is(x.Err, repo.ErrInvalidInput):
				t.Errorf("batch of %d, item %d: %v, want ErrInvalidInput", n, i, x.Err)
			case !bad[i] && x.Err != nil:
				t.Errorf("batch of %d, item %d: %v", n, i, x.Err)
			}
		}
	}
	var one repo.Result
	if err := d.InsertOne(ctx, &drivertest.Limited{ID: "one", Tags: []string{huge(7)}}, &one); err != nil || !errors.Is(one.Err, repo.ErrInvalidInput) {
		t.Errorf("InsertOne with a list element too large for the GIN index: %v, %v; want ErrInvalidInput", err, one.Err)
	}
	if err := d.Update(ctx, &drivertest.Limited{ID: "b3-00", Uniq: ptr(huge(8))}, ""); !errors.Is(err, repo.ErrInvalidInput) {
		t.Errorf("Update with a value too large for the unique index: %v, want ErrInvalidInput", err)
	}
	if err := d.Upsert(ctx, &drivertest.Limited{ID: "up", Idx: ptr(huge(9))}); !errors.Is(err, repo.ErrInvalidInput) {
		t.Errorf("Upsert with a value too large for the index: %v, want ErrInvalidInput", err)
	}
	n, err := d.Count(ctx, query.All())
	if err != nil || n != 18+1 {
		t.Errorf("Count = %d, %v; want 19 (18 of the batch of 20, 1 of the batch of 3)", n, err)
	}
}

// TestLegacyLongStrings: records stored before the string limit, with longer strings (written
// here by the driver, below the portable checks), stay readable
// (drivertest.CheckLegacyLongStrings).
func TestLegacyLongStrings(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := postgres.New(ctx, h.m, h.cfg, things.ThingSchema, postgres.WithTable(tableName(t, h.m, h.cfg, "thing")))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	drivertest.CheckLegacyLongStrings(t, d)
}

// diffBudget is the number of random queries TestDifferential runs in CI (a few seconds);
// -queries runs more, -seed another seed (docs/semantics.md, "The differential test").
const diffBudget = 300

// TestDifferential: random records and queries answer the same here as on the memory
// backend (drivertest.RunDifferentialTests).
func TestDifferential(t *testing.T) {
	drivertest.RunDifferentialTests(t, drivertest.On(newHarness(t)), diffBudget)
}
