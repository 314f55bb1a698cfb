package pool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func mustGet(t *testing.T, m *Manager, cfg Config, h Hooks[*fakePool]) Lease[*fakePool] {
	t.Helper()
	l, err := Get(context.Background(), m, cfg, h)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return l
}

func closeAll(t *testing.T, m *Manager) {
	t.Helper()
	if err := m.CloseAll(context.Background()); err != nil {
		t.Fatalf("CloseAll: %v", err)
	}
}

func TestExactlyOnceCreation(t *testing.T) {
	const configs, goroutines = 50, 1000
	r := &recorder{createGate: make(chan struct{})}
	h := r.hooks()
	m := New(Options{})
	raw := make([]Config, configs)
	prepared := make([]Config, configs)
	for i := range raw {
		raw[i] = testConfig{name: fmt.Sprintf("db%d", i), password: "pw"}
		prepared[i] = Prepare(raw[i])
	}
	leases := make([]Lease[*fakePool], goroutines)
	errs := make([]error, goroutines)
	var ready, done sync.WaitGroup
	ready.Add(goroutines)
	done.Add(goroutines)
	for g := 0; g < goroutines; g++ {
		go func() {
			defer done.Done()
			cfg := raw[g%configs] // half use the plain config, half the prepared one
			if g%2 == 1 {
				cfg = prepared[g%configs]
			}
			ready.Done()
			leases[g], errs[g] = Get(context.Background(), m, cfg, h)
		}()
	}
	ready.Wait()
	time.Sleep(20 * time.Millisecond) // let the goroutines pile up on the creations (not asserted)
	close(r.createGate)
	done.Wait()

	for g, err := range errs {
		if err != nil {
			t.Fatalf("goroutine %d: %v", g, err)
		}
	}
	if got := r.creates.Load(); got != configs {
		t.Fatalf("creates = %d, want exactly %d", got, configs)
	}
	for g := range leases {
		first := leases[g%configs].Pool()
		if leases[g].Pool() != first {
			t.Fatalf("goroutine %d got pool %d, want the shared pool %d", g, leases[g].Pool().id, first.id)
		}
		if want := raw[g%configs]; leases[g].Pool().cfg != want {
			t.Fatalf("pool created from %v, want %v", leases[g].Pool().cfg, want)
		}
	}
	if got := m.Len(); got != configs {
		t.Fatalf("Len = %d, want %d", got, configs)
	}
	for _, st := range m.Stats() {
		if st.Holders != goroutines/configs || st.Creates != 1 {
			t.Fatalf("stat %+v: want %d holders and 1 create", st, goroutines/configs)
		}
	}
	for _, l := range leases {
		l.Release()
	}
	if got := r.closes.Load(); got != configs {
		t.Fatalf("closes after last releases = %d, want %d", got, configs)
	}
	if got := m.Len(); got != 0 {
		t.Fatalf("Len after releases = %d, want 0", got)
	}
	closeAll(t, m)
}

