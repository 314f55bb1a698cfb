package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// TestRestart stops PostgreSQL while a writer loop runs and starts it again: calls during
// the outage must fail with repo.ErrUnavailable before their context ends, the pool must
// recover once the server is back, and every write that returned success must be stored.
func TestRestart(t *testing.T) {
	cfg := testConfig(t)
	ctl := servicetest.PostgresCtl(t)
	cfg.ConnectTimeout = 2 * time.Second
	cfg.HealthCheckPeriod = 500 * time.Millisecond
	cfg.MaxSize = 4
	m := pool.New(pool.Options{KeepIdle: true, ValidateInterval: time.Second})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	ctx := context.Background()
	d, err := postgres.New(ctx, m, cfg, things.ThingSchema, postgres.WithTable(tableName(t, m, cfg, "restart")))
	if err != nil {
		t.Fatal(err)
	}
	r := repo.New(things.ThingSchema, d)
	defer r.Close()

	const callTimeout = 5 * time.Second
	type outcome struct {
		id       string
		at       time.Time
		took     time.Duration
		err      error
		resumed  bool
		finished time.Time
	}
	var (
		mu       sync.Mutex
		outcomes []outcome
		resumed  bool
	)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := fmt.Sprintf("w%06d", i)
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			start := time.Now()
			_, err := r.Create(cctx, things.Thing{ID: id, Name: "w", Count: int64(i), Created: t0})
			cancel()
			mu.Lock()
			outcomes = append(outcomes, outcome{id: id, at: start, took: time.Since(start), err: err, resumed: resumed, finished: time.Now()})
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	run := func(arg string) {
		out, err := exec.Command(ctl, arg).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", ctl, arg, err, out)
		}
	}
	time.Sleep(time.Second)
	stopAt := time.Now()
	run("pause")
	stopped := time.Now()
	time.Sleep(2 * time.Second)
	run("resume")
	resumedAt := time.Now()
	mu.Lock()
	resumed = true
	mu.Unlock()
	// Wait for a success after the resume, then keep writing a little longer.
	deadline := time.Now().Add(60 * time.Second)
	var recovered time.Time
	for recovered.IsZero() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		for _, o := range outcomes {
			if o.resumed && o.err == nil {
				recovered = o.finished
				break
			}
		}
		mu.Unlock()
	}
	time.Sleep(time.Second)
	close(stop)
	<-done
	if recovered.IsZero() {
		t.Fatalf("no write succeeded within 60s after the server was resumed")
	}

	var ok []string
	failed, unavailable, slowest := 0, 0, time.Duration(0)
	for _, o := range outcomes {
		if o.err == nil {
			ok = append(ok, o.id)
			continue
		}
		failed++
		slowest = max(slowest, o.took)
		switch {
		case errors.Is(o.err, repo.ErrUnavailable):
			unavailable++
		default:
			t.Errorf("write %s failed with %v, want repo.ErrUnavailable", o.id, o.err)
		}
		if errors.Is(o.err, context.DeadlineExceeded) {
			t.Errorf("write %s failed with its context's deadline after %v: it waited instead of failing fast", o.id, o.took)
		}
	}
	if failed == 0 {
		t.Errorf("no write failed while the server was stopped: the outage was not observed")
	}
	// Every acknowledged write is stored.
	vctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	n, err := r.Count(vctx, things.ThingQuery().Where(things.ThingFields.ID.IN(ok...)))
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(ok)) {
		t.Errorf("%d of %d acknowledged writes are stored", n, len(ok))
	}
	t.Logf("writes: %d total, %d succeeded (all %d found afterwards), %d failed (%d with ErrUnavailable); slowest failed call %v",
		len(outcomes), len(ok), n, failed, unavailable, slowest.Round(time.Millisecond))
	t.Logf("server stop took %v; stopped for %v; first successful write %v after the resume completed",
		stopped.Sub(stopAt).Round(time.Millisecond), resumedAt.Sub(stopped).Round(time.Millisecond), recovered.Sub(resumedAt).Round(time.Millisecond))
	for _, s := range m.Stats() {
		t.Logf("pool stats: creates=%d validations=%d validation failures=%d last error=%q", s.Creates, s.Validations, s.ValidationFailures, s.LastError)
	}
}
