package pool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// tryClose closes inst if nobody holds it (and, when seq >= 0, nobody took it since seq).
func (inst *instance[P]) tryClose(reason string, seq int64) bool {
	for {
		s := inst.state.Load()
		if s&flagClosing != 0 || s&holdersMask != 0 || (seq >= 0 && seqOf(s) != seq) {
			return false
		}
		if inst.state.CompareAndSwap(s, s|flagClosing|flagRetired) {
			break
		}
	}
	ctx, cancel := inst.e.m.closeCtx()
	defer cancel()
	inst.finishClose(ctx, reason)
	return true
}

// forceClose closes inst whatever its holders (CloseAll) and waits for the close to finish.
func (inst *instance[P]) forceClose(ctx context.Context, reason string) error {
	for {
		s := inst.state.Load()
		if s&flagClosing != 0 {
			select {
			case <-inst.done:
				return inst.closeErr
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if inst.state.CompareAndSwap(s, s|flagClosing|flagRetired) {
			return inst.finishClose(ctx, reason)
		}
	}
}

// finishClose runs once per instance, after the closing flag was set.
func (inst *instance[P]) finishClose(ctx context.Context, reason string) error {
	e := inst.e
	e.mu.Lock()
	if inst.vtimer != nil {
		inst.vtimer.Stop()
		inst.vtimer = nil
	}
	if inst.itimer != nil {
		inst.itimer.Stop()
		inst.itimer = nil
	}
	e.cur.CompareAndSwap(inst, nil)
	delete(e.live, inst)
	e.dropIfUnused()
	e.mu.Unlock()

	var err error
	if inst.hooks.Close != nil {
		var panicked any
		err, panicked = callHook(func() error { return inst.hooks.Close(ctx, inst.pool) })
		if panicked != nil {
			inst.closeErr = err
			close(inst.done)
			panic(panicked)
		}
	}
	if err != nil {
		msg := e.redact(err)
		e.mu.Lock()
		e.lastErr = msg
		e.mu.Unlock()
		err = &hookError{msg: fmt.Sprintf("pool: close %s pool %s: %s", e.backend, e.redacted, msg), err: err}
		e.logf(ctx, slog.LevelWarn, "pool close failed", slog.String("reason", reason), slog.String("error", msg))
	} else {
		e.logf(ctx, slog.LevelDebug, "pool closed", slog.String("reason", reason))
	}
	e.ctr.closes.Add(1)
	inst.closeErr = err
	close(inst.done)
	return err
}

// Remove retires the pool for cfg (under every pool type): no Get hands it out again, and it
// is closed now if nobody holds it, or by its last Release. It reports whether there was a pool.
// A create in progress for cfg is not affected. After CloseAll it returns ErrClosed.
func (m *Manager) Remove(ctx context.Context, cfg Config) (bool, error) {
	p, ok := cfg.(*Prepared)
	if !ok {
		p = Prepare(cfg)
	}
	es := m.entries.Load()
	if es == nil {
		return false, ErrClosed
	}
	found := false
	var errs []error
	for k, e := range *es {
		if k.key != p.key || k.scope != p.scope {
			continue
		}
		ok, err := e.remove(ctx)
		found = found || ok
		if err != nil {
			errs = append(errs, err)
		}
	}
	return found, errors.Join(errs...)
}

// CloseAll closes every pool, including pools still leased and pools whose creation is in
// flight (they are closed as soon as their create returns), then waits, within ctx, until all
// of them are closed. Afterwards Get returns ErrClosed. It is idempotent: later calls wait for
// the first one and return nil. The error joins the Close hooks' errors and ctx.Err() if ctx
// ended first.
func (m *Manager) CloseAll(ctx context.Context) error {
	m.mu.Lock()
	if m.closeDone != nil {
		ch := m.closeDone
		m.mu.Unlock()
		select {
		case <-ch:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	m.closeDone = make(chan struct{})
	defer close(m.closeDone)
	m.closed.Store(true)
	es := m.entries.Swap(nil)
	if m.inflight == 0 && !m.isDrained {
		m.isDrained = true
		close(m.drained)
	}
	m.mu.Unlock()
	m.unregisterMetrics() // not under m.mu: a collection in progress takes it

	var errs []error
	for _, e := range *es {
		if err := e.shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	select {
	case <-m.drained:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
	}
	return errors.Join(errs...)
}
