package pool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Named defaults for Options.
const (
	// DefaultValidateInterval is how long a validated pool is trusted before the next Get
	// validates it again, when Options.ValidateInterval is 0.
	DefaultValidateInterval = 30 * time.Second
	// DefaultCloseTimeout bounds Hooks.Close when it runs from Release, an idle timer or a failed
	// validation, when Options.CloseTimeout is 0.
	DefaultCloseTimeout = 30 * time.Second
)

// Options configure a Manager. The zero value is usable: pools are validated at most every
// DefaultValidateInterval and closed by their last Release.
type Options struct {
	// ValidateInterval is how long a pool stays trusted after it was created or validated. The
	// first Get after that runs Hooks.Validate before handing the pool out. 0 means
	// DefaultValidateInterval; a negative value turns periodic validation off, leaving only the
	// validation that follows Lease.ReportBroken.
	ValidateInterval time.Duration
	// IdleGrace keeps a pool without leases open for this long before closing it (it is closed
	// after being idle for at least IdleGrace and at most about twice that). 0 means the last
	// Release closes the pool at once.
	IdleGrace time.Duration
	// KeepIdle keeps pools without leases open until Remove or CloseAll, like the seed's
	// manager. It overrides IdleGrace.
	KeepIdle bool
	// CloseTimeout bounds Hooks.Close when it is called without a caller's context (from
	// Release, an idle timer or after a failed validation). 0 means DefaultCloseTimeout; a
	// negative value means no bound.
	CloseTimeout time.Duration
	// CreateRetry, when not nil, retries Hooks.Create on transient errors with this policy.
	CreateRetry *RetryPolicy
	// Logger receives debug records for create, validate, recreate and close, and warnings for
	// invalid pools and failed closes. Records never contain secrets. nil means slog.Default().
	Logger *slog.Logger
	// Clock is the time source; nil means the real clock.
	Clock Clock
}

// Hooks are the functions that make, check and dispose of one kind of pool (the seed's
// create_pool_func, validate_pool_func and close_pool_func). P is the pool type: a
// *pgxpool.Pool, an Elasticsearch client, an S3 client, anything goroutine-safe.
type Hooks[P any] struct {
	// Create makes a new pool from cfg (the snapshot taken by Prepare). It must honour ctx and
	// must not return a live pool together with an error. Required.
	Create func(ctx context.Context, cfg Config) (P, error)
	// Validate checks a pool before it is reused; an error makes the Manager close the pool and
	// create a new one. nil means pools are trusted until reported broken, and a broken report
	// recreates the pool directly.
	Validate func(ctx context.Context, pool P) error
	// Close disposes of a pool. nil means nothing needs to be done.
	Close func(ctx context.Context, pool P) error
	// Stats, when not nil, returns the pool's own statistics for Manager.Stats (e.g. an adapter
	// around pgxpool's Stat). When nil, pools implementing StatsProvider are asked instead.
	Stats func(pool P) any
}

// StatsProvider is an optional interface for pool values that report their own statistics.
type StatsProvider interface {
	PoolStats() any
}

// PoolStat is a secret-free snapshot of one live pool.
type PoolStat struct {
	ID                 string        // short form of the config Key
	Backend            string        // backend kind, e.g. "postgres"
	Config             string        // redacted description of the config that created the pool
	Scope              string        // scope given with WithScope, or ""
	Type               string        // Go type of the pool value
	Created            time.Time     // when the current pool was created
	Age                time.Duration // time since Created
	Holders            int           // leases currently held on the current pool
	Retired            int           // replaced or removed pools still waiting for their holders
	Creates            uint64        // pools created for this identity
	CreateFailures     uint64        // failed Hooks.Create calls
	Validations        uint64        // successful validations
	ValidationFailures uint64        // validations that found the pool invalid
	LastValidated      time.Time     // last successful validation (or creation)
	LastError          string        // last create/validate/broken error, secrets redacted
	PoolStats          any           // the pool's own statistics, when it offers them
}

// Manager hands out shared pools keyed by config identity, scope and pool type. It is safe for
// concurrent use. Create one with New and close it with CloseAll.
type Manager struct {
	opts  Options
	log   *slog.Logger
	clock Clock

	entries atomic.Pointer[map[mapKey]entryI] // copy on write, nil once closed
	closed  atomic.Bool

	mu        sync.Mutex // guards the fields below and writes of entries
	inflight  int
	drained   chan struct{}
	isDrained bool
	closeDone chan struct{}
}

// New returns a Manager with the given options.
func New(opts Options) *Manager {
	if opts.ValidateInterval == 0 {
		opts.ValidateInterval = DefaultValidateInterval
	}
	if opts.CloseTimeout == 0 {
		opts.CloseTimeout = DefaultCloseTimeout
	}
	m := &Manager{opts: opts, log: opts.Logger, clock: opts.Clock, drained: make(chan struct{})}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.clock == nil {
		m.clock = realClock{}
	}
	es := map[mapKey]entryI{}
	m.entries.Store(&es)
	return m
}

