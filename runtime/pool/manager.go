package pool

import (
	"context"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
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
	// TracerProvider is what the backends trace the clients they create through this
	// Manager with, and their repositories' calls by default (see docs/observability.md);
	// nil means otel's global provider, a no-op provider turns tracing off.
	TracerProvider trace.TracerProvider
	// MeterProvider receives the pool metrics (MetricPoolsOpen, ...) and, by default, the
	// repositories' metrics; nil means otel's global provider, a no-op provider turns
	// metrics off.
	MeterProvider metric.MeterProvider
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
	ctrs      map[string]*counters // per backend

	metricsReg metric.Registration // nil when metrics are off
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
	m.registerMetrics()
	return m
}

// mapKey is the identity a Manager keys its entries by.
type mapKey struct {
	key   Key
	scope string
	typ   reflect.Type
}

// entryI is an *entry[P] of any P, as the Manager's map holds it.
type entryI interface {
	shutdown(ctx context.Context) error
	remove(ctx context.Context) (bool, error)
	stat(now time.Time) (PoolStat, bool)
	isLive() bool
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
		m: m, mk: mk, cfg: p.cfg, backend: p.backend, redacted: p.redacted, ctr: m.countersFor(p.backend),
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
