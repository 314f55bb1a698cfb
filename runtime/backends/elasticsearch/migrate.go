package elasticsearch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/pool"
)

// Defaults of the migrator's options.
const (
	// DefaultStateIndex is the index holding what every package applied, and its locks.
	DefaultStateIndex = "repokit-migrations"
	// DefaultLockLease is how long a migrator's lock lasts unless renewed; a migrator that
	// died leaves a lock the next one takes over once it has expired.
	DefaultLockLease = 30 * time.Second
	// DefaultCopyBatch is the number of documents per page and _bulk request of a copy.
	DefaultCopyBatch = 2000
)

// migrateOptions configure a Migrator.
type migrateOptions struct {
	stateIndex string
	lease      time.Duration
	batch      int
	progress   func(migrate.Progress)
	owner      string
	unique     map[string]string // record → unique index given with WithRecordUniqueIndex
	grace      time.Duration
}

// WithOlderCodeGrace sets how long Apply waits after recording a version over a cluster
// that had one (default migrate.DefaultOlderCodeGrace; 0 for none, e.g. when no process of
// the previous version runs): drivers of that version still running read the applied
// version again at most every Options.OlderCodeRecheck and from then on keep what they do
// not know.
func WithOlderCodeGrace(d time.Duration) MigrateOption {
	return func(o *migrateOptions) { o.grace = d }
}

// MigrateOption configures a Migrator (NewMigrator).
type MigrateOption func(*migrateOptions)

// WithProgress reports the progress of long steps (copies, backfills, unique checks).
func WithProgress(f func(migrate.Progress)) MigrateOption {
	return func(o *migrateOptions) { o.progress = f }
}

// WithStateIndex names the index holding the applied versions and locks (default
// DefaultStateIndex).
func WithStateIndex(name string) MigrateOption {
	return func(o *migrateOptions) { o.stateIndex = name }
}

// WithRecordUniqueIndex tells the migrator that the repositories of record use
// WithUniqueIndex(name): the reservations its migrations delete (a dropped unique field,
// a dropped record) are in that index, and a change_index leaves it where it is. Without
// it a record's unique index is its index name followed by UniqueIndexSuffix.
func WithRecordUniqueIndex(record, name string) MigrateOption {
	return func(o *migrateOptions) {
		if o.unique == nil {
			o.unique = map[string]string{}
		}
		o.unique[record] = name
	}
}

// uniqueIndex returns the unique index of record, whose index is index.
func (m *Migrator) uniqueIndex(record, index string) string {
	if u, ok := m.o.unique[record]; ok {
		return u
	}
	return index + UniqueIndexSuffix
}

// WithLockLease sets how long the apply lock lasts unless renewed (default
// DefaultLockLease); it is renewed every third of it while Apply runs.
func WithLockLease(d time.Duration) MigrateOption {
	return func(o *migrateOptions) { o.lease = d }
}

// WithCopyBatch sets the documents per page and per _bulk request of copies (default
// DefaultCopyBatch).
func WithCopyBatch(n int) MigrateOption {
	return func(o *migrateOptions) { o.batch = n }
}

// Migrator applies a package's migrations to an Elasticsearch cluster (see
// docs/migrations-elasticsearch.md). It implements migrate.Migrator.
type Migrator struct {
	pkg   string
	h     migrate.History
	o     migrateOptions
	lease pool.Lease[*Client]
	c     *Client
	once  sync.Once
}

var _ migrate.Migrator = (*Migrator)(nil)

// NewMigrator loads the migrations of package pkg from fsys (its migrations directory) and
// takes a lease on the client for cfg from m, held until Close.
func NewMigrator(ctx context.Context, m *pool.Manager, cfg pool.Config, pkg string, fsys fs.FS, opts ...MigrateOption) (*Migrator, error) {
	if pkg == "" {
		return nil, errors.New("elasticsearch: migrator: no package name")
	}
	o := migrateOptions{stateIndex: DefaultStateIndex, lease: DefaultLockLease, batch: DefaultCopyBatch, grace: migrate.DefaultOlderCodeGrace}
	for _, f := range opts {
		f(&o)
	}
	if o.lease <= 0 || o.batch < 1 || o.stateIndex == "" {
		return nil, errors.New("elasticsearch: migrator: the lock lease and copy batch must be positive and the state index named")
	}
	o.owner = newOwner()
	h, err := migrate.Load(fsys)
	if err != nil {
		return nil, fmt.Errorf("elasticsearch: migrations of %s: %w", pkg, err)
	}
	if _, err := pool.ConfigAs[pool.ElasticsearchPoolConfig](cfg); err != nil {
		return nil, err
	}
	lease, err := pool.Get(ctx, m, cfg, Hooks())
	if err != nil {
		return nil, err
	}
	return &Migrator{pkg: pkg, h: h, o: o, lease: lease, c: lease.Pool()}, nil
}

// Close releases the client lease; safe to call more than once.
func (m *Migrator) Close() error {
	m.once.Do(m.lease.Release)
	return nil
}

// Plan returns the steps Apply would run for the pending migrations, without changing the
// cluster.
func (m *Migrator) Plan(ctx context.Context) ([]migrate.Step, error) {
	cur, err := m.current(ctx)
	if err != nil {
		return nil, err
	}
	var out []migrate.Step
	for _, mig := range m.h.After(cur) {
		acts, err := m.actions(mig)
		if err != nil {
			return nil, err
		}
		for _, a := range acts {
			out = append(out, migrate.Step{Version: mig.Version, Backend: "elasticsearch", Text: a.text, Online: a.online})
		}
	}
	return out, nil
}

