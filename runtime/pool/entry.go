package pool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
)

// flight is a create or validation in progress on an entry. One caller (the leader) runs the
// hook; the others wait for done and then either return err or look again.
type flight struct {
	done  chan struct{}
	err   error // leader's create error, shared with waiters
	retry bool  // waiters should look again instead of returning err
}

// entry is the state of one identity (config key, scope, pool type) in a Manager: the
// current instance, handed out lock-free through cur; every instance still open (the
// current one and retired ones waiting for their holders); the flight in progress; and the
// counters Stats reports. It is created by the first Get of its identity and removed once it
// holds nothing (dead entries are never reused).
type entry[P any] struct {
	m        *Manager
	mk       mapKey
	cfg      Config
	backend  string
	redacted string
	typeName string
	ctr      *counters // the Manager's counters of backend

	cur atomic.Pointer[instance[P]]

	mu                 sync.Mutex
	flight             *flight
	live               map[*instance[P]]struct{}
	dead               bool
	creates            uint64
	createFailures     uint64
	validations        uint64
	validationFailures uint64
	lastErr            string
}

func (e *entry[P]) attrs(extra ...slog.Attr) []slog.Attr {
	a := []slog.Attr{
		slog.String("backend", e.backend), slog.String("config", e.redacted),
		slog.String("id", e.mk.key.String()),
	}
	if e.mk.scope != "" {
		a = append(a, slog.String("scope", e.mk.scope))
	}
	return append(a, extra...)
}

func (e *entry[P]) logf(ctx context.Context, level slog.Level, msg string, extra ...slog.Attr) {
	if !e.m.log.Enabled(ctx, level) {
		return
	}
	e.m.log.LogAttrs(ctx, level, msg, e.attrs(extra...)...)
}

func (e *entry[P]) redact(err error) string {
	if err == nil {
		return ""
	}
	return redactWith(e.cfg, err.Error())
}

// acquire returns a lease, or retry=true when the entry died and must be looked up again.
func (e *entry[P]) acquire(ctx context.Context, hooks Hooks[P]) (l Lease[P], retry bool, err error) {
	recreate := false
	e.mu.Lock()
	for {
		if e.m.closed.Load() {
			e.mu.Unlock()
			return l, false, ErrClosed
		}
		if e.dead {
			e.mu.Unlock()
			return l, true, nil
		}
		if err := ctx.Err(); err != nil {
			e.mu.Unlock()
			return l, false, err
		}
		if f := e.flight; f != nil {
			e.mu.Unlock()
			select {
			case <-f.done:
				if f.err != nil && !f.retry {
					return l, false, f.err
				}
			case <-ctx.Done():
				return l, false, ctx.Err()
			}
			e.mu.Lock()
			continue
		}
		inst := e.cur.Load()
		if inst != nil {
			s := inst.state.Load()
			if s&blockAny != 0 {
				e.cur.CompareAndSwap(inst, nil)
				continue
			}
			if s&flagDue == 0 {
				if inst.tryAcquire(blockFast) {
					e.mu.Unlock()
					return inst.lease(), false, nil
				}
				continue
			}
			if !inst.tryAcquire(blockAny) {
				continue
			}
			ok, l, err := e.validate(ctx, inst)
			if ok || err != nil {
				return l, false, err
			}
			// Invalid: it has been retired; create its replacement (e.mu is held again).
			recreate = true
			continue
		}
		return e.create(ctx, hooks, recreate)
	}
}

// validate runs with e.mu held and one hold on inst taken for the caller. It returns ok with a
// lease when the pool is valid; an error when the caller must give up; or neither, with e.mu
// held again, when the pool was invalid and has been retired.
func (e *entry[P]) validate(ctx context.Context, inst *instance[P]) (bool, Lease[P], error) {
	var zero Lease[P]
	if inst.hooks.Validate == nil {
		// Reported broken and nothing to check it with: replace it.
		e.validationFailures++
		e.ctr.validationFailures.Add(1)
		e.retire(inst)
		e.mu.Unlock()
		e.logf(ctx, slog.LevelWarn, "pool invalid", slog.String("error", "reported broken"))
		inst.release()
		e.mu.Lock()
		return false, zero, nil
	}
	if !e.m.beginFlight() {
		e.mu.Unlock()
		inst.release()
		return false, zero, ErrClosed
	}
	f := &flight{done: make(chan struct{})}
	e.flight = f
	e.mu.Unlock()

	err, panicked := callHook(func() error { return inst.hooks.Validate(ctx, inst.pool) })

	e.mu.Lock()
	e.flight = nil
	defer e.m.endFlight()
	if panicked != nil {
		f.retry = true
		close(f.done)
		e.mu.Unlock()
		inst.release()
		panic(panicked)
	}
	if err == nil {
		inst.state.And(^uint64(flagDue))
		e.validations++
		e.ctr.validations.Add(1)
		inst.validated = e.m.clock.Now()
		e.armValidate(inst)
		f.retry = true
		close(f.done)
		closing := inst.state.Load()&flagClosing != 0
		e.mu.Unlock()
		if closing { // CloseAll ran meanwhile
			inst.release()
			return false, zero, ErrClosed
		}
		e.logf(ctx, slog.LevelDebug, "pool validated")
		return true, inst.lease(), nil
	}
	if ctx.Err() != nil {
		// Our own context ended: that says nothing about the pool.
		f.retry = true
		close(f.done)
		e.mu.Unlock()
		inst.release()
		return false, zero, ctx.Err()
	}
	e.validationFailures++
	e.ctr.validationFailures.Add(1)
	e.lastErr = e.redact(err)
	e.retire(inst)
	f.retry = true
	close(f.done)
	e.mu.Unlock()
	e.logf(ctx, slog.LevelWarn, "pool invalid", slog.String("error", e.redact(err)))
	inst.release()
	e.mu.Lock()
	return false, zero, nil
}