func TestFailedCreateIsNotCached(t *testing.T) {
	boom := errors.New("connection refused by test")
	r := &recorder{createErr: func(n int64) error {
		if n == 1 {
			return boom
		}
		return nil
	}}
	m := New(Options{KeepIdle: true})
	cfg := Prepare(testConfig{name: "a"})
	_, err := Get(context.Background(), m, cfg, r.hooks())
	if !errors.Is(err, boom) {
		t.Fatalf("first Get: err = %v, want %v", err, boom)
	}
	if want := "pool: create test pool test://a: connection refused by test"; err.Error() != want {
		t.Fatalf("error text = %q, want %q", err.Error(), want)
	}
	if !errors.Is(err, ErrCreate) || !Unreachable(context.Background(), err) {
		t.Fatalf("a failed create: errors.Is(err, ErrCreate) = %v, Unreachable = %v, want both", errors.Is(err, ErrCreate), Unreachable(context.Background(), err))
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if Unreachable(cancelled, err) {
		t.Fatalf("Unreachable with the caller's context ended: want false")
	}
	if m.Len() != 0 {
		t.Fatalf("Len after failed create = %d, want 0", m.Len())
	}
	l := mustGet(t, m, cfg, r.hooks())
	defer l.Release()
	if r.attempts.Load() != 2 || r.creates.Load() != 1 {
		t.Fatalf("attempts=%d creates=%d, want 2 and 1", r.attempts.Load(), r.creates.Load())
	}
	st := m.Stats()
	if len(st) != 1 || st[0].CreateFailures != 0 && st[0].Creates != 1 {
		t.Fatalf("stats = %+v", st)
	}
	closeAll(t, m)
}

func TestConcurrentWaitersShareCreateError(t *testing.T) {
	boom := errors.New("auth failed")
	r := &recorder{createGate: make(chan struct{}), started: make(chan struct{}, 10),
		createErr: func(int64) error { return boom }}
	m := New(Options{})
	cfg := Prepare(testConfig{name: "a"})
	errs := make(chan error, 2)
	go func() { _, err := Get(context.Background(), m, cfg, r.hooks()); errs <- err }()
	<-r.started
	go func() { _, err := Get(context.Background(), m, cfg, r.hooks()); errs <- err }()
	// Give the second caller time to start waiting on the first create; a second create
	// attempt (the waiter not sharing the leader's result) fails the check below.
	time.Sleep(100 * time.Millisecond)
	close(r.createGate)
	for i := 0; i < 2; i++ {
		if err := <-errs; !errors.Is(err, boom) {
			t.Fatalf("Get %d: %v, want %v", i, err, boom)
		}
	}
	if n := r.attempts.Load(); n != 1 {
		t.Errorf("%d create attempts, want 1: the waiter did not share the leader's failed create", n)
	}
	closeAll(t, m)
}

func TestCancelledWaiterDoesNotFailOthers(t *testing.T) {
	r := &recorder{createGate: make(chan struct{}), started: make(chan struct{}, 10)}
	m := New(Options{})
	cfg := Prepare(testConfig{name: "a"})
	type res struct {
		l   Lease[*fakePool]
		err error
	}
	leader, other := make(chan res, 1), make(chan res, 1)
	go func() { l, err := Get(context.Background(), m, cfg, r.hooks()); leader <- res{l, err} }()
	<-r.started // the leader is creating

	ctx, cancel := context.WithCancel(context.Background())
	cancelled := make(chan error, 1)
	go func() { _, err := Get(ctx, m, cfg, r.hooks()); cancelled <- err }()
	go func() { l, err := Get(context.Background(), m, cfg, r.hooks()); other <- res{l, err} }()
	cancel()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v, want context.Canceled", err)
	}
	close(r.createGate)
	a, b := <-leader, <-other
	if a.err != nil || b.err != nil {
		t.Fatalf("others failed: %v, %v", a.err, b.err)
	}
	if a.l.Pool() != b.l.Pool() || r.creates.Load() != 1 {
		t.Fatalf("want one shared pool, got %p %p after %d creates", a.l.Pool(), b.l.Pool(), r.creates.Load())
	}
	a.l.Release()
	b.l.Release()
	closeAll(t, m)
}