// Apply applies the pending migrations in order under the package's lock and returns the
// versions it applied (none when another migrator applied them first).
//
// Versions applied over a cluster that had one are followed by a wait of the grace
// (WithOlderCodeGrace) from the first one recorded, so that drivers of the previous version
// still running read the new version before code started after Apply writes.
func (m *Migrator) Apply(ctx context.Context) ([]int64, error) {
	done, recorded, err := m.apply(ctx)
	if err == nil {
		err = migrate.WaitGrace(ctx, recorded, m.o.grace)
	}
	return done, err
}

// apply is Apply without the grace; recorded is when it recorded its first version over a
// cluster that had one (zero otherwise).
func (m *Migrator) apply(ctx context.Context) (done []int64, recorded time.Time, err error) {
	if err := m.ensureStateIndex(ctx); err != nil {
		return nil, recorded, err
	}
	lk, err := m.lock(ctx)
	if err != nil {
		return nil, recorded, err
	}
	actx, cancel := context.WithCancelCause(ctx)
	stop := lk.keep(actx, cancel)
	defer func() {
		stop()
		cancel(nil)
		lk.release()
	}()
	cur, err := m.current(actx)
	if err != nil {
		return nil, recorded, err
	}
	for _, mig := range m.h.After(cur) {
		acts, err := m.actions(mig)
		if err != nil {
			return done, recorded, err
		}
		for _, a := range acts {
			if a.run == nil {
				continue
			}
			if err := a.run(actx); err != nil {
				if c := context.Cause(actx); c != nil && ctx.Err() == nil {
					err = c
				}
				return done, recorded, fmt.Errorf("elasticsearch: migration %s: %s: %w", mig.BaseName(), a.text, err)
			}
		}
		if err := m.markApplied(actx, mig); err != nil {
			return done, recorded, err
		}
		done = append(done, mig.Version)
		if cur > 0 && recorded.IsZero() {
			recorded = time.Now()
		}
	}
	return done, recorded, nil
}

// Status reports the applied and pending versions and how the live indices differ from
// the state of the applied version. It changes nothing.
func (m *Migrator) Status(ctx context.Context) (migrate.Status, error) {
	var st migrate.Status
	applied, err := m.applied(ctx)
	if err != nil {
		return st, err
	}
	st.Applied = applied
	cur := contiguous(applied)
	st.Pending = m.h.After(cur)
	if cur == 0 {
		return st, nil
	}
	if cur == m.h.Version() {
		newest, err := m.newestApplied(ctx)
		if err != nil {
			return st, err
		}
		if newest > cur {
			st.Drift = append(st.Drift, fmt.Sprintf("the store is at version %d, newer than this history (%d)", newest, cur))
		}
	}
	state := m.h.State(cur)
	for i := range state.Records {
		r := &state.Records[i]
		d, err := m.drift(ctx, r)
		if err != nil {
			return st, err
		}
		st.Drift = append(st.Drift, d...)
	}
	return st, nil
}

// drift lists the differences of r's alias and mapping from the state.
func (m *Migrator) drift(ctx context.Context, r *migrate.Record) ([]string, error) {
	kind, _, err := m.resolve(ctx, r.Index)
	if err != nil {
		return nil, err
	}
	switch kind {
	case targetNone:
		return []string{fmt.Sprintf("%s: index %q does not exist", r.Name, r.Index)}, nil
	case targetIndex:
		return []string{fmt.Sprintf("%s: %q is an index, not an alias over a versioned index", r.Name, r.Index)}, nil
	}
	live, err := liveMapping(ctx, m.c, r.Index)
	if err != nil {
		return nil, err
	}
	want, err := decodeJSON(esdialect.RecordMapping(r))
	if err != nil {
		return nil, err
	}
	var out []string
	// The write token missing in an index made by an earlier version is no drift: opening
	// a repository on the index adds it (see ensureIndex).
	_, diffs := esdialect.SplitAdded(esdialect.Diff(want, live))
	for _, d := range diffs {
		out = append(out, fmt.Sprintf("%s (%s): %s", r.Name, r.Index, d.String()))
	}
	return out, nil
}

// current returns the newest version applied without gaps.
func (m *Migrator) current(ctx context.Context) (int64, error) {
	applied, err := m.applied(ctx)
	if err != nil {
		return 0, err
	}
	return contiguous(applied), nil
}

// contiguous returns the newest version v such that 1..v are all in applied (sorted).
func contiguous(applied []int64) int64 {
	var v int64
	for _, a := range applied {
		if a != v+1 {
			break
		}
		v = a
	}
	return v
}

// appliedVersion returns the newest version of package pkg's history (fsys) applied to the cluster, for
// constructors (WithMigrations) and tools; when the whole history is applied, a newer
// version applied by newer code, if any.
func appliedVersion(ctx context.Context, c *Client, stateIndex, pkg string, h migrate.History) (int64, error) {
	m := &Migrator{pkg: pkg, h: h, c: c, o: migrateOptions{stateIndex: stateIndex}}
	v, err := m.current(ctx)
	if err != nil || v < h.Version() {
		return v, err
	}
	newest, err := m.newestApplied(ctx)
	return max(v, newest), err
}
