package elasticsearch_test

import (
	"errors"
	"math"
	"testing"

	"github.com/repokit/repokit/runtime/repo"
)

// TestUniqueNaN: NaN never reaches a backend through a repository (Prepare refuses it). Given
// to the driver directly, a NaN in a unique float field is reserved under the canonical
// value every backend uses (record.Field.UniqueValue: one value for every NaN, as in
// PostgreSQL), but it cannot be stored (JSON has no NaN): the write is refused with
// ErrInvalidInput and its reservation released, so the next NaN is refused for the same
// reason, not as taken.
func TestUniqueNaN(t *testing.T) {
	e := mustOpenUnique(t, ukeySchema)
	nan2 := math.Float64frombits(0x7ff8000000000002)
	for _, rec := range []ukey{{ID: "nan-1", Score: ptr(math.NaN())}, {ID: "nan-2", Score: &nan2}} {
		res := make([]repo.Result, 1)
		err := e.d.Insert(e.ctx, []ukey{rec}, res)
		if err != nil {
			t.Fatalf("%s: Insert: %v", rec.ID, err)
		}
		wantErr(t, rec.ID, res[0].Err, repo.ErrInvalidInput)
		if owner, found := e.reservation(t, "score", "NaN"); found {
			t.Errorf("%s: the reservation of NaN is kept (owner %q)", rec.ID, owner)
		}
	}
	if _, err := e.r.Get(e.ctx, "nan-1"); !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("Get of the refused record: %v, want ErrNotFound", err)
	}
}
