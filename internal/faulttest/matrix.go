// Package faulttest runs repokit's repositories through network faults and long mixed load
// on the real test servers, with Toxiproxy between the client and the server
// (scripts/services/toxiproxy.sh, docs/reliability.md).
//
// RunMatrix is the fault matrix: while writers run Create, CreateBatch, Update and Delete
// (with versions) under per-call deadlines, each fault of Faults is applied to the backend's
// proxy and removed again. It asserts that every call returns by its deadline plus a slack,
// that no acknowledged write is missing afterwards, that no write reported as not done is
// visible, that the repository works again once the fault is gone (the same repository, no
// restart), and that no error text, log line or Stats value contains a secret. Soak runs mixed
// reads and writes from many goroutines and checks goroutines, sockets, server connections
// and heap return to their baseline after Close and CloseAll.
//
// Both log one table row per run (go test -v), the figures docs/reliability.md shows.
package faulttest

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// Backend is what a backend's test gives RunMatrix: its proxy and how to open a repository
// of things.Thing through it.
type Backend struct {
	Name    string    // backend name for the report, e.g. "postgres"
	Package string    // its package path for the reproduce command, e.g. ./runtime/backends/postgres/
	Toxi    Toxiproxy // the backend's fault proxy
	// Secrets are the passwords and keys of the configuration Open uses (and any encodings
	// of them a client may send, e.g. a basic-auth header's base64); none may appear in an
	// error, a log line or Stats.
	Secrets []string
	// Open returns a new, empty repository through the proxy, made with m. It is opened once
	// and used for the whole matrix.
	Open func(ctx context.Context, t *testing.T, m *pool.Manager) (repo.Repository[things.Thing], error)
}

// Row is one line of the fault table.
type Row struct {
	Backend, Fault                 string
	Calls, Acked, Rejected         int
	FaultCalls, FaultOK            int
	Missing, Phantom               int
	Ambiguous, AmbApplied, AmbLost int
	Longest                        time.Duration
	RecoveryTries                  int
	RecoveryTime                   time.Duration
	Kinds                          map[string]int
}

// RowHeader is the header of the table rows RunMatrix logs.
const RowHeader = "| backend | fault | calls (during fault: ok/made) | writes acknowledged | rejected | missing after | phantom | ambiguous (applied/not) | longest call | recovered after | error kinds |"

// String formats the row as a Markdown table row under RowHeader.
func (r Row) String() string {
	kinds := make([]string, 0, len(r.Kinds))
	for _, k := range slices.Sorted(maps.Keys(r.Kinds)) {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, r.Kinds[k]))
	}
	return fmt.Sprintf("| %s | %s | %d (%d/%d) | %d | %d | %d | %d | %d (%d/%d) | %v | %d tries, %v | %s |",
		r.Backend, r.Fault, r.Calls, r.FaultOK, r.FaultCalls, r.Acked, r.Rejected, r.Missing, r.Phantom, r.Ambiguous, r.AmbApplied, r.AmbLost,
		r.Longest.Round(time.Millisecond), r.RecoveryTries, r.RecoveryTime.Round(time.Millisecond), strings.Join(kinds, ", "))
}

// RunMatrix runs every fault of Faults against b, one subtest per fault, then searches
// everything the run produced for b.Secrets.
func RunMatrix(t *testing.T, b Backend) {
	cfg := CurrentConfig()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	sockets := countSockets(t)
	leakBase := goleak.IgnoreCurrent()
	col := NewCollector()
	m := pool.New(pool.Options{Logger: col.Logger()})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	if err := b.Toxi.Clean(ctx); err != nil {
		t.Fatalf("toxiproxy: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Toxi.Clean(context.Background()); err != nil {
			t.Errorf("toxiproxy cleanup: %v", err)
		}
	})
	r, err := b.Open(ctx, t, m)
	if err != nil {
		t.Fatalf("open through %s: %v", b.Toxi.Proxy, err)
	}
	t.Cleanup(func() { _ = r.Close() })
	if recoverRound(ctx, t, r, col, "before"); t.Failed() {
		t.FailNow() // it does not work even without a fault
	}

	t.Logf("reproduce: go test -race -count=1 -run '^TestFaultMatrix$' -v %s%s", b.Package, map[bool]string{true: " -faults.long"}[Long()])
	var rows []Row
	for _, f := range Faults() {
		t.Run(f.Name, func(t *testing.T) {
			row := runFault(ctx, t, b, cfg, f, r, m, col)
			rows = append(rows, row)
			t.Log(RowHeader)
			t.Log(row)
		})
	}
	col.Stats(m)
	// What the faults broke must not outlive the repository: no socket, no goroutine.
	_ = r.Close()
	if err := m.CloseAll(ctx); err != nil {
		col.Err(err)
		t.Errorf("CloseAll after the matrix: %v", err)
	}
	if after := waitSockets(ctx, t, sockets); after > sockets {
		t.Errorf("open sockets after the matrix, Close and CloseAll: %d, %d before", after, sockets)
	}
	if err := goleak.Find(leakBase); err != nil {
		t.Errorf("goroutines left after the matrix, Close and CloseAll: %v", err)
	}
	for _, finding := range col.Scan(b.Secrets) {
		t.Errorf("%s", finding)
	}
	counts := col.Counts()
	t.Logf("secret scan: %d secrets searched in %d error texts, %d log lines, %d Stats values: %d found",
		len(b.Secrets), counts["error"], counts["log line"], counts["stats"], len(col.Scan(b.Secrets)))
	t.Log("fault table (" + b.Name + "):\n" + RowHeader + "\n" + joinRows(rows))
}

