package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.uber.org/goleak"

	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// The read-replica tests run on the PostgreSQL test server and its hot standby
// (scripts/services/postgres.sh start --replica; scripts/test.sh starts it): they skip
// without REPOKIT_POSTGRES_REPLICA_URL. What a standby served is read from the standby's own
// statistics (pg_stat_user_tables), never from the driver's code path.

// replicaSetup is a table on the primary, the config naming the standby, and connections to
// both servers (as the test role, in the test database) for their statistics.
type replicaSetup struct {
	cfg                    pool.PostgresPoolConfig
	table                  string
	adminURL               string // the standby as superuser
	primaryURL, standbyURL string // as the test role
}

func newReplicaSetup(t *testing.T, base string) *replicaSetup {
	t.Helper()
	standbyURL, standbyAdmin, addr := servicetest.PostgresReplica(t)
	cfg := testConfig(t)
	cfg.Replicas = []string{addr}
	m := pool.New(pool.Options{})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	return &replicaSetup{cfg: cfg, table: tableName(t, m, testConfig(t), base), adminURL: standbyAdmin,
		primaryURL: servicetest.PostgresURL(t), standbyURL: standbyURL}
}

// open returns a repository with its own pool manager (so that closing it ends its server
// sessions, which flushes their statistics) and a function that closes both.
func (s *replicaSetup) open(t *testing.T) (*postgres.Driver[things.Thing], *repo.Collection[things.Thing], func()) {
	t.Helper()
	m := pool.New(pool.Options{})
	d, err := postgres.New(context.Background(), m, s.cfg, things.ThingSchema, postgres.WithTable(s.table))
	if err != nil {
		_ = m.CloseAll(context.Background())
		t.Fatal(err)
	}
	r := repo.New(things.ThingSchema, d)
	return d, r, func() {
		_ = r.Close()
		_ = m.CloseAll(context.Background())
	}
}

// idxScans returns the index scans of the table that one server's own statistics count
// (0 while it has none, e.g. on a standby before its first scan), on a connection of its own.
func (s *replicaSetup) idxScans(t *testing.T, onStandby bool) int64 {
	t.Helper()
	return s.stat(t, onStandby, "idx_scan")
}