func TestCancelledLeaderHandsOverCreation(t *testing.T) {
	gate := make(chan struct{})
	r := &recorder{started: make(chan struct{}, 10)}
	r.onCreate = func(ctx context.Context, n int64) {
		if n == 1 {
			<-ctx.Done() // the first creator only ends when its caller gives up
			return
		}
		<-gate
	}
	h := r.hooks()
	inner := h.Create
	h.Create = func(ctx context.Context, cfg Config) (*fakePool, error) {
		p, err := inner(ctx, cfg)
		if err == nil && ctx.Err() != nil {
			p.closed.Store(true)
			return nil, ctx.Err()
		}
		return p, err
	}
	m := New(Options{})
	cfg := Prepare(testConfig{name: "a"})
	ctx, cancel := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() { _, err := Get(ctx, m, cfg, h); leaderErr <- err }()
	<-r.started
	waiter := make(chan error, 1)
	var wl Lease[*fakePool]
	go func() {
		var err error
		wl, err = Get(context.Background(), m, cfg, h)
		waiter <- err
	}()
	time.Sleep(10 * time.Millisecond) // let the waiter queue behind the leader (not asserted)
	cancel()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader: %v, want context.Canceled", err)
	}
	<-r.started // the waiter took over the creation
	close(gate)
	if err := <-waiter; err != nil {
		t.Fatalf("waiter failed because the leader was cancelled: %v", err)
	}
	wl.Release()
	closeAll(t, m)
}

func TestValidationThrottling(t *testing.T) {
	clock := newFakeClock()
	r := &recorder{}
	m := New(Options{Clock: clock, ValidateInterval: time.Minute, KeepIdle: true})
	cfg := Prepare(testConfig{name: "a"})
	getRelease := func(n int) {
		for i := 0; i < n; i++ {
			mustGet(t, m, cfg, r.hooks()).Release()
		}
	}
	getRelease(10)
	if v := r.validates.Load(); v != 0 {
		t.Fatalf("validations right after create = %d, want 0", v)
	}
	clock.Advance(59 * time.Second)
	getRelease(10)
	if v := r.validates.Load(); v != 0 {
		t.Fatalf("validations before the interval = %d, want 0", v)
	}
	clock.Advance(time.Second)
	getRelease(10)
	if v := r.validates.Load(); v != 1 {
		t.Fatalf("validations after one interval = %d, want 1", v)
	}
	clock.Advance(time.Minute)
	getRelease(10)
	if v := r.validates.Load(); v != 2 {
		t.Fatalf("validations after two intervals = %d, want 2", v)
	}
	if st := m.Stats(); len(st) != 1 || st[0].Validations != 2 || !st[0].LastValidated.Equal(clock.Now()) {
		t.Fatalf("stats = %+v", st)
	}
	if r.creates.Load() != 1 {
		t.Fatalf("creates = %d, want 1", r.creates.Load())
	}
	closeAll(t, m)
	if clock.pending() != 0 {
		t.Fatalf("%d timers still pending after CloseAll", clock.pending())
	}
}

func TestConcurrentGetsValidateOnce(t *testing.T) {
	clock := newFakeClock()
	gate := make(chan struct{})
	r := &recorder{}
	r.onValidate = func(ctx context.Context, p *fakePool) error { <-gate; return nil }
	m := New(Options{Clock: clock, ValidateInterval: time.Minute, KeepIdle: true})
	cfg := Prepare(testConfig{name: "a"})
	mustGet(t, m, cfg, r.hooks()).Release()
	clock.Advance(time.Minute)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mustGet(t, m, cfg, r.hooks()).Release()
		}()
	}
	time.Sleep(10 * time.Millisecond) // let them queue (not asserted)
	close(gate)
	wg.Wait()
	if v := r.validates.Load(); v != 1 {
		t.Fatalf("validations = %d, want 1 for concurrent Gets", v)
	}
	closeAll(t, m)
}

