package s3

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// Migrator applies a package's migrations to the objects of one bucket and config prefix.
// It implements migrate.Migrator; docs/migrations-s3.md describes every step.
type Migrator struct {
	pkg    string
	h      migrate.History
	lease  pool.Lease[*Client]
	api    *s3.Client
	bucket string
	prefix string // the config's prefix, without slashes at the ends
	o      migrateOptions
	once   sync.Once
}

var _ migrate.Migrator = (*Migrator)(nil)

// MigrateOption configures a Migrator.
type MigrateOption func(*migrateOptions)

type migrateOptions struct {
	progress   func(migrate.Progress)
	conc       int
	lease      time.Duration
	poll       time.Duration
	rewriteAll bool
	noRewrite  bool
	chunk      int
	prefixes   map[string]string // record name -> the prefix its drivers' WithPrefix sets
	grace      time.Duration
}

// WithOlderCodeGrace sets how long Apply waits after recording a version over a store that
// had one (default migrate.DefaultOlderCodeGrace; 0 for none, e.g. when no process of the
// previous version runs): drivers of that version still running read the applied version
// again at most every WithOlderCodeRecheck and from then on keep what they do not know.
func WithOlderCodeGrace(d time.Duration) MigrateOption {
	return func(o *migrateOptions) { o.grace = d }
}

// WithRecordPrefix tells the migrator that the drivers of record name are opened with
// WithPrefix(p), so that it rewrites, reserves and deletes that record's objects under
// <cfg.Prefix>/<p>/ instead of the prefix in the schema. A migration that changes the
// record's prefix (change_prefix) is refused for such a record: move its objects by changing
// p. Give one option per record opened with WithPrefix.
func WithRecordPrefix(name, p string) MigrateOption {
	return func(o *migrateOptions) {
		if o.prefixes == nil {
			o.prefixes = map[string]string{}
		}
		o.prefixes[name] = p
	}
}

// WithProgress has Apply report the progress of its long steps (moves, reservations,
// rewrites) to fn, once per chunk of objects; fn runs on Apply's goroutine.
func WithProgress(fn func(migrate.Progress)) MigrateOption {
	return func(o *migrateOptions) { o.progress = fn }
}

// WithMigrateConcurrency sets how many objects Apply rewrites at once (default: the config's
// MaxConnections).
func WithMigrateConcurrency(n int) MigrateOption { return func(o *migrateOptions) { o.conc = n } }

// WithLockLease sets the lease of the migration lock (default DefaultLockLease): an applier
// renews its lock every third of it, and a lock left unrenewed for a whole lease (its
// applier crashed) is taken over by the next one.
func WithLockLease(d time.Duration) MigrateOption { return func(o *migrateOptions) { o.lease = d } }

// WithRewriteAll has Apply rewrite every object older than the newest version even when no
// rewrite is pending: objects that older code wrote after the last rewrite (Status reports
// them as drift). Run it once the older code is gone.
func WithRewriteAll() MigrateOption { return func(o *migrateOptions) { o.rewriteAll = true } }

// WithoutRewrite has Apply record the pending versions without rewriting the objects that
// drivers can upgrade when they read them; the rewrite stays pending (Status reports it) and
// the next Apply without this option does it. Steps that must run before the version is
// recorded (moves, unique reservations) still run.
func WithoutRewrite() MigrateOption { return func(o *migrateOptions) { o.noRewrite = true } }

// DefaultLockLease is the default lease of the migration lock (WithLockLease).
const DefaultLockLease = 30 * time.Second

// rewriteChunk is how many listed objects Apply processes between two checkpoints.
const rewriteChunk = 1000

