package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// timeoutHarness returns a harness whose config has the given command timeout and whose
// manager holds only its pools, so that Stats tells whether a call reported them broken.
func timeoutHarness(t *testing.T, d time.Duration, maxSize int) harness {
	cfg := testConfig(t)
	cfg.CommandTimeout = d
	if maxSize > 0 {
		cfg.MaxSize = maxSize
	}
	m := pool.New(pool.Options{KeepIdle: true})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	return harness{m: m, cfg: cfg}
}

// brokenReports returns the pools of h's manager that were reported broken (or failed).
func brokenReports(h harness) []string {
	var out []string
	for _, s := range h.m.Stats() {
		if s.LastError != "" {
			out = append(out, s.LastError)
		}
	}
	return out
}

// otherConn opens a connection of its own to the test server (for locks held elsewhere).
func otherConn(t *testing.T) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), servicetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func fill(t *testing.T, ctx context.Context, r repo.Repository[item], prefix string, n int) {
	t.Helper()
	recs := make([]item, n)
	for i := range recs {
		recs[i] = item{ID: fmt.Sprintf("%s%05d", prefix, i), Kind: "a"}
	}
	drivertest.CreateAll(ctx, t, r, recs)
}

// TestCommandTimeoutLoopBody: the command timeout bounds the waits for the server, not the
// caller's loop body: a stream whose consumer pauses longer than the timeout on its first
// row still reads every row, and nothing is reported broken.
func TestCommandTimeoutLoopBody(t *testing.T) {
	const timeout = time.Second
	h := timeoutHarness(t, timeout, 0)
	ctx, r, _ := itemRepo(t, h)
	const n = 20000
	fill(t, ctx, r, "s", n)
	got := 0
	for rec, err := range r.Stream(ctx, itemQuery()) {
		if err != nil {
			t.Fatalf("after %d of %d rows: %v", got, n, err)
		}
		if got == 0 {
			time.Sleep(timeout * 3 / 2) // the caller's own work, longer than the timeout
		}
		if want := fmt.Sprintf("s%05d", got); rec.ID != want {
			t.Fatalf("row %d is %s, want %s", got, rec.ID, want)
		}
		got++
	}
	if got != n {
		t.Errorf("streamed %d rows, want %d", got, n)
	}
	if b := brokenReports(h); len(b) > 0 {
		t.Errorf("pool reported broken: %q", b)
	}
}

// checkTimeout checks the error of a statement ended by the command timeout: unavailable,
// ErrCommandTimeout naming the timeout, and not a context error (the caller's context is
// alive).
func checkTimeout(t *testing.T, what string, err error, timeout time.Duration) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: no error", what)
	case !errors.Is(err, repo.ErrUnavailable) || !errors.Is(err, postgres.ErrCommandTimeout):
		t.Errorf("%s: %v, want ErrUnavailable wrapping ErrCommandTimeout", what, err)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		t.Errorf("%s: %v is a context error, but the caller's context is alive", what, err)
	case !strings.Contains(err.Error(), fmt.Sprintf("command timeout (%v)", timeout)):
		t.Errorf("%s: %q does not name the command timeout", what, err)
	}
}