type mapKey struct {
	key   Key
	scope string
	typ   reflect.Type
}

type entryI interface {
	shutdown(ctx context.Context) error
	remove(ctx context.Context) (bool, error)
	stat(now time.Time) (PoolStat, bool)
	isLive() bool
}

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

type flight struct {
	done  chan struct{}
	err   error // leader's create error, shared with waiters
	retry bool  // waiters should look again instead of returning err
}

type entry[P any] struct {
	m        *Manager
	mk       mapKey
	cfg      Config
	backend  string
	redacted string
	typeName string

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

// Lease is a hold on a shared pool. It is a small value: copy it freely; Release takes effect
// once whichever copy calls it first. The zero Lease is inert.
type Lease[P any] struct {
	inst *instance[P]
	tok  *token
	gen  uint64
}

type token struct{ gen atomic.Uint64 }

var tokens = sync.Pool{New: func() any { return new(token) }}

func (inst *instance[P]) lease() Lease[P] {
	t := tokens.Get().(*token)
	return Lease[P]{inst: inst, tok: t, gen: t.gen.Add(1)}
}

// Pool returns the pool this lease holds (the zero P for the zero Lease). Do not use it after
// Release.
func (l Lease[P]) Pool() P {
	if l.inst == nil {
		var zero P
		return zero
	}
	return l.inst.pool
}

// Release gives the lease back. Calling it again, on any copy, does nothing. The last Release
// of a pool closes it unless the Manager keeps idle pools (Options.KeepIdle, IdleGrace).
func (l Lease[P]) Release() {
	if l.tok == nil || !l.tok.gen.CompareAndSwap(l.gen, l.gen+1) {
		return
	}
	tokens.Put(l.tok)
	l.inst.release()
}

// ReportBroken tells the Manager the pool failed with err: the next Get validates it (or, when
// there is no Validate hook, replaces it) before handing it out again. It does not release the
// lease, and does nothing on a released lease.
func (l Lease[P]) ReportBroken(err error) {
	if l.tok == nil || l.tok.gen.Load() != l.gen {
		return
	}
	l.inst.reportBroken(err)
}

// Get returns a lease on the pool for cfg, creating it with hooks.Create when there is none
// (concurrent callers wait for a single creation) and validating it first when it is due.
// Pass a *Prepared (see Prepare) for a warm path without hashing or allocation. Pools are
// shared by configs with the same Key, the same scope and the same pool type P; the first
// caller's hooks create the pool and are used to validate and close it.
//
// Errors: ErrClosed after CloseAll, the caller's ctx.Err(), a config error wrapping
// ErrInvalidConfig, or the create error wrapping ErrCreate (secrets redacted from its text,
// the original kept for errors.Is/As; see Unreachable). A failed create is not cached.
func Get[P any](ctx context.Context, m *Manager, cfg Config, hooks Hooks[P]) (Lease[P], error) {
	if err := ctx.Err(); err != nil {
		return Lease[P]{}, err
	}
	p, ok := cfg.(*Prepared)
	if !ok {
		// Slower path: hash the config, look it up, and prepare it fully only on a miss.
		if es := m.entries.Load(); es != nil {
			if ei := (*es)[mapKey{cfg.Key(), "", reflect.TypeFor[P]()}]; ei != nil {
				if inst := ei.(*entry[P]).cur.Load(); inst != nil && inst.tryAcquire(blockFast) {
					return inst.lease(), nil
				}
			}
		}
		p = Prepare(cfg)
	} else if h := p.hint.Load(); h != nil && h.m == m && h.typ == reflect.TypeFor[P]() {
		// A dead entry never gets a pool again, so a stale hint only sends us to the slow path.
		if inst := h.e.(*entry[P]).cur.Load(); inst != nil && inst.tryAcquire(blockFast) {
			return inst.lease(), nil
		}
	} else if es := m.entries.Load(); es != nil {
		if ei := (*es)[mapKey{p.key, p.scope, reflect.TypeFor[P]()}]; ei != nil {
			if inst := ei.(*entry[P]).cur.Load(); inst != nil && inst.tryAcquire(blockFast) {
				return inst.lease(), nil
			}
		}
	}
	return getSlow(ctx, m, p, hooks)
}

func getSlow[P any](ctx context.Context, m *Manager, p *Prepared, hooks Hooks[P]) (Lease[P], error) {
	if hooks.Create == nil {
		return Lease[P]{}, ErrNoCreateHook
	}
	typ := reflect.TypeFor[P]()
	mk := mapKey{p.key, p.scope, typ}
	for {
		e, err := entryFor[P](m, mk, p, typ)
		if err != nil {
			return Lease[P]{}, err
		}
		if h := p.hint.Load(); h == nil || h.e != entryI(e) {
			p.hint.Store(&entryHint{m: m, typ: typ, e: e})
		}
		l, retry, err := e.acquire(ctx, hooks)
		if !retry {
			return l, err
		}
	}
}

func entryFor[P any](m *Manager, mk mapKey, p *Prepared, typ reflect.Type) (*entry[P], error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	es := m.entries.Load()
	if es == nil || m.closed.Load() {
		return nil, ErrClosed
	}
	if ei := (*es)[mk]; ei != nil {
		return ei.(*entry[P]), nil
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	e := &entry[P]{
		m: m, mk: mk, cfg: p.cfg, backend: p.backend, redacted: p.redacted,
		typeName: typ.String(), live: map[*instance[P]]struct{}{},
	}
	next := make(map[mapKey]entryI, len(*es)+1)
	for k, v := range *es {
		next[k] = v
	}
	next[mk] = e
	m.entries.Store(&next)
	return e, nil
}

func (m *Manager) removeEntry(mk mapKey, e entryI) {
	m.mu.Lock()
	defer m.mu.Unlock()
	es := m.entries.Load()
	if es == nil || (*es)[mk] != e {
		return
	}
	next := make(map[mapKey]entryI, len(*es))
	for k, v := range *es {
		if k != mk {
			next[k] = v
		}
	}
	m.entries.Store(&next)
}

// beginFlight registers an in-flight create or validation so CloseAll can wait for it.
func (m *Manager) beginFlight() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed.Load() {
		return false
	}
	m.inflight++
	return true
}

func (m *Manager) endFlight() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inflight--
	if m.closed.Load() && m.inflight == 0 && !m.isDrained {
		m.isDrained = true
		close(m.drained)
	}
}