// retire stops inst from being handed out; it closes when its last holder leaves. e.mu held.
func (e *entry[P]) retire(inst *instance[P]) {
	inst.state.Or(flagRetired)
	e.cur.CompareAndSwap(inst, nil)
}

// create runs with e.mu held and returns with it released.
func (e *entry[P]) create(ctx context.Context, hooks Hooks[P], recreate bool) (Lease[P], bool, error) {
	var zero Lease[P]
	if !e.m.beginFlight() {
		e.mu.Unlock()
		return zero, false, ErrClosed
	}
	defer e.m.endFlight()
	f := &flight{done: make(chan struct{})}
	e.flight = f
	e.mu.Unlock()

	var p P
	err, panicked := callHook(func() error {
		once := func(ctx context.Context) error {
			v, err := hooks.Create(context.WithValue(ctx, managerKey{}, e.m), e.cfg)
			if err == nil {
				p = v
			}
			return err
		}
		if rp := e.m.opts.CreateRetry; rp != nil {
			return Retry(ctx, *rp, once)
		}
		return once(ctx)
	})

	e.mu.Lock()
	e.flight = nil
	if err != nil {
		e.createFailures++
		e.ctr.createFailures.Add(1)
		msg := e.redact(err)
		e.lastErr = msg
		if ctx.Err() != nil || panicked != nil {
			f.retry = true // our own cancellation must not fail the others
		}
		herr := &hookError{msg: fmt.Sprintf("pool: create %s pool %s: %s", e.backend, e.redacted, msg), err: err, create: true}
		f.err = herr
		close(f.done)
		e.dropIfUnused()
		e.mu.Unlock()
		e.logf(ctx, slog.LevelDebug, "pool create failed", slog.String("error", msg))
		if panicked != nil {
			panic(panicked)
		}
		return zero, false, herr
	}
	if e.m.closed.Load() || e.dead {
		// CloseAll ran while we were creating: this pool must not outlive it.
		f.retry = true
		close(f.done)
		e.mu.Unlock()
		cctx, cancel := e.m.closeCtx()
		defer cancel()
		if hooks.Close != nil {
			if cerr, _ := callHook(func() error { return hooks.Close(cctx, p) }); cerr != nil {
				e.logf(ctx, slog.LevelWarn, "pool close failed", slog.String("error", e.redact(cerr)))
			}
		}
		e.logf(ctx, slog.LevelDebug, "pool closed", slog.String("reason", "manager closed during create"))
		return zero, false, ErrClosed
	}
	now := e.m.clock.Now()
	inst := &instance[P]{e: e, pool: p, hooks: hooks, created: now, validated: now, done: make(chan struct{})}
	inst.state.Store(seqOne | 1)
	e.live[inst] = struct{}{}
	e.cur.Store(inst)
	e.creates++
	e.ctr.creates.Add(1)
	if recreate {
		e.ctr.recreations.Add(1)
	}
	e.armValidate(inst)
	f.retry = true
	close(f.done)
	e.mu.Unlock()
	msg := "pool created"
	if recreate {
		msg = "pool recreated"
	}
	e.logf(ctx, slog.LevelDebug, msg, slog.String("type", e.typeName))
	return inst.lease(), false, nil
}

// dropIfUnused removes the entry from the manager when it holds nothing. e.mu held.
func (e *entry[P]) dropIfUnused() {
	if e.dead || e.flight != nil || e.cur.Load() != nil || len(e.live) > 0 {
		return
	}
	e.dead = true
	e.m.removeEntry(e.mk, e)
}

// armValidate schedules the next validation of inst. e.mu held.
func (e *entry[P]) armValidate(inst *instance[P]) {
	if inst.hooks.Validate == nil || e.m.opts.ValidateInterval < 0 {
		return
	}
	if inst.vtimer != nil {
		inst.vtimer.Stop()
	}
	inst.vtimer = e.m.clock.AfterFunc(e.m.opts.ValidateInterval, func() { inst.state.Or(flagDue) })
}

func (e *entry[P]) shutdown(ctx context.Context) error {
	e.mu.Lock()
	e.dead = true
	e.cur.Store(nil)
	insts := make([]*instance[P], 0, len(e.live))
	for inst := range e.live {
		insts = append(insts, inst)
	}
	e.mu.Unlock()
	var errs []error
	for _, inst := range insts {
		if err := inst.forceClose(ctx, "close all"); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (e *entry[P]) remove(ctx context.Context) (bool, error) {
	e.mu.Lock()
	inst := e.cur.Load()
	if inst == nil {
		e.mu.Unlock()
		return false, nil
	}
	e.retire(inst)
	e.mu.Unlock()
	for {
		s := inst.state.Load()
		if s&flagClosing != 0 || s&holdersMask != 0 {
			// Held: the last Release closes it.
			return true, nil
		}
		if inst.state.CompareAndSwap(s, s|flagClosing) {
			return true, inst.finishClose(ctx, "removed")
		}
	}
}

func (e *entry[P]) isLive() bool {
	inst := e.cur.Load()
	return inst != nil && inst.state.Load()&blockAny == 0
}