// TestCommandTimeoutSlowStatement: every call whose statement waits on a lock longer than
// the command timeout fails with ErrUnavailable wrapping ErrCommandTimeout, does not report
// the pool broken, and the repository works once the lock is gone. The timeout comes from
// the config (New) or from WithCommandTimeout (New and NewWithDB).
func TestCommandTimeoutSlowStatement(t *testing.T) {
	const timeout = 200 * time.Millisecond
	for _, how := range []string{"config", "option", "NewWithDB"} {
		t.Run(how, func(t *testing.T) {
			var h harness
			var opts []postgres.Option
			if how == "config" {
				h = timeoutHarness(t, timeout, 0)
			} else {
				h = timeoutHarness(t, 0, 0)
				opts = append(opts, postgres.WithCommandTimeout(timeout))
			}
			ctx, r, table := itemRepo(t, h, opts...)
			if how == "NewWithDB" {
				lease, err := pool.Get(ctx, h.m, h.cfg, postgres.Hooks())
				if err != nil {
					t.Fatal(err)
				}
				defer lease.Release()
				d, err := postgres.NewWithDB(ctx, lease.Pool(), itemSchema, append(opts, postgres.WithTable(table))...)
				if err != nil {
					t.Fatal(err)
				}
				r = repo.New(itemSchema, d)
			}
			if _, err := r.Create(ctx, item{ID: "x", Kind: "a"}); err != nil {
				t.Fatal(err)
			}
			locker := otherConn(t)
			tx, err := locker.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(context.Background())
			if _, err := tx.Exec(ctx, "LOCK TABLE "+pgdialect.Quote(table)+" IN ACCESS EXCLUSIVE MODE"); err != nil {
				t.Fatal(err)
			}
			batch := func(n int) []item {
				recs := make([]item, n)
				for i := range recs {
					recs[i] = item{ID: fmt.Sprintf("b%02d", i), Kind: "b"}
				}
				return recs
			}
			for _, c := range []struct {
				what string
				call func() error
			}{
				{"Get", func() error { _, err := r.Get(ctx, "x"); return err }},
				{"Exists", func() error { _, err := r.Exists(ctx, "x"); return err }},
				{"Count", func() error { _, err := r.Count(ctx, itemQuery()); return err }},
				{"Find", func() error { _, err := r.Find(ctx, itemQuery()); return err }},
				{"Stream", func() error {
					for _, err := range r.Stream(ctx, itemQuery()) {
						if err != nil {
							return err
						}
					}
					return nil
				}},
				{"Create", func() error { _, err := r.Create(ctx, item{ID: "y", Kind: "a"}); return err }},
				{"CreateBatch values", func() error { _, err := r.CreateBatch(ctx, batch(3)); return err }},
				{"CreateBatch copy", func() error { _, err := r.CreateBatch(ctx, batch(20)); return err }},
				{"Update", func() error { _, err := r.Update(ctx, item{ID: "x", Kind: "b"}); return err }},
				{"Upsert", func() error { _, err := r.Upsert(ctx, item{ID: "x", Kind: "c"}); return err }},
				{"Delete", func() error { return r.Delete(ctx, "x") }},
			} {
				checkTimeout(t, c.what, c.call(), timeout)
			}
			if b := brokenReports(h); len(b) > 0 {
				t.Errorf("a statement ended by the command timeout reported the pool broken: %q", b)
			}
			if err := tx.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
			if got, err := r.Get(ctx, "x"); err != nil || got.Kind != "a" {
				t.Errorf("after the lock: Get = %+v, %v", got, err)
			}
		})
	}
}