func (m *Manager) closeCtx() (context.Context, context.CancelFunc) {
	if m.opts.CloseTimeout < 0 {
		return context.Background(), func() {}
	}
	return context.WithTimeout(context.Background(), m.opts.CloseTimeout)
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

// hookError carries a hook's error with secrets removed from its text.
type hookError struct {
	msg    string
	err    error
	create bool // the Create hook failed: errors.Is(h, ErrCreate)
}

func (h *hookError) Error() string { return h.msg }
func (h *hookError) Unwrap() error { return h.err }

// Is reports whether target is ErrCreate and h is a failed create.
func (h *hookError) Is(target error) bool { return h.create && target == ErrCreate }

// callHook runs fn, turning a panic into an error so waiters are never left hanging; the
// panic value is returned for re-panicking once bookkeeping is done.
func callHook(fn func() error) (err error, panicked any) {
	defer func() {
		if r := recover(); r != nil {
			panicked = r
			err = fmt.Errorf("pool: hook panicked: %v", r)
		}
	}()
	return fn(), nil
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
			v, err := hooks.Create(ctx, e.cfg)
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
	inst.closeErr = err
	close(inst.done)
	return err
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

func (e *entry[P]) stat(now time.Time) (PoolStat, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	inst := e.cur.Load()
	if inst == nil {
		return PoolStat{}, false
	}
	s := inst.state.Load()
	if s&blockAny != 0 {
		return PoolStat{}, false
	}
	st := PoolStat{
		ID: e.mk.key.String(), Backend: e.backend, Config: e.redacted, Scope: e.mk.scope,
		Type: e.typeName, Created: inst.created, Age: now.Sub(inst.created),
		Holders: int(s & holdersMask), Retired: len(e.live) - 1,
		Creates: e.creates, CreateFailures: e.createFailures,
		Validations: e.validations, ValidationFailures: e.validationFailures,
		LastValidated: inst.validated, LastError: e.lastErr,
	}
	switch {
	case inst.hooks.Stats != nil:
		st.PoolStats = inst.hooks.Stats(inst.pool)
	default:
		if sp, ok := any(inst.pool).(StatsProvider); ok {
			st.PoolStats = sp.PoolStats()
		}
	}
	return st, true
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

// Len returns the number of live pools (the seed's get_pool_count).
func (m *Manager) Len() int {
	es := m.entries.Load()
	if es == nil {
		return 0
	}
	n := 0
	for _, e := range *es {
		if e.isLive() {
			n++
		}
	}
	return n
}

// Stats returns a secret-free snapshot of every live pool, sorted by backend, config and
// scope (the seed's get_pool_info).
func (m *Manager) Stats() []PoolStat {
	es := m.entries.Load()
	if es == nil {
		return nil
	}
	now := m.clock.Now()
	out := make([]PoolStat, 0, len(*es))
	for _, e := range *es {
		if st, ok := e.stat(now); ok {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Backend != b.Backend {
			return a.Backend < b.Backend
		}
		if a.Config != b.Config {
			return a.Config < b.Config
		}
		if a.Scope != b.Scope {
			return a.Scope < b.Scope
		}
		return a.Type < b.Type
	})
	return out
}
