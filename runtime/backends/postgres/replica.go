package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/repokit/repokit/runtime/pool"
)

// Read replicas (pool.PostgresPoolConfig.Replicas; docs/postgres.md, "Read replicas").
//
// A driver made by New on a config with replicas holds a replicaSet: one pool per standby,
// leased from the same pool.Manager as the primary's. Reads outside a transaction (Get,
// Exists, Count, Query, GetMany) go to a standby that is usable for the call (see choose);
// writes, transactions and the reads inside a write go to the primary.
//
// Read-your-writes: every write through the driver, when it returns (whatever its outcome),
// adds one to the set's write generation — an atomic addition, no round trip. A standby
// serves a read only when it is known to have replayed a WAL position the primary had after
// the latest write of the driver that had completed when the read started (its cleanGen has
// reached the generation). That knowledge comes from a check that runs off the read path
// (refresh): it reads the primary's pg_current_wal_lsn() after loading the generation, then
// the standby's pg_last_wal_replay_lsn(). Until a check has confirmed it, reads go to the
// primary.

// replicaCheckInterval is how often a standby's health (up, in recovery, lag) is checked
// while reads use the set; dirtyCheckSpacing is the least time between two checks started
// because the standby had not yet been seen to replay the driver's latest writes.
const (
	replicaCheckInterval = time.Second
	dirtyCheckSpacing    = 5 * time.Millisecond
	// replicaAcquireMax bounds the wait for a standby connection (also by half of what is
	// left of the call's deadline) so that a standby that does not answer leaves time to
	// read from the primary; replicaCheckTimeout bounds one check.
	replicaAcquireMax   = 2 * time.Second
	replicaCheckTimeout = 5 * time.Second
)

type primaryKey struct{}

// UsePrimary returns a context whose reads go to the primary even when the repository has
// read replicas (like GORM dbresolver's Clauses(dbresolver.Write) or Prisma's $primary()).
// Writes and transactions always go to the primary; without replicas it changes nothing.
func UsePrimary(ctx context.Context) context.Context {
	return context.WithValue(ctx, primaryKey{}, true)
}

func usesPrimary(ctx context.Context) bool {
	v, _ := ctx.Value(primaryKey{}).(bool)
	return v
}

// replicaSet is the standbys of one driver (and of the drivers WithTx binds from it).
type replicaSet struct {
	m       *pool.Manager
	primary *pgxpool.Pool
	reps    []*replica
	maxLag  time.Duration
	next    atomic.Uint32 // round robin over the standbys

	wrote atomic.Uint64 // write generation; starts at 1: the constructor may have created the table

	mu        sync.Mutex
	target    uint64 // a primary WAL position covering every write of generation <= targetGen
	targetGen uint64
	closed    bool

	ctx    context.Context // ended by close: ends the checks in flight
	cancel context.CancelFunc
	checks sync.WaitGroup // the checks in flight; close waits for them
}

// replica is one standby and what the last check learned about it.
type replica struct {
	addr string // host:port, as in Replicas
	cfg  pool.PostgresPoolConfig

	usable   atomic.Bool   // leased, up, in recovery, lag within the bound
	cleanGen atomic.Uint64 // writes up to this generation are replayed on it
	checking atomic.Bool   // a refresh is in flight
	checked  atomic.Int64  // time.Since(epoch) at the last check or failed read; 0: none

	mu        sync.Mutex
	lease     pool.Lease[*pgxpool.Pool] // zero until a Get succeeded
	checkedAt time.Time
	replay    uint64 // its replay position at the last check (0: unknown)
	lag       time.Duration
	lastErr   error
}

func newReplicaSet(m *pool.Manager, pc pool.PostgresPoolConfig, primary *pgxpool.Pool) *replicaSet {
	rs := &replicaSet{m: m, primary: primary, maxLag: pc.MaxLag()}
	rs.ctx, rs.cancel = context.WithCancel(context.Background())
	rs.wrote.Store(1)
	for i, rc := range pc.ReplicaConfigs() {
		rs.reps = append(rs.reps, &replica{addr: pc.Replicas[i], cfg: rc})
	}
	return rs
}

// markWrite records that a write through the driver has returned.
func (rs *replicaSet) markWrite() {
	if rs != nil {
		rs.wrote.Add(1)
	}
}

// choose returns a standby that may serve a read starting now, or nil for the primary. It
// starts a check of every standby whose state is stale or that has not yet been seen to
// replay the latest writes; it never waits for one.
func (rs *replicaSet) choose() *replica {
	g := rs.wrote.Load()
	n := uint32(len(rs.reps))
	start := rs.next.Add(1)
	var pick *replica
	for i := range n {
		r := rs.reps[(start+i)%n]
		clean := r.cleanGen.Load() >= g
		r.maybeRefresh(rs, clean)
		if pick == nil && clean && r.usable.Load() {
			pick = r
		}
	}
	return pick
}

