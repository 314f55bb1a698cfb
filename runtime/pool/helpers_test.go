package pool

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// testConfig is a minimal Config for manager tests.
type testConfig struct {
	name     string
	password string
}

func (c testConfig) Backend() string  { return "test" }
func (c testConfig) Redacted() string { return "test://" + c.name }
func (c testConfig) Key() Key {
	return NewKeyBuilder("test").String("name", c.name).Secret("password", c.password).Key()
}
func (c testConfig) RedactSecrets(s string) string { return redactSecrets(s, c.password) }

// fakePool is the pool value handed out in manager tests.
type fakePool struct {
	id     int64
	cfg    Config
	closed atomic.Bool
}

func (p *fakePool) PoolStats() any { return map[string]int64{"id": p.id} }

// recorder counts hook calls and lets tests steer them.
type recorder struct {
	mu        sync.Mutex
	nextID    atomic.Int64
	creates   atomic.Int64
	attempts  atomic.Int64
	closes    atomic.Int64
	validates atomic.Int64
	pools     []*fakePool

	createErr   func(attempt int64) error          // nil: succeed
	createGate  chan struct{}                      // when set, Create waits for it (or ctx)
	started     chan struct{}                      // when set, receives once per Create call
	validateErr func(p *fakePool) error            // nil: valid
	closeErr    func(p *fakePool) error            // nil: fine
	onCreate    func(ctx context.Context, n int64) // optional extra behaviour
	onValidate  func(ctx context.Context, p *fakePool) error
}

func (r *recorder) hooks() Hooks[*fakePool] {
	return Hooks[*fakePool]{
		Create: func(ctx context.Context, cfg Config) (*fakePool, error) {
			n := r.attempts.Add(1)
			if r.started != nil {
				r.started <- struct{}{}
			}
			if r.onCreate != nil {
				r.onCreate(ctx, n)
			}
			if r.createGate != nil {
				select {
				case <-r.createGate:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			if r.createErr != nil {
				if err := r.createErr(n); err != nil {
					return nil, err
				}
			}
			r.creates.Add(1)
			p := &fakePool{id: r.nextID.Add(1), cfg: cfg}
			r.mu.Lock()
			r.pools = append(r.pools, p)
			r.mu.Unlock()
			return p, nil
		},
		Validate: func(ctx context.Context, p *fakePool) error {
			r.validates.Add(1)
			if p.closed.Load() {
				return errors.New("validate called on a closed pool")
			}
			if r.onValidate != nil {
				return r.onValidate(ctx, p)
			}
			if r.validateErr != nil {
				return r.validateErr(p)
			}
			return nil
		},
		Close: func(ctx context.Context, p *fakePool) error {
			if p.closed.Swap(true) {
				panic("pool closed twice")
			}
			r.closes.Add(1)
			if r.closeErr != nil {
				return r.closeErr(p)
			}
			return nil
		},
	}
}

func (r *recorder) all() []*fakePool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*fakePool(nil), r.pools...)
}

// fakeClock is a manual Clock: timers fire, synchronously, when Advance passes them.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Time
	f       func()
	stopped bool
	fired   bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped && !t.fired
	t.stopped = true
	return was
}

// Advance moves time forward and runs the timers that became due, in order.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	keep := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.stopped || t.fired:
		case !t.at.After(c.now):
			t.fired = true
			due = append(due, t)
		default:
			keep = append(keep, t)
		}
	}
	c.timers = keep
	c.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		t.f()
	}
}

// pending counts timers that have neither fired nor been stopped.
func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.stopped && !t.fired {
			n++
		}
	}
	return n
}
