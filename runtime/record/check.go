package record

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/repokit/repokit/runtime/query"
)

// The functions below are what generated Prepare functions call; each returns an error
// that describes the value without repeating it in full.

// CheckString reports invalid UTF-8 and NUL characters.
func CheckString(s string) error { return query.CheckString(s) }

// CheckFloat reports NaN and infinities.
func CheckFloat(v float64) error { return query.CheckFloat(v) }

// CheckUUID reports a string that is not a UUID in canonical form
// (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, lower case).
func CheckUUID(s string) error {
	if !canonicalUUID(s) {
		return fmt.Errorf("%q is not a canonical lower-case UUID", clip(s))
	}
	return nil
}

// canonicalUUID reports whether s is 32 lower-case hex digits grouped 8-4-4-4-12 by
// hyphens: exactly the strings that uuid.Parse accepts and String formats back unchanged,
// checked without allocating.
func canonicalUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}

// CheckEnum reports a value that is not one of the allowed values.
func CheckEnum(v string, allowed []string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return fmt.Errorf("%q is not one of %s", clip(v), strings.Join(allowed, ", "))
}

// NormalizeTime converts t to UTC at microsecond precision.
func NormalizeTime(t time.Time) time.Time { return query.NormalizeTime(t) }

// NormalizeTimes returns ts normalized, copying the slice only when an element changes so
// that the caller's memory is never written.
func NormalizeTimes(ts []time.Time) []time.Time {
	for i, t := range ts {
		n := query.NormalizeTime(t)
		if n.Equal(t) && n.Location() == t.Location() {
			continue
		}
		out := slices.Clone(ts)
		for j := i; j < len(out); j++ {
			out[j] = query.NormalizeTime(out[j])
		}
		return out
	}
	return ts
}

// NewID returns a new record id: a version 7 (time-ordered) UUID.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:61] + "..."
}
