package memory_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/recordtest"
	"github.com/repokit/repokit/runtime/backends/memory"
	"github.com/repokit/repokit/runtime/repo"
)

// scored is a record with a unique optional float and a unique time, described as the
// generator would, except that Prepare lets NaN through (as a hand-written descriptor may).
type scored struct {
	ID            string
	Score         *float64   `record:",unique"`
	At            *time.Time `record:",unique"`
	RecordVersion string
}

var scoredSchema = recordtest.MustNew[scored]("Scored", recordtest.NoPrepare())

// Unique values compare as record.Field.UniqueValue says, as a PostgreSQL unique index does:
// -0 is 0, NaN is NaN (and its value is free again once its record is gone), an instant
// is one value in any zone.
func TestUniqueValues(t *testing.T) {
	ctx := context.Background()
	r := repo.New(scoredSchema, memory.New(scoredSchema))
	negZero, nan := math.Copysign(0, -1), math.NaN()
	at := time.Date(2025, 6, 7, 8, 9, 10, 123456000, time.UTC)
	berlin := at.In(time.FixedZone("CEST", 2*3600))
	for _, tc := range []struct {
		rec  scored
		want error
	}{
		{scored{ID: "zero", Score: new(0.0)}, nil},
		{scored{ID: "negative zero", Score: &negZero}, repo.ErrAlreadyExists},
		{scored{ID: "nan", Score: &nan}, nil},
		{scored{ID: "another nan", Score: new(math.Float64frombits(0x7ff8000000000002))}, repo.ErrAlreadyExists},
		{scored{ID: "at", At: &at}, nil},
		{scored{ID: "at in Berlin", At: &berlin}, repo.ErrAlreadyExists},
		{scored{ID: "missing 1"}, nil},
		{scored{ID: "missing 2"}, nil},
	} {
		_, err := r.Create(ctx, tc.rec)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.rec.ID, err, tc.want)
		}
	}
	if err := r.Delete(ctx, "nan"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Create(ctx, scored{ID: "nan again", Score: &nan}); err != nil {
		t.Errorf("NaN after its record was deleted: %v", err)
	}
}
