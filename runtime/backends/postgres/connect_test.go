package postgres_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// relay forwards TCP connections to the test server until hang is called; from then on it
// accepts new connections and never answers them, as a hung host or a dropped network does
// (connections made before keep working).
type relay struct {
	ln     net.Listener
	hung   atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

func newRelay(t *testing.T, host string, port int) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln}
	upstream := net.JoinHostPort(host, strconv.Itoa(port))
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if !r.track(c) {
				return
			}
			if r.hung.Load() {
				continue // held open, never read from or answered
			}
			u, err := net.Dial("tcp", upstream)
			if err != nil {
				_ = c.Close()
				continue
			}
			if !r.track(u) {
				return
			}
			go func() { _, _ = io.Copy(u, c); _ = u.Close() }()
			go func() { _, _ = io.Copy(c, u); _ = c.Close() }()
		}
	}()
	t.Cleanup(r.close)
	return r
}

func (r *relay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		_ = c.Close()
		return false
	}
	r.conns = append(r.conns, c)
	return true
}

func (r *relay) hang() { r.hung.Store(true) }

func (r *relay) close() {
	_ = r.ln.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for _, c := range r.conns {
		_ = c.Close()
	}
}

func (r *relay) addr() (string, int) {
	a := r.ln.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

// TestConnectTimeoutIsConnectionFailure: a call that needs a new connection to a server that
// does not answer fails after the connect timeout with ErrUnavailable — a connection
// failure that reports the pool broken — and not with ErrCommandTimeout, although pgx
// reports the connect timeout as a context.DeadlineExceeded inside a *pgconn.ConnectError.
func TestConnectTimeoutIsConnectionFailure(t *testing.T) {
	cfg := testConfig(t)
	rl := newRelay(t, cfg.Host, cfg.Port)
	cfg.Host, cfg.Port = rl.addr()
	cfg.ConnectTimeout = 300 * time.Millisecond
	for _, cmdTimeout := range []time.Duration{0, time.Minute} {
		t.Run("command-timeout-"+cmdTimeout.String(), func(t *testing.T) {
			c := cfg
			c.CommandTimeout = cmdTimeout
			m := pool.New(pool.Options{KeepIdle: true})
			t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
			h := harness{m: m, cfg: c}
			rl.hung.Store(false)
			ctx, r, _ := itemRepo(t, h)
			if _, err := r.Create(ctx, item{ID: "x", Kind: "a"}); err != nil {
				t.Fatal(err)
			}
			lease, err := pool.Get(ctx, m, c, postgres.Hooks())
			if err != nil {
				t.Fatal(err)
			}
			defer lease.Release()
			rl.hang()
			// Hold every open connection, so that the next call must open a new one.
			held := lease.Pool().AcquireAllIdle(ctx)
			defer func() {
				for _, x := range held {
					x.Release()
				}
			}()
			if st := lease.Pool().Stat(); st.TotalConns() >= st.MaxConns() {
				t.Fatalf("the pool is full (%d connections): the call would wait for one instead of connecting", st.TotalConns())
			}
			_, err = r.Get(ctx, "x")
			switch {
			case !errors.Is(err, repo.ErrUnavailable):
				t.Errorf("Get needing a connection the server never accepts: %v, want ErrUnavailable", err)
			case errors.Is(err, postgres.ErrCommandTimeout):
				t.Errorf("Get needing a connection the server never accepts: %v, reported as a command timeout", err)
			}
			if b := brokenReports(h); len(b) == 0 {
				t.Errorf("a connection that could not be opened did not report the pool broken")
			}
		})
	}
}

// TestStreamPanicReleasesConnection: a loop body that panics (and a caller that recovers, as
// an HTTP server does) gives the stream's connection back to the pool; with a pool of one
// connection the next call would otherwise wait forever.
func TestStreamPanicReleasesConnection(t *testing.T) {
	h := timeoutHarness(t, 0, 1)
	ctx, r, _ := itemRepo(t, h)
	fill(t, ctx, r, "p", 3000)
	for _, limit := range []int{0, 2} { // cancelled on the server, and drained
		func() {
			defer func() {
				if v := recover(); v != "boom" {
					t.Fatalf("recovered %v", v)
				}
			}()
			for rec, err := range r.Stream(ctx, itemQuery().Limit(limit)) {
				if err != nil {
					t.Fatal(err)
				}
				_ = rec
				panic("boom")
			}
		}()
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		n, err := r.Count(cctx, itemQuery())
		cancel()
		if err != nil || n != 3000 {
			t.Fatalf("Count after a panicking stream (limit %d): %d, %v (the stream kept the pool's only connection)", limit, n, err)
		}
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return port
}

// TestNewServerDown: New on a config whose server cannot be reached fails with
// ErrUnavailable (the pool manager's ErrCreate kept for errors.Is), with no secret in its
// text; a config error and the caller's ended context keep their own errors.
func TestNewServerDown(t *testing.T) {
	cfg := testConfig(t)
	cfg.Host, cfg.Port = "127.0.0.1", closedPort(t)
	cfg.Password = "s3cr3t-pw-not-in-errors"
	cfg.ConnectTimeout = time.Second
	m := pool.New(pool.Options{})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	_, err := postgres.New(t.Context(), m, cfg, itemSchema)
	if !errors.Is(err, repo.ErrUnavailable) || !errors.Is(err, pool.ErrCreate) {
		t.Errorf("New with the server down: %v, want ErrUnavailable wrapping pool.ErrCreate", err)
	}
	if err != nil && strings.Contains(err.Error(), cfg.Password) {
		t.Errorf("the error shows the password: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := postgres.New(ctx, m, cfg, itemSchema); errors.Is(err, repo.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("New with an ended context: %v, want context.Canceled", err)
	}
	bad := cfg
	bad.MaxSize = 0
	if _, err := postgres.New(t.Context(), m, bad, itemSchema); errors.Is(err, repo.ErrUnavailable) || !errors.Is(err, pool.ErrInvalidConfig) {
		t.Errorf("New with an invalid config: %v, want pool.ErrInvalidConfig", err)
	}
	// A server that answers and refuses the settings is a config error, not an outage
	// (retrying cannot help), and the error does not show the password.
	up := testConfig(t)
	wrongPW, noDB := up, up
	wrongPW.Password = "wrong-pw-not-in-errors"
	noDB.Database = "no_such_database"
	for what, c := range map[string]pool.PostgresPoolConfig{"a wrong password": wrongPW, "a missing database": noDB} {
		_, err := postgres.New(t.Context(), m, c, itemSchema)
		if errors.Is(err, repo.ErrUnavailable) || !errors.Is(err, pool.ErrInvalidConfig) || pool.IsTransient(err) {
			t.Errorf("New with %s: %v, want pool.ErrInvalidConfig, not unavailable or transient", what, err)
		}
		if err != nil && strings.Contains(err.Error(), wrongPW.Password) {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}