func (r *replica) maybeRefresh(rs *replicaSet, clean bool) {
	since := time.Duration(math.MaxInt64)
	if c := r.checked.Load(); c != 0 {
		since = time.Since(epoch) - time.Duration(c)
	}
	if since < replicaCheckInterval && (clean || since < dirtyCheckSpacing || !r.usable.Load()) {
		return
	}
	if !r.checking.CompareAndSwap(false, true) {
		return
	}
	rs.mu.Lock()
	if rs.closed {
		rs.mu.Unlock()
		r.checking.Store(false)
		return
	}
	rs.checks.Add(1)
	rs.mu.Unlock()
	go func() {
		defer rs.checks.Done()
		defer r.checking.Store(false)
		ctx, cancel := context.WithTimeout(rs.ctx, replicaCheckTimeout)
		defer cancel()
		r.refresh(ctx, rs)
	}()
}

// refresh checks the standby: lease its pool when there is none yet, read whether it is in
// recovery, its replay position and its lag, and, when the driver has written since the
// standby was last known to have replayed its writes, the primary's current WAL position.
func (r *replica) refresh(ctx context.Context, rs *replicaSet) {
	g := rs.wrote.Load()
	var target uint64
	needTarget := r.cleanGen.Load() < g
	if needTarget {
		var err error
		if target, err = rs.targetFor(ctx, g); err != nil {
			needTarget = false // the primary did not answer: the standby stays unconfirmed
			g = 0
		}
	}
	lease, err := r.leased(ctx, rs)
	var inRecovery bool
	var replayText string
	var lagSecs float64
	if err == nil {
		err = lease.Pool().QueryRow(ctx, `SELECT pg_is_in_recovery(), coalesce(pg_last_wal_replay_lsn()::text, ''),
  CASE WHEN pg_last_wal_receive_lsn() IS NULL OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
       ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)::float8 END`).
			Scan(&inRecovery, &replayText, &lagSecs)
	}
	var replay uint64
	if err == nil {
		if !inRecovery {
			err = fmt.Errorf("postgres: replica %s is not in recovery (promoted, or not a standby)", r.cfg.Redacted())
		} else if replay, err = parseLSN(replayText); err != nil {
			err = fmt.Errorf("postgres: replica %s: replay position %q: %w", r.cfg.Redacted(), replayText, err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.setChecked()
	r.lastErr = err
	if err != nil {
		if !errors.Is(err, pool.ErrClosed) {
			r.lease.ReportBroken(err)
		}
		r.down(isConnErr(err) || serverGone(err))
		return
	}
	// A restarted standby may have started over from an earlier position: what it had
	// replayed before counts only while it stays up.
	r.replay = replay
	r.lag = time.Duration(lagSecs * float64(time.Second))
	if needTarget && replay >= target {
		for {
			c := r.cleanGen.Load()
			if c >= g || r.cleanGen.CompareAndSwap(c, g) {
				break
			}
		}
	}
	r.usable.Store(r.lag <= rs.maxLag)
}

// epoch is the origin of replica.checked: time.Since(epoch) is monotonic.
var epoch = time.Now()

// setChecked records the time of a check (or of a failed read). r.mu is held.
func (r *replica) setChecked() {
	r.checkedAt = time.Now()
	r.checked.Store(int64(max(time.Since(epoch), 1)))
}

// down marks the standby unusable and forgets what it had replayed; after a failure of the
// server or of a connection (reset) it also closes the pool's connections, so that none that
// the failure broke is handed out once the standby is back. r.mu is held.
func (r *replica) down(reset bool) {
	r.usable.Store(false)
	r.cleanGen.Store(0)
	r.replay = 0
	if p := r.lease.Pool(); reset && p != nil {
		p.Reset()
	}
}

// failed marks the standby down after a read on it failed with err (not the caller's
// context), and reports its pool broken when err says the server or connection failed.
func (r *replica) failed(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastErr = err
	r.setChecked()
	broken := isConnErr(err) || serverGone(err)
	if broken {
		r.lease.ReportBroken(err)
	}
	r.down(broken)
}

// currentLease returns the standby's pool lease (zero before the first Get succeeded).
func (r *replica) currentLease() pool.Lease[*pgxpool.Pool] {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lease
}

// leased returns the standby's pool lease, getting one from the manager on first use.
func (r *replica) leased(ctx context.Context, rs *replicaSet) (pool.Lease[*pgxpool.Pool], error) {
	r.mu.Lock()
	l := r.lease
	r.mu.Unlock()
	if l.Pool() != nil {
		return l, nil
	}
	l, err := pool.Get(ctx, rs.m, r.cfg, Hooks())
	if err != nil {
		return l, err
	}
	rs.mu.Lock()
	closed := rs.closed
	rs.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if closed || r.lease.Pool() != nil {
		l.Release()
		if closed {
			return pool.Lease[*pgxpool.Pool]{}, pool.ErrClosed
		}
		return r.lease, nil
	}
	r.lease = l
	return l, nil
}

// targetFor returns a primary WAL position that covers every write of generation <= g.
func (rs *replicaSet) targetFor(ctx context.Context, g uint64) (uint64, error) {
	rs.mu.Lock()
	if rs.targetGen >= g {
		t := rs.target
		rs.mu.Unlock()
		return t, nil
	}
	rs.mu.Unlock()
	var text string
	if err := rs.primary.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&text); err != nil {
		return 0, err
	}
	lsn, err := parseLSN(text)
	if err != nil {
		return 0, err
	}
	rs.mu.Lock()
	if g > rs.targetGen {
		rs.target, rs.targetGen = lsn, g
	}
	rs.mu.Unlock()
	return lsn, nil
}

// acquire returns a connection of the standby for one read, or nil when none came within
// replicaAcquireMax and half of what is left of ctx's deadline (the standby is then marked
// down unless ctx itself ended).
func (rs *replicaSet) acquire(ctx context.Context, r *replica) *pgxpool.Conn {
	r.mu.Lock()
	p := r.lease.Pool()
	r.mu.Unlock()
	if p == nil {
		return nil
	}
	bound := replicaAcquireMax
	if dl, ok := ctx.Deadline(); ok {
		bound = min(bound, time.Until(dl)/2)
	}
	actx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	conn, err := p.Acquire(actx)
	if err != nil {
		if ctx.Err() == nil {
			r.failed(err)
		}
		return nil
	}
	return conn
}

// retryOnPrimary reports whether a read that failed on the standby with err (raw, from pgx)
// is tried again on the primary: when ctx is still alive and err is not an answer about the
// query itself — the connection or server failed, the command timeout ended it, the standby
// cancelled it for a recovery conflict, or the table is not there yet. The standby is marked
// down unless the error was about one statement (a conflict or a missing table).
func (rs *replicaSet) retryOnPrimary(ctx context.Context, r *replica, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "40001", pe.Code == "42P01", pe.Code == "42703", stalePlan(err):
			return true
		case serverGone(err), strings.HasPrefix(pe.Code, "53"), pe.Code == "57014":
			r.failed(err)
			return true
		}
		return false
	}
	if isCtxErr(err) || isConnErr(err) {
		r.failed(err)
		return true
	}
	return false
}

