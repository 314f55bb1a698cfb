package pool

import (
	"sort"
	"time"
)

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