// TestCommandTimeoutMidStream: a stream whose server stalls after sending some rows (a row
// filter waiting on an advisory lock held elsewhere) ends with ErrCommandTimeout while
// waiting in rows.Next, and the pool is not reported broken.
func TestCommandTimeoutMidStream(t *testing.T) {
	const timeout = 500 * time.Millisecond
	h := timeoutHarness(t, timeout, 0)
	ctx, r, table := itemRepo(t, h)
	fill(t, ctx, r, "m", 5000)
	locker := otherConn(t)
	gate := table + "_gate"
	key := int64(os.Getpid())<<16 | tableSeq.Add(1)
	// The filter is evaluated row by row during an index scan on the id (the order the
	// driver asks for): rows before m02000 are sent, then the server waits for the lock.
	for _, s := range []string{
		fmt.Sprintf(`CREATE FUNCTION %s(id text) RETURNS boolean VOLATILE LANGUAGE plpgsql AS $$
			BEGIN IF id = 'm02000' THEN PERFORM pg_advisory_xact_lock_shared(%d); END IF; RETURN true; END $$`, pgdialect.Quote(gate), key),
		fmt.Sprintf("ALTER TABLE %s ENABLE ROW LEVEL SECURITY", pgdialect.Quote(table)),
		fmt.Sprintf("ALTER TABLE %s FORCE ROW LEVEL SECURITY", pgdialect.Quote(table)),
		fmt.Sprintf("CREATE POLICY gate ON %s FOR SELECT USING (%s(id))", pgdialect.Quote(table), pgdialect.Quote(gate)),
		fmt.Sprintf("ANALYZE %s", pgdialect.Quote(table)),
		fmt.Sprintf("SELECT pg_advisory_lock(%d)", key),
	} {
		if _, err := locker.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	t.Cleanup(func() {
		// Runs before the table is dropped: the stalled statement ends, then the gate goes.
		ctx := context.Background()
		_, _ = locker.Exec(ctx, fmt.Sprintf("SELECT pg_advisory_unlock(%d)", key))
		_, _ = locker.Exec(ctx, "DROP FUNCTION IF EXISTS "+pgdialect.Quote(gate)+" CASCADE")
	})
	got := 0
	var err error
	for _, e := range r.Stream(ctx, itemQuery()) {
		if e != nil {
			err = e
			break
		}
		got++
	}
	checkTimeout(t, "Stream", err, timeout)
	t.Logf("the stream stalled after %d rows", got)
	if got == 0 || got >= 2000 {
		t.Errorf("stream ended after %d rows; want it to stall in rows.Next after some of the rows before m02000", got)
	}
	if b := brokenReports(h); len(b) > 0 {
		t.Errorf("a statement ended by the command timeout reported the pool broken: %q", b)
	}
}

// TestConnectionFailureReportsBroken: a connection that really fails (its backend
// terminated) still fails with ErrUnavailable and reports the pool broken, also with a
// command timeout configured.
func TestConnectionFailureReportsBroken(t *testing.T) {
	h := timeoutHarness(t, time.Second, 1)
	ctx, r, _ := itemRepo(t, h)
	if _, err := r.Create(ctx, item{ID: "x", Kind: "a"}); err != nil {
		t.Fatal(err)
	}
	lease, err := pool.Get(ctx, h.m, h.cfg, postgres.Hooks())
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	var pid int32
	if err := lease.Pool().QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil { // the pool's only connection
		t.Fatal(err)
	}
	var ok bool
	if err := otherConn(t).QueryRow(ctx, "SELECT pg_terminate_backend($1, 5000)", pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend: %v, %v", ok, err)
	}
	_, err = r.Get(ctx, "x")
	if !errors.Is(err, repo.ErrUnavailable) || errors.Is(err, postgres.ErrCommandTimeout) {
		t.Fatalf("Get on a terminated connection: %v, want ErrUnavailable (not a command timeout)", err)
	}
	if b := brokenReports(h); len(b) == 0 {
		t.Errorf("a failed connection did not report the pool broken")
	}
	if _, err := r.Get(ctx, "x"); err != nil {
		t.Errorf("Get after the failure: %v", err)
	}
}

// TestCommandTimeoutInTx: a batch step that the command timeout ends inside a transaction
// fails with ErrCommandTimeout (the connection, and the transaction with it, is gone: no
// savepoint rollback is attempted on it), and InTx returns that error.
func TestCommandTimeoutInTx(t *testing.T) {
	const timeout = 200 * time.Millisecond
	h := timeoutHarness(t, timeout, 0)
	ctx, r, table := itemRepo(t, h)
	locker := otherConn(t)
	ltx, err := locker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ltx.Rollback(context.Background())
	if _, err := ltx.Exec(ctx, "LOCK TABLE "+pgdialect.Quote(table)+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{3, 20} {
		var batchErr error
		err := postgres.InTx(ctx, postgres.DBOf[item](r), func(tx *postgres.Tx) error {
			tr, err := postgres.WithTx[item](r, tx)
			if err != nil {
				return err
			}
			recs, _ := badBatch("t", n, nil)
			_, batchErr = tr.CreateBatch(ctx, recs)
			return batchErr
		})
		checkTimeout(t, fmt.Sprintf("CreateBatch(%d) in a transaction", n), batchErr, timeout)
		if err != batchErr {
			t.Errorf("InTx: %v, want the batch's error alone", err)
		}
	}
	if b := brokenReports(h); len(b) > 0 {
		t.Errorf("pool reported broken: %q", b)
	}
}

// TestQueryCanceledNotBroken: a statement cancelled on the server (57014, here by
// pg_cancel_backend while it waits on a lock; statement_timeout gives the same) fails with
// ErrUnavailable but does not report the pool broken: the server is alive.
func TestQueryCanceledNotBroken(t *testing.T) {
	h := timeoutHarness(t, 0, 0)
	ctx, r, table := itemRepo(t, h)
	locker := otherConn(t)
	ltx, err := locker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ltx.Rollback(context.Background())
	if _, err := ltx.Exec(ctx, "LOCK TABLE "+pgdialect.Quote(table)+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := r.Get(ctx, "x")
		done <- err
	}()
	canceller := otherConn(t)
	var err2 error
	for cancelled := false; !cancelled; {
		select {
		case err2 = <-done:
			t.Fatalf("Get returned before it was cancelled: %v", err2)
		default:
		}
		err := canceller.QueryRow(ctx, `SELECT coalesce(bool_or(pg_cancel_backend(pid)), false) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE '%' || $1 || '%'`, table).Scan(&cancelled)
		if err != nil {
			t.Fatal(err)
		}
	}
	err2 = <-done
	if !errors.Is(err2, repo.ErrUnavailable) || errors.Is(err2, postgres.ErrCommandTimeout) || !strings.Contains(err2.Error(), "57014") {
		t.Errorf("Get cancelled on the server: %v, want ErrUnavailable with 57014", err2)
	}
	if b := brokenReports(h); len(b) > 0 {
		t.Errorf("a statement cancelled on the server reported the pool broken: %q", b)
	}
}
