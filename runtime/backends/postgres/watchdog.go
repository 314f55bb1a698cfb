package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// watchTicks is the number of watchdog periods a wait may last: the watchdog ticks every
// 1/watchTicks of the command timeout.
const watchTicks = 4

// watchdog ends a streamed statement (cancels its context) when one wait for the server —
// the Query call, one rows.Next, the final rows.Close — lasts longer than the command
// timeout; the time between waits, the caller's loop body, does not count. A wait costs two
// atomic additions (no timer is armed per row): a timer ticking every quarter of the timeout
// checks whether the same wait is still in progress, so a wait is ended after between 1 and
// 1.25 times the timeout. A nil *watchdog (no command timeout) does nothing.
type watchdog struct {
	seq    atomic.Uint64 // odd while a wait is in progress: +1 when one starts and when it ends
	hit    atomic.Bool   // the watchdog cancelled the statement
	cancel context.CancelCauseFunc
	period time.Duration

	mu    sync.Mutex // serializes tick and stop
	done  bool
	last  uint64 // seq at the previous tick
	ticks int    // consecutive ticks that saw the wait last still in progress
	t     *time.Timer
}

func newWatchdog(timeout time.Duration, cancel context.CancelCauseFunc) *watchdog {
	if timeout <= 0 {
		return nil
	}
	w := &watchdog{cancel: cancel, period: max(timeout/watchTicks, time.Millisecond)}
	w.mu.Lock()
	w.t = time.AfterFunc(w.period, w.tick)
	w.mu.Unlock()
	return w
}

func (w *watchdog) begin() {
	if w != nil {
		w.seq.Add(1)
	}
}

func (w *watchdog) end() {
	if w != nil {
		w.seq.Add(1)
	}
}

func (w *watchdog) fired() bool { return w != nil && w.hit.Load() }

func (w *watchdog) tick() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	if s := w.seq.Load(); s%2 == 1 && s == w.last {
		// The wait seen at the previous tick is still in progress: it began less than one
		// period before the first tick that saw it.
		if w.ticks++; w.ticks >= watchTicks {
			w.hit.Store(true)
			w.cancel(ErrCommandTimeout)
			return
		}
	} else {
		w.last, w.ticks = s, 0
	}
	w.t.Reset(w.period)
}

func (w *watchdog) stop() {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.done = true
	w.t.Stop()
	w.mu.Unlock()
}
