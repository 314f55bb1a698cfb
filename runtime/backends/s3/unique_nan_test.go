package s3_test

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/repokit/repokit/internal/recordtest"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/repo"
)

// reading is a record with one unique float, whose Prepare (unlike a generated one) lets
// NaN through, as a hand-written descriptor may.
type reading struct {
	ID            string   `json:"id"`
	Value         *float64 `json:"value,omitempty" record:",unique"`
	RecordVersion string   `json:"-"`
}

var readingSchema = recordtest.MustNew[reading]("Reading", recordtest.Prefix("readings"), recordtest.NoPrepare())

// TestUniqueNaN: unique float values are reserved under the canonical value every backend
// uses (record.Field.UniqueValue): -0 is 0 and every NaN is one value, as in PostgreSQL.
// NaN never reaches a backend through a repository (Prepare refuses it); given to the driver
// directly it cannot be stored (JSON has no NaN): each attempt is refused with
// ErrInvalidInput — the reservation a refused write leaves is held by no record, so it does
// not make the next NaN taken.
func TestUniqueNaN(t *testing.T) {
	ctx, m, cfg := sharedPrefix(t)
	d, err := s3.New(ctx, m, cfg, readingSchema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	key := func(v float64) string { return d.ReservationKey("value", &reading{Value: &v}) }
	nan2 := math.Float64frombits(0x7ff8000000000002)
	if k := key(math.NaN()); k == "" || k != key(nan2) || k == key(0) {
		t.Errorf("NaN payloads reserve %q and %q (0: %q), want one key of their own", k, key(nan2), key(0))
	}
	if key(0) != key(math.Copysign(0, -1)) {
		t.Errorf("-0 and 0 reserve different keys")
	}
	for _, rec := range []reading{{ID: "nan-1", Value: new(math.NaN())}, {ID: "nan-2", Value: &nan2}} {
		res := make([]repo.Result, 1)
		if err := d.Insert(ctx, []reading{rec}, res); err != nil {
			t.Fatalf("%s: Insert: %v", rec.ID, err)
		}
		wantKind(t, rec.ID, res[0].Err, repo.ErrInvalidInput)
		var je *json.UnsupportedValueError
		if !errors.As(res[0].Err, &je) {
			t.Errorf("%s: %v, want the JSON encoder's refusal", rec.ID, res[0].Err)
		}
	}
}
