package pool

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// Instance state word: low 32 bits count holders, bits 32..59 count acquisitions (wrapping),
// the top bits are flags.
const (
	holdersMask = 1<<32 - 1
	seqOne      = 1 << 32
	seqMask     = (1<<28 - 1) << 32
	flagDue     = 1 << 60 // validate before the next hand-out
	flagRetired = 1 << 61 // never hand out again; close when the last holder leaves
	flagClosing = 1 << 62 // close has started
	blockFast   = flagDue | flagRetired | flagClosing
	blockAny    = flagRetired | flagClosing
)

// instance is one pool value created by Hooks.Create, with the hooks that created it. Its
// state word (above) counts its holders and acquisitions and carries its flags, so that
// acquiring and releasing a live instance is a single compare-and-swap.
type instance[P any] struct {
	e       *entry[P]
	pool    P
	hooks   Hooks[P]
	created time.Time
	state   atomic.Uint64

	idleArmed atomic.Bool
	// guarded by e.mu
	validated time.Time
	vtimer    Timer
	itimer    Timer
	idleSeq   uint64

	closeErr error // written before done is closed
	done     chan struct{}
}

func (inst *instance[P]) tryAcquire(block uint64) bool {
	for {
		s := inst.state.Load()
		if s&block != 0 {
			return false
		}
		n := ((s + 1) &^ seqMask) | ((s + seqOne) & seqMask)
		if inst.state.CompareAndSwap(s, n) {
			return true
		}
	}
}

func (inst *instance[P]) release() {
	s := inst.state.Add(^uint64(0))
	if s&holdersMask != 0 || s&flagClosing != 0 {
		return
	}
	switch o := &inst.e.m.opts; {
	case s&flagRetired != 0:
		inst.tryClose("retired", -1)
	case o.KeepIdle:
	case o.IdleGrace > 0:
		inst.armIdle()
	default:
		inst.tryClose("last release", -1)
	}
}

func seqOf(s uint64) int64 { return int64((s & seqMask) >> 32) }

func (inst *instance[P]) armIdle() {
	if inst.idleArmed.Load() {
		return
	}
	e := inst.e
	e.mu.Lock()
	defer e.mu.Unlock()
	s := inst.state.Load()
	if inst.idleArmed.Load() || s&flagClosing != 0 {
		return
	}
	inst.idleArmed.Store(true)
	inst.idleSeq = uint64(seqOf(s))
	inst.itimer = e.m.clock.AfterFunc(e.m.opts.IdleGrace, inst.idleFire)
}

func (inst *instance[P]) idleFire() {
	e := inst.e
	e.mu.Lock()
	inst.idleArmed.Store(false)
	inst.itimer = nil
	s := inst.state.Load()
	if s&flagClosing != 0 || s&holdersMask != 0 {
		e.mu.Unlock()
		return
	}
	if uint64(seqOf(s)) != inst.idleSeq {
		// Used meanwhile: wait a full grace period from now.
		inst.idleArmed.Store(true)
		inst.idleSeq = uint64(seqOf(s))
		inst.itimer = e.m.clock.AfterFunc(e.m.opts.IdleGrace, inst.idleFire)
		e.mu.Unlock()
		return
	}
	seq := int64(inst.idleSeq)
	e.mu.Unlock()
	inst.tryClose("idle", seq)
}

func (inst *instance[P]) reportBroken(err error) {
	e := inst.e
	msg := "reported broken"
	if err != nil {
		msg = e.redact(err)
	}
	e.mu.Lock()
	e.lastErr = msg
	e.mu.Unlock()
	inst.state.Or(flagDue)
	e.logf(context.Background(), slog.LevelDebug, "pool reported broken", slog.String("error", msg))
}