func TestRecreateAfterReportBroken(t *testing.T) {
	for _, withValidate := range []bool{true, false} {
		t.Run(fmt.Sprintf("validate=%v", withValidate), func(t *testing.T) {
			r := &recorder{validateErr: func(p *fakePool) error {
				if p.id == 1 {
					return errors.New("ping failed")
				}
				return nil
			}}
			h := r.hooks()
			if !withValidate {
				h.Validate = nil
			}
			m := New(Options{})
			cfg := Prepare(testConfig{name: "a"})
			l1 := mustGet(t, m, cfg, h)
			old := l1.Pool()
			l1.ReportBroken(errors.New("query failed: broken pipe"))
			l2 := mustGet(t, m, cfg, h)
			if l2.Pool() == old {
				t.Fatal("the broken pool was handed out again")
			}
			if old.closed.Load() {
				t.Fatal("the old pool was closed while a lease still held it")
			}
			l1.Release()
			if !old.closed.Load() {
				t.Fatal("the old pool was not closed by its last release")
			}
			for i := 0; i < 10; i++ {
				l := mustGet(t, m, cfg, h)
				if l.Pool() == old {
					t.Fatal("the old pool was handed out again")
				}
				l.Release()
			}
			st := m.Stats()
			if len(st) != 1 || st[0].Creates != 2 || st[0].ValidationFailures != 1 || st[0].Retired != 0 {
				t.Fatalf("stats = %+v", st)
			}
			wantErr := "ping failed"
			if !withValidate {
				wantErr = "query failed: broken pipe"
			}
			if st[0].LastError != wantErr {
				t.Fatalf("LastError = %q, want %q", st[0].LastError, wantErr)
			}
			l2.Release()
			closeAll(t, m)
		})
	}
}

func TestReportBrokenButStillValid(t *testing.T) {
	r := &recorder{}
	m := New(Options{KeepIdle: true})
	cfg := Prepare(testConfig{name: "a"})
	l := mustGet(t, m, cfg, r.hooks())
	p := l.Pool()
	l.ReportBroken(errors.New("one bad query"))
	l.Release()
	l.ReportBroken(errors.New("ignored: released")) // no effect on a released lease
	l2 := mustGet(t, m, cfg, r.hooks())
	if l2.Pool() != p || r.validates.Load() != 1 {
		t.Fatalf("want the same pool after one validation, got pool %d after %d validations", l2.Pool().id, r.validates.Load())
	}
	l2.Release()
	mustGet(t, m, cfg, r.hooks()).Release()
	if r.validates.Load() != 1 {
		t.Fatalf("validations = %d, want 1 (no validation without a report)", r.validates.Load())
	}
	closeAll(t, m)
}

func TestPeriodicValidationFailureRecreates(t *testing.T) {
	clock := newFakeClock()
	r := &recorder{validateErr: func(p *fakePool) error {
		if p.id == 1 {
			return errors.New("server went away")
		}
		return nil
	}}
	m := New(Options{Clock: clock, ValidateInterval: time.Second, KeepIdle: true})
	cfg := Prepare(testConfig{name: "a"})
	l := mustGet(t, m, cfg, r.hooks())
	old := l.Pool()
	l.Release()
	clock.Advance(time.Second)
	l = mustGet(t, m, cfg, r.hooks())
	if l.Pool() == old || !old.closed.Load() {
		t.Fatalf("want a new pool and the old one closed; got pool %d, old closed=%v", l.Pool().id, old.closed.Load())
	}
	l.Release()
	closeAll(t, m)
}

func TestLeaseSemantics(t *testing.T) {
	r := &recorder{}
	m := New(Options{})
	cfg := Prepare(testConfig{name: "a"})
	var zero Lease[*fakePool]
	zero.Release()
	zero.ReportBroken(errors.New("x"))
	if zero.Pool() != nil {
		t.Fatal("zero lease has a pool")
	}

	l1 := mustGet(t, m, cfg, r.hooks())
	l2 := mustGet(t, m, cfg, r.hooks())
	cp := l1
	l1.Release()
	l1.Release()
	cp.Release()
	if st := m.Stats(); len(st) != 1 || st[0].Holders != 1 {
		t.Fatalf("after releasing one lease three times: %+v, want 1 holder", st)
	}
	// A stale copy must not release a lease that reused its token.
	l3 := mustGet(t, m, cfg, r.hooks())
	cp.Release()
	l1.Release()
	if st := m.Stats(); st[0].Holders != 2 {
		t.Fatalf("holders = %d, want 2", st[0].Holders)
	}
	p := l2.Pool()
	l2.Release()
	l3.Release()
	if !p.closed.Load() || m.Len() != 0 {
		t.Fatalf("last release did not close the pool (closed=%v, Len=%d)", p.closed.Load(), m.Len())
	}
	l4 := mustGet(t, m, cfg, r.hooks())
	if l4.Pool() == p || r.creates.Load() != 2 {
		t.Fatal("a closed pool was handed out")
	}
	l4.Release()
	closeAll(t, m)
}

