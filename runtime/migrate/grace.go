package migrate

import (
	"context"
	"time"
)

// Processes of the previous version that are running when a migration is applied. Their
// drivers opened on a store that was not ahead of them; an Elasticsearch or S3 driver with
// migrations reads the store's applied version again before a write when it last read it
// more than DefaultOlderCodeRecheck ago, and from when it finds the store ahead it keeps
// what it does not know in its writes (KeepMembers). A migrator of those backends that
// applied versions over a store that had some waits DefaultOlderCodeGrace after recording
// the first of them before Apply returns, so that code started after Apply (the usual
// rollout) writes only once every running older process has seen the new version.

const (
	// DefaultOlderCodeRecheck is how old a driver's last read of the store's applied version
	// may be before a write reads it again.
	DefaultOlderCodeRecheck = 10 * time.Second
	// DefaultOlderCodeGrace is how long Apply waits after recording a version over a store
	// that had one: DefaultOlderCodeRecheck and a margin for writes already under way.
	DefaultOlderCodeGrace = DefaultOlderCodeRecheck + 5*time.Second

	// KeepAttempts bounds the read-merge-write attempts of one unconditional write of older
	// code (a write that keeps what it does not know, KeepMembers) when other writers keep
	// changing the record between its read and its conditional write; then the write fails
	// with a version conflict.
	KeepAttempts = 10
)

// WaitGrace waits until grace has passed since recorded (the zero time: nothing was
// recorded, no wait), or ctx ends (its error).
func WaitGrace(ctx context.Context, recorded time.Time, grace time.Duration) error {
	if recorded.IsZero() || grace <= 0 {
		return nil
	}
	d := time.Until(recorded.Add(grace))
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