// NewMigrator returns the migrator of package pkg, whose migrations fsys holds (the generated
// Migrations()), for the objects under cfg's bucket and prefix (a pool.S3PoolConfig or a
// *pool.Prepared of one). Records are found at <cfg.Prefix>/<record prefix>/ as the history
// names them, or as WithRecordPrefix sets them for drivers opened with WithPrefix. It holds a
// lease on the pooled client until Close.
func NewMigrator(ctx context.Context, m *pool.Manager, cfg pool.Config, pkg string, fsys fs.FS, opts ...MigrateOption) (*Migrator, error) {
	sc, err := pool.ConfigAs[pool.S3PoolConfig](cfg)
	if err != nil {
		return nil, err
	}
	if err := migrate.CheckName(pkg); err != nil {
		return nil, repo.E(repo.ErrInvalidInput, fmt.Errorf("s3: migrations package name: %w", err))
	}
	h, err := migrate.Load(fsys)
	if err != nil {
		return nil, repo.E(repo.ErrInvalidInput, fmt.Errorf("s3: migrations of package %s: %w", pkg, err))
	}
	o := migrateOptions{lease: DefaultLockLease, chunk: rewriteChunk, grace: migrate.DefaultOlderCodeGrace}
	for _, f := range opts {
		f(&o)
	}
	if o.conc == 0 {
		o.conc = max(sc.MaxConnections, 1)
	}
	if o.conc < 1 || o.lease < time.Second {
		return nil, repo.Errorf(repo.ErrInvalidInput, fmt.Sprintf("s3: migrator: concurrency must be at least 1 (got %d) and the lock lease at least 1s (got %s)", o.conc, o.lease))
	}
	if o.poll == 0 {
		o.poll = min(o.lease/10, time.Second)
	}
	l, err := pool.Get(ctx, m, cfg, Hooks())
	if err != nil {
		return nil, err
	}
	return &Migrator{pkg: pkg, h: h, lease: l, api: l.Pool().API, bucket: sc.Bucket,
		prefix: joinPrefix(sc.Prefix), o: o}, nil
}

// Close implements migrate.Migrator: it releases the lease on the pooled client. It is safe
// to call more than once.
func (m *Migrator) Close() error {
	m.once.Do(m.lease.Release)
	return nil
}

func (m *Migrator) mapErr(ctx context.Context, err error) error {
	return mapErr(ctx, err, m.lease.ReportBroken)
}

// state reads the applied state.
func (m *Migrator) state(ctx context.Context) (*migState, string, error) {
	st, etag, err := readState(ctx, m.api, m.bucket, stateKey(m.prefix, m.pkg))
	if err != nil {
		return nil, "", m.mapErr(ctx, err)
	}
	return st, etag, nil
}

// recordPrefix returns the key prefix of a record's objects, ending with "/".
func (m *Migrator) recordPrefix(r *migrate.Record) string {
	return joinPrefix(m.prefix, m.ownPrefix(r)) + "/"
}

// formSince returns the oldest version, at least 1 and at most v, whose objects of record
// name have the stored form of version v (History.LastChange): objects written before it
// are behind, those written at it or later need no rewrite.
func (m *Migrator) formSince(name string, v int64) int64 {
	return min(v, max(m.h.LastChange(name, v), 1))
}

// uniquePrefix returns the key prefix of a record's unique reservations, ending with "/".
func (m *Migrator) uniquePrefix(r *migrate.Record) string {
	return joinPrefix(m.prefix, uniqueSegment, m.ownPrefix(r)) + "/"
}

// ownPrefix returns the record's prefix below the config's: WithRecordPrefix's, else the
// schema's.
func (m *Migrator) ownPrefix(r *migrate.Record) string {
	if p, ok := m.o.prefixes[r.Name]; ok {
		return p
	}
	return r.Prefix
}

// checkMoves refuses a pending change_prefix of a record whose prefix WithRecordPrefix sets.
func (m *Migrator) checkMoves(pending []*migrate.Migration) error {
	for _, mg := range pending {
		for _, c := range mg.Changes {
			if _, ok := m.o.prefixes[c.Record]; ok && c.Kind == migrate.ChangePrefix {
				return repo.Errorf(repo.ErrInvalidInput, fmt.Sprintf("s3: migration %d moves %s from prefix %s to %s, but its drivers set their own prefix (WithRecordPrefix): change that prefix instead",
					mg.Version, c.Record, c.From, c.To))
			}
		}
	}
	return nil
}

