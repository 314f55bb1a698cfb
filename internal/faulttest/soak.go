package faulttest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
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

// SoakBackend is what a backend's test gives Soak.
type SoakBackend struct {
	Name    string // backend name for the report
	Package string // its package path for the reproduce command
	// Open returns a new, empty repository made with m (a direct link, no proxy).
	Open func(ctx context.Context, t *testing.T, m *pool.Manager) (repo.Repository[things.Thing], error)
	// ServerConns, when set, returns how many connections the server holds for the test's
	// user (PostgreSQL: pg_stat_activity), counted through a connection of its own that it
	// closes before returning.
	ServerConns func(ctx context.Context) (int, error)
	// Secrets are searched in the errors and log lines of the run, as in RunMatrix.
	Secrets []string
}

// resources is one measurement of what a process holds.
type resources struct {
	goroutines, sockets, conns int
	heap                       uint64
}

func (r resources) String() string {
	return fmt.Sprintf("goroutines %d, sockets %d, server conns %d, heap %.1f MiB", r.goroutines, r.sockets, r.conns, float64(r.heap)/(1<<20))
}

// heapSlack is how far the live heap may stay above its baseline after CloseAll.
const heapSlack = 16 << 20

// settle is how long the checks after Close and CloseAll wait for sockets and server
// connections to go (a server ends its side of a connection asynchronously).
const settle = 15 * time.Second

// Soak runs mixed reads and writes from many goroutines on one repository for the configured
// time, then closes it and the manager and checks that goroutines (goleak), open sockets,
// server connections and the heap are back at their baseline.
func Soak(t *testing.T, b SoakBackend) {
	cfg := CurrentConfig()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.SoakFor+5*time.Minute)
	defer cancel()
	t.Logf("reproduce: go test -race -count=1 -run '^TestSoak$' -v %s%s", b.Package, map[bool]string{true: " -faults.long"}[Long()])

	before := measure(ctx, t, b)
	leakBase := goleak.IgnoreCurrent()
	col := NewCollector()
	m := pool.New(pool.Options{Logger: col.Logger()})
	r, err := b.Open(ctx, t, m)
	if err != nil {
		_ = m.CloseAll(ctx)
		t.Fatalf("open: %v", err)
	}

	var ops, fails atomic.Int64
	var peak resources
	var peakMu sync.Mutex
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range cfg.SoakWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := soaker{id: fmt.Sprintf("soak-%d-%d", time.Now().UnixNano()%1e6, i), r: r,
				rng: rand.New(rand.NewPCG(uint64(i), 7)), versions: map[string]string{}}
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := w.step(ctx); err != nil {
					col.Err(err)
					if fails.Add(1) <= 5 {
						t.Errorf("soak call failed: %v", err)
					}
				}
				ops.Add(1)
			}
		}()
	}
	start := time.Now()
	for end := start.Add(cfg.SoakFor); time.Now().Before(end); {
		sleep(ctx, min(2*time.Second, time.Until(end)))
		now := measure(ctx, t, b)
		peakMu.Lock()
		peak = resources{max(peak.goroutines, now.goroutines), max(peak.sockets, now.sockets), max(peak.conns, now.conns), max(peak.heap, now.heap)}
		peakMu.Unlock()
		col.Stats(m)
	}
	close(stop)
	wg.Wait()
	took := time.Since(start)

	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	afterClose := waitBaseline(ctx, t, b, before)
	if err := m.CloseAll(ctx); err != nil {
		t.Errorf("CloseAll: %v", err)
	}
	r = nil
	after := waitBaseline(ctx, t, b, before)
	if err := goleak.Find(leakBase); err != nil {
		t.Errorf("goroutines left after Close and CloseAll: %v", err)
	}
	check := func(what string, got, base int) {
		if got > base {
			t.Errorf("%s after Close and CloseAll: %d, baseline %d", what, got, base)
		}
	}
	check("open sockets", after.sockets, before.sockets)
	check("server connections", after.conns, before.conns)
	if after.heap > before.heap+heapSlack {
		t.Errorf("live heap after Close and CloseAll: %d bytes, baseline %d (+%d allowed)", after.heap, before.heap, heapSlack)
	}
	if peak.sockets <= before.sockets && b.Name != "memory" {
		t.Errorf("no socket was counted during the soak (peak %d, baseline %d): the socket count does not see the client's connections", peak.sockets, before.sockets)
	}
	if b.ServerConns != nil && peak.conns <= before.conns {
		t.Errorf("no server connection was counted during the soak (peak %d, baseline %d)", peak.conns, before.conns)
	}
	for _, finding := range col.Scan(b.Secrets) {
		t.Errorf("%s", finding)
	}
	t.Logf("| backend | workers | time | calls | failed | goroutines before/peak/after Close/after CloseAll | sockets | server conns | live heap MiB |")
	t.Logf("| %s | %d | %v | %d | %d | %d/%d/%d/%d | %d/%d/%d/%d | %s | %.1f/%.1f/%.1f/%.1f |", b.Name, cfg.SoakWorkers, took.Round(time.Second), ops.Load(), fails.Load(),
		before.goroutines, peak.goroutines, afterClose.goroutines, after.goroutines,
		before.sockets, peak.sockets, afterClose.sockets, after.sockets,
		connsText(b, before, peak, afterClose, after),
		mib(before.heap), mib(peak.heap), mib(afterClose.heap), mib(after.heap))
}

