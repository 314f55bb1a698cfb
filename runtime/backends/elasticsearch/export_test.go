package elasticsearch

import (
	"time"

	"github.com/repokit/repokit/runtime/record"
)

// DirectDecode reports whether records of desc are decoded with one json.Unmarshal.
func DirectDecode[T any](desc *record.Desc[T]) bool { return newCodec(desc).direct }

// SetUniqueClock replaces the clock of reservation times of d (before any use).
func SetUniqueClock[T any](d *Driver[T], now func() time.Time) { d.uq.now = now }