func joinRows(rows []Row) string {
	var sb strings.Builder
	for _, r := range rows {
		sb.WriteString(r.String())
		sb.WriteByte('\n')
	}
	return sb.String()
}

// runFault runs the writers around one fault and checks the results.
func runFault(ctx context.Context, t *testing.T, b Backend, cfg Config, f Fault, r repo.Repository[things.Thing], m *pool.Manager, col *Collector) Row {
	stop := make(chan struct{})
	var during atomic.Bool
	ledgers := make([]*ledger, cfg.Writers)
	var wg sync.WaitGroup
	for i := range ledgers {
		ledgers[i] = newLedger()
		w := &writer{id: fmt.Sprintf("%s-%d-w%d", f.Name, time.Now().UnixNano()%1e6, i), r: r, l: ledgers[i], cfg: cfg, col: col,
			rng: rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano()))), during: &during}
		wg.Add(1)
		go func() { defer wg.Done(); w.run(ctx, stop) }()
	}
	sleep(ctx, cfg.Warm)
	if err := apply(ctx, b.Toxi, f); err != nil {
		close(stop)
		wg.Wait()
		t.Fatalf("applying %s: %v", f.Name, err)
	}
	during.Store(true)
	for end := time.Now().Add(cfg.Hold); time.Now().Before(end); {
		col.Stats(m)
		sleep(ctx, min(time.Second, time.Until(end)))
	}
	if err := b.Toxi.Clean(ctx); err != nil {
		t.Errorf("removing %s: %v", f.Name, err)
	}
	during.Store(false)
	sleep(ctx, cfg.Cool)
	close(stop)
	wg.Wait()
	col.Stats(m)

	tries, took := recoverRound(ctx, t, r, col, f.Name)
	all := newLedger()
	for _, l := range ledgers {
		all.merge(l)
	}
	v := all.verify(ctx, r, col.Err)
	row := Row{Backend: b.Name, Fault: f.Name, Calls: all.calls, FaultCalls: all.faultCalls, FaultOK: all.faultOK, Acked: all.acks, Rejected: all.rejects,
		Missing: v.missing, Phantom: v.phantom, Ambiguous: all.ambiguous, AmbApplied: v.ambiguousApplied, AmbLost: v.ambiguousDropped,
		Longest: all.longest, RecoveryTries: tries, RecoveryTime: took, Kinds: all.kinds}
	for _, late := range all.late {
		t.Errorf("call outlived its deadline: %s", late)
	}
	for _, p := range v.problems {
		t.Errorf("%s", p)
	}
	if f.Disable && all.faultOK == all.faultCalls {
		t.Errorf("all %d calls made while the proxy was disabled succeeded: is the repository really behind proxy %s?", all.faultCalls, b.Toxi.Proxy)
	}
	if all.acks == 0 {
		t.Errorf("no write was acknowledged during %s: the writers did not run", f.Name)
	}
	return row
}

// apply starts fault f on the proxy.
func apply(ctx context.Context, x Toxiproxy, f Fault) error {
	if f.Disable {
		return x.SetEnabled(ctx, false)
	}
	for _, tx := range f.Toxics {
		if err := x.AddToxic(ctx, tx); err != nil {
			return err
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// recoveryBudget is how long a repository may take to work again after a fault is removed.
const recoveryBudget = 30 * time.Second

// recoverRound runs Create, Get, Update and Delete on a fresh id until one round succeeds, and
// returns the number of rounds and the time it took; it fails the test after recoveryBudget.
func recoverRound(ctx context.Context, t *testing.T, r repo.Repository[things.Thing], col *Collector, label string) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	for try := 1; ; try++ {
		err := roundTrip(ctx, r, fmt.Sprintf("probe-%s-%d-%d", label, start.UnixNano()%1e6, try))
		if err == nil {
			return try, time.Since(start)
		}
		col.Err(err)
		if time.Since(start) > recoveryBudget {
			t.Errorf("the repository did not work again within %v after %s: last error: %v", recoveryBudget, label, err)
			return try, time.Since(start)
		}
		sleep(ctx, 200*time.Millisecond)
	}
}

func roundTrip(ctx context.Context, r repo.Repository[things.Thing], id string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rec, err := r.Create(ctx, thing(id, 1))
	if err != nil {
		return err
	}
	got, err := r.Get(ctx, id)
	if err != nil {
		return err
	}
	if got.Count != 1 {
		return fmt.Errorf("probe %s: read count %d, wrote 1", id, got.Count)
	}
	rec.Count = 2
	if rec, err = r.Update(ctx, rec, repo.IfVersion(rec.RecordVersion)); err != nil {
		return err
	}
	return r.Delete(ctx, id, repo.IfVersion(rec.RecordVersion))
}

// body pads each record so that the bandwidth and slicer faults have bytes to work on.
var body = strings.Repeat("fault matrix payload ", 24)

// thing returns the record the writers store: revision count, fixed other fields.
func thing(id string, count int64) things.Thing {
	return things.Thing{ID: id, Name: "fault", Count: count, Ratio: 0.5, Active: true,
		Created: time.Unix(1_700_000_000, 0).UTC(), Body: &body}
}
