package migrate

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// OlderCodeKeep is what a driver with migrations (Elasticsearch, S3) knows of whether the
// store is ahead of its history: the members its whole-document writes must keep
// (KeepMembers' skip function: true for the names it knows) once the store is found ahead,
// and when it last read the store's applied version. Keeping reads the applied version
// again, through the backend's read function, when the last read is older than the recheck
// age (DefaultOlderCodeRecheck unless the driver's options say otherwise), so that a
// process running when a newer version is applied starts keeping what it does not know.
// Once the store is found ahead it stays so for the driver's life: nothing is read again.
//
// A nil *OlderCodeKeep belongs to a driver without migrations: it keeps nothing and reads
// nothing. An OlderCodeKeep is safe for concurrent use; concurrent writes that find the
// last read too old share one read.
type OlderCodeKeep struct {
	recheck time.Duration
	read    func(context.Context) (func(string) bool, error)
	now     func() time.Time // time.Now; tests set a clock
	epoch   time.Time        // now() at construction: at counts from it on the monotonic clock

	keep atomic.Pointer[func(string) bool] // set once the store is found ahead
	at   atomic.Int64                      // when the applied version was last read (ns since epoch)
	mu   sync.Mutex                        // orders the rereads
}

// never is the time of the last read before the first one: long enough ago for any
// recheck age, far enough from math.MinInt64 for the subtraction in stale.
const never = math.MinInt64 / 2

// NewOlderCodeKeep returns the OlderCodeKeep of a driver that reads the store's applied
// version again when its last read is older than recheck (0 or less: before every write
// until the store is found ahead). read reads it and returns the skip function of
// KeepMembers when the store is ahead of the driver's history, nil when it is not (or
// when the driver can keep nothing), or the error of the read. Record the read the driver
// made when it opened with Set: until then the last read counts as long ago.
func NewOlderCodeKeep(recheck time.Duration, read func(context.Context) (func(string) bool, error)) *OlderCodeKeep {
	return newOlderCodeKeep(recheck, read, time.Now)
}

// newOlderCodeKeep is NewOlderCodeKeep with a clock.
func newOlderCodeKeep(recheck time.Duration, read func(context.Context) (func(string) bool, error), now func() time.Time) *OlderCodeKeep {
	k := &OlderCodeKeep{recheck: recheck, read: read, now: now, epoch: now()}
	k.at.Store(never)
	return k
}

// Set records a read of the applied version made now, whose result is keep (nil: the store
// is not ahead). A nil keep does not undo an earlier non-nil one.
func (k *OlderCodeKeep) Set(keep func(string) bool) {
	if keep != nil {
		k.keep.Store(&keep)
	}
	k.at.Store(int64(k.now().Sub(k.epoch)))
}

// Keeping returns the skip function to pass to KeepMembers when the store is ahead of the
// driver's history, or nil when it is not (as of the last read). Called before a write, it
// reads the applied version again first when the last read is older than the recheck age,
// and returns the read's error when that fails (the next call reads again).
func (k *OlderCodeKeep) Keeping(ctx context.Context) (func(string) bool, error) {
	if k == nil {
		return nil, nil
	}
	if p := k.keep.Load(); p != nil {
		return *p, nil
	}
	if !k.stale() {
		return nil, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stale() {
		keep, err := k.read(ctx)
		if err != nil {
			return nil, err
		}
		k.Set(keep)
	}
	if p := k.keep.Load(); p != nil {
		return *p, nil
	}
	return nil, nil
}

// stale reports whether the last read is at least the recheck age old, on the monotonic
// clock (time.Now's), so that a wall clock stepped back does not stop the rereads.
func (k *OlderCodeKeep) stale() bool {
	return int64(k.now().Sub(k.epoch))-k.at.Load() >= int64(k.recheck)
}