func TestIdleGrace(t *testing.T) {
	clock := newFakeClock()
	r := &recorder{}
	m := New(Options{Clock: clock, IdleGrace: 10 * time.Second})
	cfg := Prepare(testConfig{name: "a"})
	l := mustGet(t, m, cfg, r.hooks())
	p := l.Pool()
	l.Release()
	clock.Advance(5 * time.Second)
	if p.closed.Load() {
		t.Fatal("closed before the grace period")
	}
	mustGet(t, m, cfg, r.hooks()).Release() // activity: the pool must stay for a full grace period
	clock.Advance(5 * time.Second)
	if p.closed.Load() {
		t.Fatal("closed although used within the grace period")
	}
	held := mustGet(t, m, cfg, r.hooks())
	clock.Advance(30 * time.Second)
	if p.closed.Load() {
		t.Fatal("closed while held")
	}
	held.Release()
	clock.Advance(9 * time.Second)
	if p.closed.Load() {
		t.Fatal("closed less than a grace period after the last release")
	}
	clock.Advance(time.Second)
	if !p.closed.Load() || m.Len() != 0 {
		t.Fatalf("not closed after being idle for the grace period (closed=%v)", p.closed.Load())
	}
	if r.creates.Load() != 1 {
		t.Fatalf("creates = %d, want 1", r.creates.Load())
	}
	closeAll(t, m)
}

func TestKeepIdle(t *testing.T) {
	r := &recorder{}
	m := New(Options{KeepIdle: true})
	cfg := Prepare(testConfig{name: "a"})
	l := mustGet(t, m, cfg, r.hooks())
	p := l.Pool()
	l.Release()
	if p.closed.Load() || m.Len() != 1 {
		t.Fatal("KeepIdle pool closed by its last release")
	}
	closeAll(t, m)
	if !p.closed.Load() {
		t.Fatal("CloseAll left the pool open")
	}
}