func connsText(b SoakBackend, rs ...resources) string {
	if b.ServerConns == nil {
		return "n/a"
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprint(r.conns)
	}
	return strings.Join(parts, "/")
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// waitBaseline measures until sockets and server connections are back at base or settle
// has passed, and returns the last measurement.
func waitBaseline(ctx context.Context, t *testing.T, b SoakBackend, base resources) resources {
	deadline := time.Now().Add(settle)
	for {
		now := measure(ctx, t, b)
		if (now.sockets <= base.sockets && now.conns <= base.conns) || time.Now().After(deadline) {
			return now
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

// waitSockets counts the process's sockets until they are at most base or settle has
// passed, and returns the last count.
func waitSockets(ctx context.Context, t *testing.T, base int) int {
	deadline := time.Now().Add(settle)
	for {
		n := countSockets(t)
		if n <= base || time.Now().After(deadline) {
			return n
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

// measure takes the server's connection count first, since counting opens a connection.
func measure(ctx context.Context, t *testing.T, b SoakBackend) resources {
	var r resources
	if b.ServerConns != nil {
		n, err := b.ServerConns(ctx)
		if err != nil {
			t.Errorf("counting server connections: %v", err)
		}
		r.conns = n
	}
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.heap = ms.HeapAlloc
	r.goroutines = runtime.NumGoroutine()
	r.sockets = countSockets(t)
	return r
}

// countSockets returns the number of the process's open file descriptors that are sockets.
func countSockets(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd to count sockets: %v", err)
	}
	n := 0
	for _, e := range entries {
		if link, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(link, "socket:") {
			n++
		}
	}
	return n
}

// soaker is one soak goroutine: writes on its own ids, reads across all.
type soaker struct {
	id       string
	r        repo.Repository[things.Thing]
	rng      *rand.Rand
	n        int
	ids      []string
	versions map[string]string
}

// soakTimeout bounds each soak call; no fault runs, so a call that needs it has failed.
const soakTimeout = 30 * time.Second

func (s *soaker) step(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, soakTimeout)
	defer cancel()
	name := things.ThingFields.Name
	q := things.ThingQuery().Where(name.EQ("fault")).Limit(10)
	switch p := s.rng.IntN(20); {
	case len(s.ids) == 0 || p < 4:
		s.n++
		id := fmt.Sprintf("%s-%d", s.id, s.n)
		rec, err := s.r.Create(ctx, thing(id, 1))
		if err == nil {
			s.ids = append(s.ids, id)
			s.versions[id] = rec.RecordVersion
		}
		return err
	case p < 8:
		_, err := s.r.Get(ctx, s.ids[s.rng.IntN(len(s.ids))])
		return err
	case p < 11:
		id := s.ids[s.rng.IntN(len(s.ids))]
		rec, err := s.r.Update(ctx, thing(id, 2), repo.IfVersion(s.versions[id]))
		if err == nil {
			s.versions[id] = rec.RecordVersion
		}
		return err
	case p < 13:
		i := s.rng.IntN(len(s.ids))
		id := s.ids[i]
		err := s.r.Delete(ctx, id, repo.IfVersion(s.versions[id]))
		s.ids = append(s.ids[:i], s.ids[i+1:]...)
		delete(s.versions, id)
		return err
	case p < 15:
		_, err := s.r.Find(ctx, q)
		return err
	case p < 17:
		_, err := s.r.Count(ctx, q)
		return err
	case p < 19:
		_, err := s.r.Page(ctx, q, "")
		return err
	default:
		n := 0
		for _, err := range s.r.Stream(ctx, q) {
			if err != nil {
				return err
			}
			if n++; n == 5 {
				break
			}
		}
		return nil
	}
}
