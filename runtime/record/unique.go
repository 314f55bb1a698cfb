package record

import (
	"strconv"

	"github.com/repokit/repokit/runtime/query"
)

// UniqueSupported reports whether f can be declared unique: a single value of a string,
// uuid, enum, text, int, float, bool or time kind (not a list, bytes or json; the schema
// refuses unique on those).
func (f *Field[T]) UniqueSupported() bool {
	return !f.List && f.Kind != query.KindBytes && f.Kind != query.KindJSON
}

// UniqueValue returns the canonical text of f's value in r for unique fields, and whether
// the value is present (a missing value never conflicts). Two values of f conflict exactly
// when their texts are equal, which is the equality of a PostgreSQL unique index on the
// stored values; the memory, S3 and Elasticsearch backends compare these texts:
//
//   - strings (string, uuid, enum, text): byte for byte, the text itself;
//   - ints: decimal;
//   - floats: as numbers, -0 equal to 0, and every NaN equal to every other NaN (as
//     PostgreSQL compares float8). NaN and ±Inf never reach a backend through a repository:
//     Prepare rejects them (ErrInvalidInput); the rule only decides for a driver given one
//     directly;
//   - bools: "true" or "false";
//   - times: whole microseconds since the Unix epoch (the stored precision, rounded toward
//     the past), so one instant in any zone is one value.
//
// A field on which unique is not supported (see UniqueSupported) has no value: false.
func (f *Field[T]) UniqueValue(r *T) (string, bool) {
	if !f.UniqueSupported() {
		return "", false
	}
	switch {
	case f.Str != nil:
		if v, ok := f.Str(r); ok {
			return v, true
		}
	case f.Int != nil:
		if v, ok := f.Int(r); ok {
			return strconv.FormatInt(v, 10), true
		}
	case f.Float != nil:
		if v, ok := f.Float(r); ok {
			if v == 0 {
				v = 0 // -0
			}
			return strconv.FormatFloat(v, 'g', -1, 64), true // every NaN formats as "NaN"
		}
	case f.Bool != nil:
		if v, ok := f.Bool(r); ok {
			return strconv.FormatBool(v), true
		}
	case f.Time != nil:
		if v, ok := f.Time(r); ok {
			return strconv.FormatInt(v.UnixMicro(), 10), true
		}
	}
	return "", false
}
