package repo_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/memory"
	"github.com/repokit/repokit/runtime/repo"
)

// insertSpy is the memory driver recording the ids of every Insert call it receives.
type insertSpy struct {
	*memory.Driver[things.Thing]
	calls [][]string
}

func (s *insertSpy) Insert(ctx context.Context, recs []things.Thing, res []repo.Result) error {
	ids := make([]string, len(recs))
	for i := range recs {
		ids[i] = recs[i].ID
	}
	s.calls = append(s.calls, ids)
	return s.Driver.Insert(ctx, recs, res)
}

// CreateBatch gives a record whose id an earlier valid record of the batch has
// ErrAlreadyExists itself and sends the driver distinct ids only, below and above the size
// at which it switches from comparing ids to a map. An invalid record claims no id.
func TestCreateBatchRepeatedIDs(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{3, 15, 16, 17, 40} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			spy := &insertSpy{Driver: memory.New(things.ThingSchema)}
			r := repo.New(things.ThingSchema, spy)
			if _, err := r.Create(ctx, things.Thing{ID: "stored", Name: "stored", Created: t0()}); err != nil {
				t.Fatal(err)
			}
			var batch []things.Thing
			want := map[int]error{}
			add := func(id, name string, kind error) {
				if kind != nil {
					want[len(batch)] = kind
				}
				batch = append(batch, things.Thing{ID: id, Name: name, Created: t0()})
			}
			bad := things.Thing{ID: "x", Name: "invalid, claims no id", Created: t0(), Ratio: math.NaN()}
			want[0] = repo.ErrInvalidInput
			batch = append(batch, bad)
			for i := range n {
				add(fmt.Sprintf("r%02d", i), "first", nil)
			}
			add("x", "valid after an invalid record with its id", nil)
			add("r00", "repeats the first", repo.ErrAlreadyExists)
			add(fmt.Sprintf("r%02d", n-1), "repeats the last", repo.ErrAlreadyExists)
			add("x", "repeats x", repo.ErrAlreadyExists)
			add("stored", "taken by a stored record", repo.ErrAlreadyExists)

			res, err := r.CreateBatch(ctx, batch)
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range res {
				if x.ID != batch[i].ID {
					t.Errorf("result %d: id %q, want %q", i, x.ID, batch[i].ID)
				}
				if w := want[i]; w == nil {
					if x.Err != nil || x.Version == "" {
						t.Errorf("result %d (%s): %v, version %q; want success", i, x.ID, x.Err, x.Version)
					}
				} else if !errors.Is(x.Err, w) || x.Version != "" {
					t.Errorf("result %d (%s): %v, version %q; want %v", i, x.ID, x.Err, x.Version, w)
				}
			}
			var e *repo.Error
			if x := res[len(res)-2]; !errors.As(x.Err, &e) || e.Record != "Thing" || e.Op != "CreateBatch" || e.ID != "x" ||
				e.Error() != `repokit: Thing.CreateBatch id="x": already exists: the id is taken by an earlier record of the same batch` {
				t.Errorf("error of a repeated id: %v", x.Err)
			}
			if len(spy.calls) != 2 {
				t.Fatalf("%d Insert calls, want 2", len(spy.calls))
			}
			seen := map[string]bool{}
			for _, id := range spy.calls[1] {
				if seen[id] {
					t.Errorf("the driver received id %q twice: %v", id, spy.calls[1])
				}
				seen[id] = true
			}
			if got, want := len(spy.calls[1]), n+2; got != want {
				t.Errorf("the driver received %d records, want %d", got, want)
			}
			if got, err := r.Get(ctx, "r00"); err != nil || got.Name != "first" {
				t.Errorf("r00 is %+v, %v: the first record of an id must win", got, err)
			}
		})
	}
}
