package s3_test

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
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// TestRestart kills the S3 server (SIGKILL) and starts it again while CreateBatch calls
// run. Items that fail get per-item errors (never a hang, never a false success) and are
// sent again; once the server is back every item is stored, and every write that was
// acknowledged is present afterwards with the acknowledged version.
func TestRestart(t *testing.T) {
	cfg := testConfig(t)
	ctl := servicetest.S3Ctl(t)
	m := pool.New(pool.Options{KeepIdle: true})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	cfg.Prefix = freshPrefix(t, m, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	d, err := s3.New(ctx, m, cfg, things.ThingSchema, s3.WithConcurrency(8))
	if err != nil {
		t.Fatal(err)
	}
	r := repo.New(things.ThingSchema, d)
	defer r.Close()

	const total, batch = 2000, 50
	pending := make([]things.Thing, total)
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range pending {
		pending[i] = things.Thing{ID: fmt.Sprintf("r%05d", i), Name: "restart", Count: int64(i), Created: t0}
	}
	acked := map[string]string{}    // id → acknowledged version
	ambiguous := map[string]bool{}  // failed once, then "already exists": stored, ack lost
	failedOnce := map[string]bool{} // ids that got an error at least once
	kinds := map[string]int{}
	var calls, itemErrs, wholeErrs int

	var ctlMu sync.Mutex
	var killedAt, resumedAt time.Time
	ctlDone := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		<-started
		ctlMu.Lock()
		killedAt = time.Now()
		ctlMu.Unlock()
		if out, err := exec.Command(ctl, "pause", "--kill").CombinedOutput(); err != nil {
			ctlDone <- fmt.Errorf("pause --kill: %v: %s", err, out)
			return
		}
		time.Sleep(3 * time.Second)
		out, err := exec.Command(ctl, "resume").CombinedOutput()
		ctlMu.Lock()
		resumedAt = time.Now()
		ctlMu.Unlock()
		if err != nil {
			ctlDone <- fmt.Errorf("resume: %v: %s", err, out)
			return
		}
		ctlDone <- nil
	}()
	defer func() {
		// Never leave the server down for the other tests.
		if out, err := exec.Command(ctl, "resume").CombinedOutput(); err != nil {
			t.Errorf("resume after the test: %v: %s", err, out)
		}
	}()

	begin := time.Now()
	var lastFailure time.Time
	ctlFinished := false
	for round := 0; len(pending) > 0; round++ {
		// A server that does not come back fails the test with the control script's output
		// (its log tail), not with a timeout that hides why.
		select {
		case err := <-ctlDone:
			if err != nil {
				t.Fatal(err)
			}
			ctlFinished = true
		default:
		}
		if ctx.Err() != nil {
			t.Fatalf("gave up with %d items pending (control script finished: %v)", len(pending), ctlFinished)
		}
		n := min(batch, len(pending))
		part := pending[:n]
		calls++
		res, err := r.CreateBatch(ctx, part)
		if round == 2 {
			close(started) // kill the server while the next batches run
		}
		if err != nil {
			wholeErrs++
			kinds["whole call: "+kindName(err)]++
		}
		var again []things.Thing
		for i, x := range res {
			id := part[i].ID
			switch {
			case x.Err == nil:
				if x.Version == "" {
					t.Errorf("%s: success without a version", id)
				}
				acked[id] = x.Version
			case errors.Is(x.Err, repo.ErrAlreadyExists) && failedOnce[id]:
				ambiguous[id] = true // an earlier attempt was stored but its answer was lost
			default:
				itemErrs++
				failedOnce[id] = true
				kinds[kindName(x.Err)]++
				lastFailure = time.Now()
				again = append(again, part[i])
			}
		}
		pending = append(again, pending[n:]...)
	}
	elapsed := time.Since(begin)
	if !ctlFinished {
		if err := <-ctlDone; err != nil {
			t.Fatal(err)
		}
	}
	if itemErrs == 0 {
		t.Errorf("no item failed: the server was not down during a batch")
	}
	// Every acknowledged write is there, with its version; the ambiguous ones are there too.
	ids := make([]string, 0, total)
	for i := range total {
		ids = append(ids, fmt.Sprintf("r%05d", i))
	}
	recs, res := make([]things.Thing, len(ids)), make([]repo.Result, len(ids))
	if err := d.GetMany(ctx, ids, recs, res); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if res[i].Err != nil {
			t.Errorf("%s: %v", id, res[i].Err)
			continue
		}
		if v, ok := acked[id]; ok && recs[i].RecordVersion != v {
			t.Errorf("%s: version %s, acknowledged %s", id, recs[i].RecordVersion, v)
		}
		if recs[i].Count != int64(i) {
			t.Errorf("%s: count %d", id, recs[i].Count)
		}
	}
	if n, err := r.Count(ctx, things.ThingQuery()); err != nil || n != total {
		t.Errorf("Count = %d, %v; want %d", n, err, total)
	}
	ctlMu.Lock()
	defer ctlMu.Unlock()
	t.Logf("%d records in %d CreateBatch calls of up to %d (concurrency 8) in %v", total, calls, batch, elapsed.Round(time.Millisecond))
	t.Logf("server killed %v after the start, back (resume returned) %v later; last item failure %v after the kill",
		killedAt.Sub(begin).Round(time.Millisecond), resumedAt.Sub(killedAt).Round(time.Millisecond), lastFailure.Sub(killedAt).Round(time.Millisecond))
	t.Logf("per-item errors: %d (items failing at least once: %d), whole-call errors: %d, kinds: %v", itemErrs, len(failedOnce), wholeErrs, kinds)
	t.Logf("acknowledged: %d, stored but unacknowledged (already exists on retry): %d; all %d present with their acknowledged versions", len(acked), len(ambiguous), total)
}

func kindName(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case repo.KindOf(err) != nil:
		return repo.KindOf(err).Error()
	}
	return "other: " + err.Error()
}
