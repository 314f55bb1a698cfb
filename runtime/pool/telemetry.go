package pool

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/repokit/repokit/runtime/internal/telemetry"
)

// Names of the pool metrics a Manager reports (observable instruments, read at collection
// time from the Manager's counters and Stats; attribute repokit.pool.backend).
const (
	MetricPoolsOpen          = "repokit.pool.open"                // gauge: live pools
	MetricLeasesHeld         = "repokit.pool.leases"              // gauge: leases held on live pools
	MetricCreates            = "repokit.pool.creates"             // counter: pools created
	MetricCreateFailures     = "repokit.pool.create_failures"     // counter: failed creates
	MetricValidations        = "repokit.pool.validations"         // counter: successful validations
	MetricValidationFailures = "repokit.pool.validation_failures" // counter: pools found invalid
	MetricRecreations        = "repokit.pool.recreations"         // counter: pools created to replace an invalid one
	MetricCloses             = "repokit.pool.closes"              // counter: pools closed
)

// AttrBackend is the backend attribute of the pool metrics, e.g. "postgres".
const AttrBackend = attribute.Key("repokit.pool.backend")

// counters are a Manager's cumulative event counts for one backend; unlike Stats they
// outlive the pools they count.
type counters struct {
	creates, createFailures, validations, validationFailures, recreations, closes atomic.Uint64
}

// counters returns the counters of backend, creating them. m.mu held.
func (m *Manager) countersFor(backend string) *counters {
	if m.ctrs == nil {
		m.ctrs = map[string]*counters{}
	}
	c := m.ctrs[backend]
	if c == nil {
		c = &counters{}
		m.ctrs[backend] = c
	}
	return c
}

// TracerProvider returns Options.TracerProvider: nil means otel's global provider.
// Backends instrument the clients they create through the Manager with it.
func (m *Manager) TracerProvider() trace.TracerProvider { return m.opts.TracerProvider }

// MeterProvider returns Options.MeterProvider: nil means otel's global provider.
func (m *Manager) MeterProvider() metric.MeterProvider { return m.opts.MeterProvider }

// Providers returns TracerProvider and MeterProvider, or nil and nil (otel's global
// providers) when m is nil: what a backend driver's Telemetry reports for the manager its
// lease came from, and (m from ManagerFrom) what a Create hook instruments its client with.
func (m *Manager) Providers() (trace.TracerProvider, metric.MeterProvider) {
	if m == nil {
		return nil, nil
	}
	return m.opts.TracerProvider, m.opts.MeterProvider
}

type managerKey struct{}

// ManagerFrom returns the Manager that is calling a Hooks.Create with ctx, or nil; a Create
// hook uses it to instrument the client it builds with the Manager's providers.
func ManagerFrom(ctx context.Context) *Manager {
	m, _ := ctx.Value(managerKey{}).(*Manager)
	return m
}

// Manager returns the Manager that handed out the lease (nil for the zero Lease).
func (l Lease[P]) Manager() *Manager {
	if l.inst == nil {
		return nil
	}
	return l.inst.e.m
}

// registerMetrics registers the pool metrics with the Manager's meter, when metrics are not
// turned off; CloseAll unregisters them.
func (m *Manager) registerMetrics() {
	mt := telemetry.NewMeter(m.opts.MeterProvider).Meter()
	if mt == nil {
		return
	}
	open, err1 := mt.Int64ObservableGauge(MetricPoolsOpen, metric.WithDescription("Live pools."), metric.WithUnit("{pool}"))
	leases, err2 := mt.Int64ObservableGauge(MetricLeasesHeld, metric.WithDescription("Leases held on live pools."), metric.WithUnit("{lease}"))
	type ctr struct {
		name, desc string
		get        func(*counters) uint64
		inst       metric.Int64ObservableCounter
	}
	ctrs := []ctr{
		{MetricCreates, "Pools created.", func(c *counters) uint64 { return c.creates.Load() }, nil},
		{MetricCreateFailures, "Failed pool creates.", func(c *counters) uint64 { return c.createFailures.Load() }, nil},
		{MetricValidations, "Successful pool validations.", func(c *counters) uint64 { return c.validations.Load() }, nil},
		{MetricValidationFailures, "Validations that found a pool invalid.", func(c *counters) uint64 { return c.validationFailures.Load() }, nil},
		{MetricRecreations, "Pools created to replace an invalid one.", func(c *counters) uint64 { return c.recreations.Load() }, nil},
		{MetricCloses, "Pools closed.", func(c *counters) uint64 { return c.closes.Load() }, nil},
	}
	obs := []metric.Observable{open, leases}
	for i := range ctrs {
		c, err := mt.Int64ObservableCounter(ctrs[i].name, metric.WithDescription(ctrs[i].desc), metric.WithUnit("{pool}"))
		if err != nil {
			m.log.Warn("pool: metric not registered", "metric", ctrs[i].name, "error", err.Error())
			return
		}
		ctrs[i].inst = c
		obs = append(obs, c)
	}
	if err1 != nil || err2 != nil {
		m.log.Warn("pool: metrics not registered")
		return
	}
	reg, err := mt.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		type agg struct{ open, leases int64 }
		per := map[string]*agg{}
		for _, st := range m.Stats() {
			a := per[st.Backend]
			if a == nil {
				a = &agg{}
				per[st.Backend] = a
			}
			a.open++
			a.leases += int64(st.Holders)
		}
		m.mu.Lock()
		snap := make(map[string]*counters, len(m.ctrs))
		for b, c := range m.ctrs {
			snap[b] = c
			if per[b] == nil {
				per[b] = &agg{}
			}
		}
		m.mu.Unlock()
		for b, a := range per {
			set := metric.WithAttributeSet(attribute.NewSet(AttrBackend.String(b)))
			o.ObserveInt64(open, a.open, set)
			o.ObserveInt64(leases, a.leases, set)
			if c := snap[b]; c != nil {
				for i := range ctrs {
					o.ObserveInt64(ctrs[i].inst, int64(ctrs[i].get(c)), set)
				}
			}
		}
		return nil
	}, obs...)
	if err != nil {
		m.log.Warn("pool: metrics not registered", "error", err.Error())
		return
	}
	m.metricsReg = reg
}

// unregisterMetrics undoes registerMetrics (CloseAll).
func (m *Manager) unregisterMetrics() {
	if m.metricsReg != nil {
		_ = m.metricsReg.Unregister()
	}
}