func TestCloseAll(t *testing.T) {
	r := &recorder{}
	m := New(Options{KeepIdle: true})
	held := mustGet(t, m, Prepare(testConfig{name: "held"}), r.hooks())
	mustGet(t, m, Prepare(testConfig{name: "idle"}), r.hooks()).Release()
	closeAll(t, m)
	if r.closes.Load() != 2 {
		t.Fatalf("closes = %d, want 2 (held pools are closed too)", r.closes.Load())
	}
	held.Release() // no-op on a closed pool
	if r.closes.Load() != 2 {
		t.Fatal("Release after CloseAll closed again")
	}
	if _, err := Get(context.Background(), m, testConfig{name: "held"}, r.hooks()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after CloseAll: %v, want ErrClosed", err)
	}
	if _, err := m.Remove(context.Background(), testConfig{name: "held"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Remove after CloseAll: %v, want ErrClosed", err)
	}
	if err := m.CloseAll(context.Background()); err != nil {
		t.Fatalf("second CloseAll: %v", err)
	}
	if m.Len() != 0 || m.Stats() != nil {
		t.Fatal("closed manager reports pools")
	}
}

func TestCloseAllRacesInFlightCreates(t *testing.T) {
	const n = 10
	r := &recorder{started: make(chan struct{}, n)}
	gate := make(chan struct{})
	r.onCreate = func(ctx context.Context, _ int64) { <-gate } // ignores ctx, like a slow driver
	m := New(Options{KeepIdle: true})
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		cfg := Prepare(testConfig{name: fmt.Sprint(i)})
		go func() { _, err := Get(context.Background(), m, cfg, r.hooks()); errs <- err }()
	}
	for i := 0; i < n; i++ {
		<-r.started
	}
	closed := make(chan error, 1)
	go func() { closed <- m.CloseAll(context.Background()) }()
	// CloseAll must wait for the creates in flight.
	select {
	case err := <-closed:
		t.Fatalf("CloseAll returned (%v) before the creates in flight finished", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(gate)
	if err := <-closed; err != nil {
		t.Fatalf("CloseAll: %v", err)
	}
	for i := 0; i < n; i++ {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Fatalf("Get racing CloseAll: %v, want ErrClosed", err)
		}
	}
	if c, cl := r.creates.Load(), r.closes.Load(); c != n || cl != n {
		t.Fatalf("creates=%d closes=%d: every pool created in flight must be closed", c, cl)
	}
	for _, p := range r.all() {
		if !p.closed.Load() {
			t.Fatalf("pool %d leaked", p.id)
		}
	}
}

func TestCloseAllWithContextDeadline(t *testing.T) {
	gate := make(chan struct{})
	r := &recorder{started: make(chan struct{}, 1)}
	r.onCreate = func(context.Context, int64) { <-gate }
	m := New(Options{})
	errs := make(chan error, 1)
	go func() { _, err := Get(context.Background(), m, testConfig{name: "a"}, r.hooks()); errs <- err }()
	<-r.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.CloseAll(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("CloseAll with an ended context and a create in flight: %v, want context.Canceled", err)
	}
	close(gate)
	if err := <-errs; !errors.Is(err, ErrClosed) {
		t.Fatalf("Get: %v, want ErrClosed", err)
	}
	if r.closes.Load() != 1 {
		t.Fatal("the pool created after CloseAll gave up waiting was not closed")
	}
	closeAll(t, m) // waits for the first call
}

func TestRemove(t *testing.T) {
	r := &recorder{}
	m := New(Options{KeepIdle: true})
	cfg := testConfig{name: "a"}
	mustGet(t, m, cfg, r.hooks()).Release()
	other := mustGet(t, m, testConfig{name: "b"}, r.hooks())
	ok, err := m.Remove(context.Background(), cfg)
	if !ok || err != nil || m.Len() != 1 || r.closes.Load() != 1 {
		t.Fatalf("Remove = %v, %v; Len=%d closes=%d", ok, err, m.Len(), r.closes.Load())
	}
	if ok, _ := m.Remove(context.Background(), cfg); ok {
		t.Fatal("second Remove found a pool")
	}
	// Removing a held pool retires it: new Gets get a new pool, the holder keeps the old one
	// until its Release closes it.
	l := mustGet(t, m, cfg, r.hooks())
	if ok, _ := m.Remove(context.Background(), Prepare(cfg)); !ok {
		t.Fatal("Remove of a held pool found nothing")
	}
	if l.Pool().closed.Load() {
		t.Fatal("Remove closed a held pool")
	}
	l2 := mustGet(t, m, cfg, r.hooks())
	if l2.Pool() == l.Pool() {
		t.Fatal("a removed pool was handed out")
	}
	l.Release()
	if !l.Pool().closed.Load() {
		t.Fatal("last Release of a removed pool did not close it")
	}
	l2.Release()
	other.Release()
	closeAll(t, m)
}

func TestIdentity(t *testing.T) {
	r := &recorder{}
	m := New(Options{KeepIdle: true})
	base := testConfig{name: "a", password: "one"}
	get := func(cfg Config) *fakePool { l := mustGet(t, m, cfg, r.hooks()); l.Release(); return l.Pool() }
	p := get(base)
	if get(testConfig{name: "a", password: "one"}) != p {
		t.Fatal("equal configs got different pools")
	}
	if get(testConfig{name: "a", password: "two"}) == p {
		t.Fatal("different passwords share a pool")
	}
	if get(Prepare(base, WithScope("tenant-1"))) == p || get(Prepare(base, WithScope("tenant-1"))) != get(Prepare(base, WithScope("tenant-1"))) {
		t.Fatal("scope not part of the identity")
	}
	// Another pool type for the same config is another pool.
	other := Hooks[string]{Create: func(context.Context, Config) (string, error) { return "s", nil }}
	ls, err := Get(context.Background(), m, base, other)
	if err != nil || ls.Pool() != "s" {
		t.Fatalf("Get with another pool type: %v", err)
	}
	ls.Release()
	if m.Len() != 4 {
		t.Fatalf("Len = %d, want 4 pools", m.Len())
	}
	st := m.Stats()
	if st[0].Scope != "" || st[len(st)-1].Scope != "tenant-1" && st[len(st)-2].Scope != "tenant-1" {
		t.Fatalf("scopes in stats: %+v", st)
	}
	closeAll(t, m)
}

func TestKeyEncodingHasNoCollisions(t *testing.T) {
	keys := map[Key]string{}
	add := func(name string, k Key) {
		if prev, ok := keys[k]; ok {
			t.Fatalf("%s and %s have the same key", prev, name)
		}
		keys[k] = name
	}
	add("a|bc", NewKeyBuilder("x").String("a", "bc").Key())
	add("ab|c", NewKeyBuilder("x").String("ab", "c").Key())
	add("list a,b", NewKeyBuilder("x").Strings("h", []string{"a", "b"}).Key())
	add("list a|b", NewKeyBuilder("x").Strings("h", []string{"a,b"}).Key())
	add("list ab", NewKeyBuilder("x").Strings("h", []string{"ab"}).Key())
	add("empty list", NewKeyBuilder("x").Strings("h", nil).Key())
	add("secret ''", NewKeyBuilder("x").Secret("p", "").Key())
	add("string p=''", NewKeyBuilder("x").String("p", "").Key())
	add("int 1", NewKeyBuilder("x").Int("n", 1).Key())
	add("string 1", NewKeyBuilder("x").String("n", "1").Key())
	add("backend y", NewKeyBuilder("y").String("a", "bc").Key())
	pg := NewPostgresPoolConfig()
	pg.Password = "hunter2"
	add("pg", pg.Key())
	pg.Password = "hunter3"
	add("pg2", pg.Key())
	if k := pg.Key(); strings.Contains(k.String(), "hunter") || k.IsZero() {
		t.Fatalf("key %s", k)
	}
}

func TestNoSecretsInStatsLogsErrors(t *testing.T) {
	const secret = "S3cr3t/P@ss:w0rd?"
	cfg := NewPostgresPoolConfig()
	cfg.Password = secret
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	text := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, lg := range []*slog.Logger{logger, text} {
		r := &recorder{
			createErr: func(n int64) error {
				if n == 1 {
					return fmt.Errorf("cannot connect to %s", cfg.ConnectionString())
				}
				return nil
			},
			validateErr: func(*fakePool) error { return errors.New("password " + secret + " rejected") },
			closeErr:    func(*fakePool) error { return errors.New("close: " + secret) },
		}
		m := New(Options{Logger: lg, KeepIdle: true})
		var errs []error
		_, err := Get(context.Background(), m, cfg, r.hooks())
		errs = append(errs, err)
		l, err := Get(context.Background(), m, cfg, r.hooks())
		if err != nil {
			t.Fatal(err)
		}
		l.ReportBroken(fmt.Errorf("query with %s failed", secret))
		lg.Info("config", "cfg", cfg)
		l2, err := Get(context.Background(), m, cfg, r.hooks()) // validation fails, recreated
		if err != nil {
			t.Fatal(err)
		}
		stats := fmt.Sprintf("%+v %v %#v", m.Stats(), cfg, cfg)
		l.Release()
		l2.ReportBroken(errors.New(secret))
		errs = append(errs, m.CloseAll(context.Background()))
		for _, s := range []string{buf.String(), stats, errors.Join(errs...).Error()} {
			for _, form := range []string{secret, "S3cr3t", "S3cr3t%2FP%40ss%3Aw0rd%3F"} {
				if strings.Contains(s, form) {
					t.Fatalf("secret %q leaked in:\n%s", form, s)
				}
			}
		}
		for _, want := range []string{"pool created", "pool invalid", "pool recreated", "pool close failed", "xxxxx"} {
			if !strings.Contains(buf.String(), want) {
				t.Fatalf("log lacks %q:\n%s", want, buf.String())
			}
		}
		if !strings.Contains(stats, "LastError:password xxxxx rejected") {
			t.Fatalf("stats lack the redacted last error: %s", stats)
		}
		buf.Reset()
	}
}

func TestHookPanicDoesNotHangWaiters(t *testing.T) {
	r := &recorder{started: make(chan struct{}, 2), createGate: make(chan struct{})}
	r.createErr = func(n int64) error {
		if n == 1 {
			panic("driver bug")
		}
		return nil
	}
	m := New(Options{})
	cfg := Prepare(testConfig{name: "a"})
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		_, _ = Get(context.Background(), m, cfg, r.hooks())
	}()
	<-r.started
	waiter := make(chan error, 1)
	var wl Lease[*fakePool]
	go func() {
		var err error
		wl, err = Get(context.Background(), m, cfg, r.hooks())
		waiter <- err
	}()
	close(r.createGate)
	if p := <-panicked; p != "driver bug" {
		t.Fatalf("leader recovered %v, want the hook's panic", p)
	}
	if err := <-waiter; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	wl.Release()
	closeAll(t, m)
}

