package s3_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// openSockets returns the number of this process's established TCP connections to port:
// the sockets among the process's open files (/proc/self/fd) that /proc/self/net/tcp{,6}
// lists as established (state 01) with that remote port.
func openSockets(t *testing.T, port int) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	mine := map[string]bool{}
	for _, fd := range fds {
		if l, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(l, "socket:[") {
			mine[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	n := 0
	for _, table := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line) // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
			if len(f) < 10 || f[3] != "01" || !mine[f[9]] {
				continue
			}
			if i := strings.LastIndexByte(f[2], ':'); i >= 0 {
				if p, err := strconv.ParseUint(f[2][i+1:], 16, 16); err == nil && int(p) == port {
					n++
				}
			}
		}
	}
	return n
}

// settledGoroutines waits until the number of goroutines is at most want (the transport's
// connection goroutines end when their connection is closed, a moment after it) and returns
// the last count; it gives up after a generous while, so that a leak fails the test.
func settledGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(15 * time.Second); n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(20 * time.Millisecond)
	}
	return n
}

// TestCloseClosesConnections: closing a repository closes its client's connections when it
// was the client's last user (the manager closes the pool), and CloseAll closes those of
// every client it kept; the transport goroutines end with them. 200 open/Exists/Close
// cycles leave no socket and no goroutine behind (before the fix, every cycle left its
// connection and two goroutines open until the 90 s idle timeout).
func TestCloseClosesConnections(t *testing.T) {
	cfg := testConfig(t)
	u, err := url.Parse(cfg.EndpointURL)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatalf("endpoint %s has no port", cfg.EndpointURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cycle := func(m *pool.Manager, c pool.Config) {
		t.Helper()
		d, err := s3.New(ctx, m, c, things.ThingSchema)
		if err != nil {
			t.Fatal(err)
		}
		r := repo.New(things.ThingSchema, d)
		if _, err := r.Exists(ctx, "absent"); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}

	m := pool.New(pool.Options{}) // the last Release closes the client
	cycle(m, cfg)                 // start what the first client starts once per process
	sockets, goroutines := openSockets(t, port), runtime.NumGoroutine()
	const cycles = 200
	for range cycles {
		cycle(m, cfg)
	}
	if n := openSockets(t, port); n > sockets {
		t.Errorf("after %d open/Exists/Close cycles: %d connections to the server open, %d before", cycles, n, sockets)
	}
	if n := settledGoroutines(goroutines); n > goroutines {
		t.Errorf("after %d open/Exists/Close cycles: %d goroutines, %d before", cycles, n, goroutines)
	}

	// CloseAll closes the clients a manager keeps without leases.
	keep := pool.New(pool.Options{KeepIdle: true})
	const clients = 20
	for i := range clients {
		cycle(keep, pool.Prepare(cfg, pool.WithScope(fmt.Sprint("client-", i))))
	}
	if n := openSockets(t, port); n < sockets+clients {
		t.Fatalf("%d kept clients hold %d connections (%d before): the test cannot see connections", clients, n-sockets, sockets)
	}
	if err := keep.CloseAll(ctx); err != nil {
		t.Fatal(err)
	}
	if n := openSockets(t, port); n > sockets {
		t.Errorf("after CloseAll: %d connections to the server open, %d before", n, sockets)
	}
	if n := settledGoroutines(goroutines); n > goroutines {
		t.Errorf("after CloseAll: %d goroutines, %d before", n, goroutines)
	}
}