// Plan implements migrate.Migrator: the steps of every pending version, then the rewrite of
// old objects when one is pending.
func (m *Migrator) Plan(ctx context.Context) ([]migrate.Step, error) {
	st, _, err := m.state(ctx)
	if err != nil {
		return nil, err
	}
	var steps []migrate.Step
	add := func(v int64, online bool, format string, args ...any) {
		steps = append(steps, migrate.Step{Version: v, Backend: pool.BackendS3, Text: fmt.Sprintf(format, args...), Online: online})
	}
	pending := m.h.After(st.current())
	if err := m.checkMoves(pending); err != nil {
		return nil, err
	}
	for _, mg := range pending {
		before := m.h.State(mg.Version - 1)
		for _, c := range mg.Changes {
			switch c.Kind {
			case migrate.ChangePrefix:
				add(mg.Version, false, "%s: move objects from %s/ to %s/ (copy, then delete; stop writers of older code first: their writes to the old prefix would be left behind)",
					c.Record, joinPrefix(m.prefix, c.From), joinPrefix(m.prefix, c.To))
			case migrate.DropRecord:
				if r := before.Record(c.Record); r != nil {
					add(mg.Version, true, "%s: delete every object under %s and its unique reservations (destructive)", c.Record, m.recordPrefix(r))
				}
			case migrate.AddUnique:
				add(mg.Version, true, "%s.%s: reserve the value of every object, rewriting it to version %d (fails naming duplicates) before the version is recorded", c.Record, c.Field, m.h.Version())
			case migrate.AddRecord:
				add(mg.Version, true, "%s: new record (nothing to create: its objects are written under %s)", c.Record, m.recordPrefix(mg.Schema.Record(c.Record)))
			default:
				add(mg.Version, true, "%s (objects of older versions are upgraded when read, then rewritten)", c)
			}
		}
		add(mg.Version, true, "record version %d (%s) as applied", mg.Version, mg.Name)
	}
	if v := m.h.Version(); (len(pending) > 0 || st.Rewrite != nil || m.o.rewriteAll) && !m.o.noRewrite && v > 0 {
		from := rewriteFrom(st, st.current())
		if m.o.rewriteAll || (st.Rewrite != nil && st.Rewrite.Before == 0 && st.Rewrite.Version != v) {
			from = 0 // see Apply and rewrite
		}
		for _, r := range m.h.Last().Schema.Records {
			since := m.formSince(r.Name, v)
			if from > 0 && since <= from {
				continue // unchanged since the store's version
			}
			add(v, true, "%s: rewrite objects under %s older than version %d (conditional PUTs: a concurrent write wins; resumable)", r.Name, m.recordPrefix(&r), since)
		}
	}
	return steps, nil
}

// Status implements migrate.Migrator. It reads every object's first bytes to count the
// objects written at a version older (or newer) than the applied one: their drift.
func (m *Migrator) Status(ctx context.Context) (migrate.Status, error) {
	st, _, err := m.state(ctx)
	if err != nil {
		return migrate.Status{}, err
	}
	var s migrate.Status
	for _, a := range st.Applied {
		s.Applied = append(s.Applied, a.Version)
	}
	cur := st.current()
	s.Pending = m.h.After(cur)
	if cur > m.h.Version() {
		s.Drift = append(s.Drift, fmt.Sprintf("the store is at version %d, newer than this history (%d)", cur, m.h.Version()))
		return s, nil
	}
	if rw := st.Rewrite; rw != nil {
		switch {
		case rw.Before != 0:
			s.Drift = append(s.Drift, fmt.Sprintf("the unique reservations of version %d stopped at record %s, after key %q: run apply", rw.Before, rw.Record, rw.After))
		case rw.Record == "":
			s.Drift = append(s.Drift, fmt.Sprintf("the rewrite of old objects to version %d is pending: run apply", rw.Version))
		default:
			s.Drift = append(s.Drift, fmt.Sprintf("the rewrite of old objects to version %d stopped at record %s, after key %q: run apply", rw.Version, rw.Record, rw.After))
		}
	}
	if cur == 0 {
		return s, nil
	}
	for _, r := range m.h.State(cur).Records {
		older, newer, err := m.countVersions(ctx, &r, cur)
		if err != nil {
			return migrate.Status{}, err
		}
		if older > 0 {
			s.Drift = append(s.Drift, fmt.Sprintf("%s: %d objects at versions older than %d (upgraded when read; apply with WithRewriteAll rewrites them)", r.Name, older, m.formSince(r.Name, cur)))
		}
		if newer > 0 {
			s.Drift = append(s.Drift, fmt.Sprintf("%s: %d objects at versions newer than %d (written by newer code)", r.Name, newer, cur))
		}
	}
	return s, nil
}

// countVersions counts the objects of r written at a version older than r's last change
// up to v (their stored form is older than v's) and newer than v.
func (m *Migrator) countVersions(ctx context.Context, r *migrate.Record, v int64) (older, newer int64, err error) {
	since := m.formSince(r.Name, v)
	var mu sync.Mutex
	err = m.forEachObject(ctx, m.recordPrefix(r), "", func(ctx context.Context, key string) error {
		ov, err := m.headVersion(ctx, key)
		if err != nil || ov == 0 {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case ov < since:
			older++
		case ov > v:
			newer++
		}
		return nil
	}, nil)
	return older, newer, err
}

// errGone marks an object deleted while it was processed.
var errGone = errors.New("gone")