func TestGetErrors(t *testing.T) {
	m := New(Options{})
	defer closeAll(t, m)
	if _, err := Get(context.Background(), m, testConfig{}, Hooks[int]{}); !errors.Is(err, ErrNoCreateHook) {
		t.Fatalf("nil Create: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := &recorder{}
	if _, err := Get(ctx, m, testConfig{}, r.hooks()); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
	bad := NewPostgresPoolConfig()
	bad.Port = 0
	_, err := Get(context.Background(), m, bad, r.hooks())
	if !errors.Is(err, ErrInvalidConfig) || err.Error() != "port: must be between 1 and 65535, got 0" {
		t.Fatalf("invalid config: %v", err)
	}
	if Unreachable(context.Background(), err) {
		t.Fatalf("invalid config: Unreachable(%v) = true", err)
	}
	// A Create hook that rejects its config is not unreachable either.
	cfgErr := &recorder{createErr: func(int64) error { return &ConfigError{Key: "tls", Msg: "bad"} }}
	_, err = Get(context.Background(), m, testConfig{name: "cfg"}, cfgErr.hooks())
	if !errors.Is(err, ErrCreate) || Unreachable(context.Background(), err) {
		t.Fatalf("config rejected by Create: %v (ErrCreate %v, Unreachable %v), want ErrCreate and not Unreachable", err, errors.Is(err, ErrCreate), Unreachable(context.Background(), err))
	}
	if r.attempts.Load() != 0 {
		t.Fatal("Create called for an invalid config")
	}
}

func TestCreateRetry(t *testing.T) {
	r := &recorder{createErr: func(n int64) error {
		if n < 3 {
			return MarkTransient(errors.New("starting up"))
		}
		return nil
	}}
	m := New(Options{CreateRetry: &RetryPolicy{MaxAttempts: 5, InitialInterval: time.Millisecond}})
	l := mustGet(t, m, testConfig{name: "a"}, r.hooks())
	if r.attempts.Load() != 3 {
		t.Fatalf("attempts = %d, want 3", r.attempts.Load())
	}
	l.Release()
	closeAll(t, m)
}