// stat returns a counter of pg_stat_user_tables for the table (0 while there is none) from
// one server, on a connection of its own.
func (s *replicaSetup) stat(t *testing.T, onStandby bool, expr string) int64 {
	t.Helper()
	url := s.primaryURL
	if onStandby {
		url = s.standbyURL
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int64
	err = conn.QueryRow(ctx, "SELECT coalesce((SELECT "+expr+" FROM pg_stat_user_tables WHERE relname = $1), 0)", s.table).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// scansAfter waits until the standby's statistics count at least want index scans of the
// table more than from (sessions flush their counts when they end, and otherwise within
// seconds) and returns the standby's and the primary's counts then; after 30 s it returns
// what there is.
func (s *replicaSetup) scansAfter(t *testing.T, fromStandby int64, want int64) (standby, primary int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		standby = s.idxScans(t, true)
		if standby-fromStandby >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // the primary's sessions ended at the same time
	return standby, s.idxScans(t, false)
}

// waitCaughtUp reads (Count, which scans the table sequentially, not by index) until the
// driver's standby is usable and has replayed its writes, so that the next reads may go to
// it; it fails the test after 30 s.
func waitCaughtUp(t *testing.T, d *postgres.Driver[things.Thing], r *repo.Collection[things.Thing]) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := d.Replicas()
		if len(st) == 1 && st[0].Usable && st[0].CaughtUp {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the standby did not become usable and caught up within 30s: %+v", st)
		}
		if _, err := r.Count(context.Background(), things.ThingQuery()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func seedThings(t *testing.T, r *repo.Collection[things.Thing], n int) []string {
	t.Helper()
	recs := make([]things.Thing, n)
	ids := make([]string, n)
	for i := range recs {
		ids[i] = fmt.Sprintf("r%05d", i)
		recs[i] = things.Thing{ID: ids[i], Name: "seed", Count: int64(i), Created: t0}
	}
	drivertest.CreateAll(context.Background(), t, r, recs)
	return ids
}

// TestReplicaServesReads: with the standby caught up, reads by id go to it: the standby's
// own statistics count the index scans and the primary's do not; with UsePrimary they go to
// the primary.
func TestReplicaServesReads(t *testing.T) {
	s := newReplicaSetup(t, "replica_reads")
	const n = 200
	d, r, closeRepo := s.open(t)
	ids := seedThings(t, r, n)
	waitCaughtUp(t, d, r)
	s0, p0 := s.idxScans(t, true), s.idxScans(t, false)
	ctx := context.Background()
	for _, id := range ids {
		got, err := r.Get(ctx, id)
		if err != nil || got.ID != id {
			t.Fatalf("Get(%s) = %+v, %v", id, got, err)
		}
	}
	if batch, err := getMany(ctx, d, ids[:50]); err != nil || len(batch) != 50 {
		t.Fatalf("GetMany = %d records, %v", len(batch), err)
	}
	closeRepo()
	s1, p1 := s.scansAfter(t, s0, n)
	t.Logf("%d Gets and one GetMany with the standby caught up: index scans on the standby +%d, on the primary +%d", n, s1-s0, p1-p0)
	if s1-s0 < n {
		t.Errorf("the standby counted %d index scans of the table, want at least %d (one per Get)", s1-s0, n)
	}
	if p1-p0 >= n {
		t.Errorf("the primary counted %d index scans of the table: the Gets went to the primary", p1-p0)
	}

	// UsePrimary: the same reads go to the primary.
	d, r, closeRepo = s.open(t)
	waitCaughtUp(t, d, r)
	s0, p0 = s.idxScans(t, true), s.idxScans(t, false)
	for _, id := range ids {
		if _, err := r.Get(postgres.UsePrimary(ctx), id); err != nil {
			t.Fatal(err)
		}
	}
	closeRepo()
	deadline := time.Now().Add(30 * time.Second)
	for s.idxScans(t, false)-p0 < n && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	s1, p1 = s.idxScans(t, true), s.idxScans(t, false)
	t.Logf("%d Gets with UsePrimary: index scans on the primary +%d, on the standby +%d", n, p1-p0, s1-s0)
	if p1-p0 < n || s1-s0 >= n {
		t.Errorf("UsePrimary: primary +%d, standby +%d index scans; want the %d Gets on the primary", p1-p0, s1-s0, n)
	}
}

// TestReplicaReadYourWrites: with the standby applying WAL 2 s late (recovery_min_apply_delay),
// every read through the repository right after its own write sees the write (Get, Count,
// Find, GetMany, after Create, Update, Delete and a transaction), while the standby itself
// is seen missing it; once the writes stop, the standby catches up and serves reads again.
func TestReplicaReadYourWrites(t *testing.T) {
	s := newReplicaSetup(t, "replica_ryw")
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, s.adminURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close(ctx) })
	standby, err := pgx.Connect(ctx, s.standbyURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = standby.Close(ctx) })
	setDelay := func(v string) {
		if _, err := admin.Exec(ctx, "ALTER SYSTEM SET recovery_min_apply_delay = '"+v+"'"); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
			t.Fatal(err)
		}
	}
	setDelay("2s")
	t.Cleanup(func() { setDelay("0") })

	d, r, closeRepo := s.open(t)
	defer closeRepo()
	// Let the standby replay the table's creation (2 s late): from here on the repository
	// reads from the standby unless its own writes are not replayed there yet.
	waitCaughtUp(t, d, r)
	// onStandby reads the standby directly: has it applied the record yet (the table itself
	// may not be there yet)?
	onStandby := func(id string) bool {
		var ok bool
		err := standby.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+pgx.Identifier{s.table}.Sanitize()+" WHERE id = $1)", id).Scan(&ok)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42P01" {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	const rounds = 40
	reads, standbyMissed := 0, 0
	for i := range rounds {
		id := fmt.Sprintf("w%04d", i)
		if _, err := r.Create(ctx, things.Thing{ID: id, Name: "v1", Count: int64(i), Created: t0}); err != nil {
			t.Fatal(err)
		}
		if !onStandby(id) {
			standbyMissed++
		}
		got, err := r.Get(ctx, id)
		reads++
		if err != nil || got.Name != "v1" {
			t.Fatalf("round %d: Get after Create = %+v, %v", i, got, err)
		}
		n, err := r.Count(ctx, things.ThingQuery())
		reads++
		if err != nil || n != int64(i+1) {
			t.Fatalf("round %d: Count after Create = %d, %v; want %d", i, n, err, i+1)
		}
		got.Name = "v2"
		if _, err := r.Update(ctx, got); err != nil {
			t.Fatal(err)
		}
		found, err := r.Find(ctx, things.ThingQuery().Where(things.ThingFields.Name.EQ("v2")))
		reads++
		if err != nil || len(found) != 1 || found[0].ID != id {
			t.Fatalf("round %d: Find name=v2 after Update = %v, %v; want [%s]", i, found, err, id)
		}
		if err := postgres.InTx(ctx, postgres.DBOf[things.Thing](r), func(tx *postgres.Tx) error {
			tr, err := postgres.WithTx[things.Thing](r, tx)
			if err != nil {
				return err
			}
			rec, err := tr.Get(ctx, id)
			if err != nil {
				return err
			}
			rec.Name = "v3"
			_, err = tr.Update(ctx, rec)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		batch, err := getMany(ctx, d, []string{id})
		reads++
		if err != nil || len(batch) != 1 || batch[0].Name != "v3" {
			t.Fatalf("round %d: GetMany after a transaction = %v, %v", i, batch, err)
		}
		if i%2 == 1 {
			if err := r.Delete(ctx, id); err != nil {
				t.Fatal(err)
			}
			_, err := r.Get(ctx, id)
			reads++
			if !errors.Is(err, repo.ErrNotFound) {
				t.Fatalf("round %d: Get after Delete = %v, want ErrNotFound", i, err)
			}
			if _, err := r.Create(ctx, things.Thing{ID: id, Name: "v3", Count: int64(i), Created: t0}); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("read-your-writes with recovery_min_apply_delay = 2s: %d rounds, %d reads right after a write, 0 missed the write; the standby itself lacked the new record in %d of %d rounds",
		rounds, reads, standbyMissed, rounds)
	if standbyMissed < rounds/2 {
		t.Errorf("the standby had the new record at once in %d of %d rounds: the delay did not hold it back, the test shows nothing", rounds-standbyMissed, rounds)
	}
	// Once the writes stop, the standby replays them and serves reads again.
	waitCaughtUp(t, d, r)
	st := d.Replicas()[0]
	t.Logf("standby caught up after the writes: usable=%v lag=%v", st.Usable, st.Lag)
}

// TestReplicaKilledMidReads: readers run while the standby is killed (immediate shutdown) and
// started again: every read succeeds (the reads the standby was serving fall back to the
// primary), none outlives its deadline, and once the standby is back it serves reads again
// (counted by its own statistics).
func TestReplicaKilledMidReads(t *testing.T) {
	s := newReplicaSetup(t, "replica_kill")
	ctl := servicetest.PostgresCtl(t)
	d, r, closeRepo := s.open(t)
	defer closeRepo()
	ids := seedThings(t, r, 100)
	waitCaughtUp(t, d, r)
	run := func(args ...string) {
		out, err := exec.Command(ctl, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", ctl, args, err, out)
		}
	}

	const callTimeout = 5 * time.Second
	var (
		reads, failed, overDeadline atomic.Int64
		mu                          sync.Mutex
		firstErrs                   []error
		slowest                     time.Duration
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
				start := time.Now()
				var err error
				switch (i + w) % 3 {
				case 0:
					_, err = r.Get(ctx, ids[i%len(ids)])
				case 1:
					var n int64
					if n, err = r.Count(ctx, things.ThingQuery()); err == nil && n != int64(len(ids)) {
						err = fmt.Errorf("Count = %d, want %d", n, len(ids))
					}
				default:
					var recs []things.Thing
					if recs, err = r.Find(ctx, things.ThingQuery().Where(things.ThingFields.Count.LT(10))); err == nil && len(recs) != 10 {
						err = fmt.Errorf("Find returned %d records, want 10", len(recs))
					}
				}
				took := time.Since(start)
				cancel()
				reads.Add(1)
				mu.Lock()
				slowest = max(slowest, took)
				if err != nil {
					failed.Add(1)
					if len(firstErrs) < 5 {
						firstErrs = append(firstErrs, err)
					}
				}
				if took > callTimeout {
					overDeadline.Add(1)
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(time.Second)
	before := reads.Load()
	run("pause", "--replica", "--kill")
	killedAt := time.Now()
	time.Sleep(2 * time.Second)
	during := reads.Load()
	run("resume", "--replica")
	resumed := time.Since(killedAt)
	// The standby is used again: usable and caught up within 30 s of its restart.
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := d.Replicas()[0]
		if st.Usable && st.CaughtUp {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the standby was not used again within 30s of its restart: %+v", st)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	t.Logf("reads: %d in all (%d in the second before the kill, %d in the 2 s after it; the standby answered again %v after the kill), %d failed, %d over their %v deadline; slowest %v",
		reads.Load(), before, during-before, resumed.Round(time.Millisecond), failed.Load(), overDeadline.Load(), callTimeout, slowest.Round(time.Millisecond))
	if failed.Load() > 0 || overDeadline.Load() > 0 {
		t.Errorf("%d reads failed, %d outlived their deadline; first errors: %v", failed.Load(), overDeadline.Load(), firstErrs)
	}
	if during == before {
		t.Errorf("no read completed while the standby was down")
	}

	// Back on the standby: its own statistics count the scans of the table (by index or
	// sequential: the plan of a Get on 100 rows may be either; the counts of the readers'
	// sessions before the kill died with the standby).
	const scans = "coalesce(idx_scan, 0) + seq_scan"
	s0 := s.stat(t, true, scans)
	ctx := context.Background()
	for _, id := range ids {
		if _, err := r.Get(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	closeRepo()
	deadline = time.Now().Add(30 * time.Second)
	s1 := s.stat(t, true, scans)
	for ; s1-s0 < int64(len(ids)) && time.Now().Before(deadline); s1 = s.stat(t, true, scans) {
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("after the restart: %d Gets, scans of the table on the standby +%d (the readers' last reads, not yet flushed to the statistics when the baseline was read, add to the Gets)", len(ids), s1-s0)
	if s1-s0 < int64(len(ids)) {
		t.Errorf("after its restart the standby counted %d scans of the table, want at least %d", s1-s0, len(ids))
	}
}

// getMany reads ids with the driver's batch read (repo.BatchGetter), failing on any item.
func getMany(ctx context.Context, d *postgres.Driver[things.Thing], ids []string) ([]things.Thing, error) {
	recs := make([]things.Thing, len(ids))
	res := make([]repo.Result, len(ids))
	if err := d.GetMany(ctx, ids, recs, res); err != nil {
		return nil, err
	}
	for _, x := range res {
		if x.Err != nil {
			return nil, x.Err
		}
	}
	return recs, nil
}

// TestReplicaDownAtStart: a standby that does not answer (nothing listens on its port) does
// not fail New, every read is served by the primary, and the driver reports the standby
// unusable with the reason. Needs only the primary.
func TestReplicaDownAtStart(t *testing.T) {
	cfg := testConfig(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cfg.Replicas = []string{addr}
	cfg.ConnectTimeout = 2 * time.Second
	m := pool.New(pool.Options{})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := postgres.New(ctx, m, cfg, things.ThingSchema, postgres.WithTable(tableName(t, m, testConfig(t), "replica_down")))
	if err != nil {
		t.Fatalf("New with a standby that is down: %v", err)
	}
	r := repo.New(things.ThingSchema, d)
	defer r.Close()
	if _, err := r.Create(ctx, things.Thing{ID: "a", Name: "a", Created: t0}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		if got, err := r.Get(ctx, "a"); err != nil || got.Name != "a" {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		if n, err := r.Count(ctx, things.ThingQuery()); err != nil || n != 1 {
			t.Fatalf("Count = %d, %v", n, err)
		}
		st := d.Replicas()
		if len(st) != 1 || st[0].Usable {
			t.Fatalf("Replicas() = %+v; want one, not usable", st)
		}
		if st[0].Err != nil {
			t.Logf("after %d reads: standby %s not usable: %v", 2*(i+1), st[0].Addr, st[0].Err)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no check of the standby reported its failure within 30s: %+v", st[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// replicaHarness is the conformance harness on a config naming the hot standby: every read
// outside a transaction may go to the standby, so the suite checks that its semantics (every
// read after a write sees it) hold with replicas.
type replicaHarness struct {
	harness
}

// LeakOptions also ignores a standby check in flight (it ends with the repository's Close).
func (h replicaHarness) LeakOptions() []goleak.Option {
	return append(h.harness.LeakOptions(),
		goleak.IgnoreAnyFunction("github.com/repokit/repokit/runtime/backends/postgres.(*replica).maybeRefresh.func1"))
}

func TestConformanceReplicas(t *testing.T) {
	_, _, addr := servicetest.PostgresReplica(t)
	h := newHarness(t)
	h.cfg.Replicas = []string{addr}
	drivertest.RunConformanceTests(t, drivertest.On(replicaHarness{h}))
}