// serverGone reports the server errors that say a connection cannot be used: class 08 and
// the shutdown and startup codes 57P01..57P03.
func serverGone(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03")
}

// close ends the checks in flight, waits for them, and releases the standbys' leases.
func (rs *replicaSet) close() {
	if rs == nil {
		return
	}
	rs.mu.Lock()
	rs.closed = true
	rs.mu.Unlock()
	rs.cancel()
	rs.checks.Wait()
	for _, r := range rs.reps {
		r.mu.Lock()
		r.lease.Release()
		r.lease = pool.Lease[*pgxpool.Pool]{}
		r.usable.Store(false)
		r.mu.Unlock()
	}
}

// parseLSN parses a pg_lsn in its text form "X/Y" (hexadecimal).
func parseLSN(s string) (uint64, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("not a pg_lsn: %q", s)
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, err
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, err
	}
	return h<<32 | l, nil
}

// ReplicaStatus is what the last check learned about one standby (Driver.Replicas).
type ReplicaStatus struct {
	Addr      string        // host:port
	Usable    bool          // reads may go to it (leased, up, in recovery, lag within the bound)
	CaughtUp  bool          // it was seen to replay every write the driver had made (read-your-writes)
	Lag       time.Duration // replay lag at the last check (0 when it had replayed all it received)
	ReplayLSN uint64        // pg_last_wal_replay_lsn() at the last check, 0 when unknown
	CheckedAt time.Time     // zero before the first check
	Err       error         // the last check's or read's failure, nil after a good check
}

// Replicas returns the state of the driver's standbys as the last checks saw it (nil
// without replicas), for logs and health endpoints.
func (d *Driver[T]) Replicas() []ReplicaStatus {
	if d.rs == nil {
		return nil
	}
	out := make([]ReplicaStatus, 0, len(d.rs.reps))
	for _, r := range d.rs.reps {
		r.mu.Lock()
		out = append(out, ReplicaStatus{Addr: r.addr, Usable: r.usable.Load(), Lag: r.lag,
			CaughtUp:  r.cleanGen.Load() >= d.rs.wrote.Load(),
			ReplayLSN: r.replay, CheckedAt: r.checkedAt, Err: r.lastErr})
		r.mu.Unlock()
	}
	return out
}
