package migrate

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestOlderCodeKeep runs OlderCodeKeep on a clock the test moves: when Keeping reads the
// applied version again, what it returns, and that a store found ahead is never read again.
func TestOlderCodeKeep(t *testing.T) {
	errRead := errors.New("read failed")
	ahead := func(n string) bool { return n == "known" }
	// A step moves the clock by advance, then calls Keeping; the next read (when Keeping
	// reads) returns result. want* are what Keeping returns and how many reads were made
	// in all.
	type step struct {
		advance   time.Duration
		result    func(string) bool
		err       error
		wantReads int
		wantKeep  bool
		wantErr   bool
	}
	cases := []struct {
		name    string
		recheck time.Duration
		open    bool // Set was called at open
		atOpen  func(string) bool
		steps   []step
	}{
		{name: "not ahead at open, within the recheck age: no read", recheck: 10 * time.Second, open: true, steps: []step{
			{advance: 0, wantReads: 0},
			{advance: 9 * time.Second, wantReads: 0},
		}},
		{name: "not ahead, then ahead after the recheck age", recheck: 10 * time.Second, open: true, steps: []step{
			{advance: 10 * time.Second, wantReads: 1},
			{advance: 5 * time.Second, result: ahead, wantReads: 1},
			{advance: 5 * time.Second, result: ahead, wantReads: 2, wantKeep: true},
			{advance: time.Hour, wantReads: 2, wantKeep: true},
		}},
		{name: "ahead at open: never read", recheck: 10 * time.Second, open: true, atOpen: ahead, steps: []step{
			{advance: time.Hour, wantReads: 0, wantKeep: true},
		}},
		{name: "no read at open: the first write reads", recheck: 10 * time.Second, steps: []step{
			{advance: 0, result: ahead, wantReads: 1, wantKeep: true},
		}},
		{name: "a failed read is read again by the next write", recheck: 10 * time.Second, open: true, steps: []step{
			{advance: 11 * time.Second, err: errRead, wantReads: 1, wantErr: true},
			{advance: 0, result: ahead, wantReads: 2, wantKeep: true},
		}},
		{name: "a read that finds nothing to keep counts as a read", recheck: 10 * time.Second, open: true, steps: []step{
			{advance: 11 * time.Second, wantReads: 1},
			{advance: 9 * time.Second, result: ahead, wantReads: 1},
			{advance: time.Second, result: ahead, wantReads: 2, wantKeep: true},
		}},
		{name: "recheck 0: every write reads until ahead", recheck: 0, open: true, steps: []step{
			{advance: 0, wantReads: 1},
			{advance: 0, wantReads: 2},
			{advance: 0, result: ahead, wantReads: 3, wantKeep: true},
			{advance: 0, wantReads: 3, wantKeep: true},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC)
			reads := 0
			var next step
			k := newOlderCodeKeep(c.recheck, func(context.Context) (func(string) bool, error) {
				reads++
				return next.result, next.err
			}, func() time.Time { return clock })
			if c.open {
				k.Set(c.atOpen)
			}
			for i, s := range c.steps {
				clock = clock.Add(s.advance)
				next = s
				keep, err := k.Keeping(context.Background())
				if (err != nil) != s.wantErr || (s.wantErr && !errors.Is(err, errRead)) {
					t.Fatalf("step %d: error %v, want error %v", i, err, s.wantErr)
				}
				if (keep != nil) != s.wantKeep {
					t.Fatalf("step %d: keep set %v, want %v", i, keep != nil, s.wantKeep)
				}
				if keep != nil && (!keep("known") || keep("newer")) {
					t.Fatalf("step %d: Keeping returned another skip function than the read's", i)
				}
				if reads != s.wantReads {
					t.Fatalf("step %d: %d reads in all, want %d", i, reads, s.wantReads)
				}
			}
		})
	}
}

// TestOlderCodeKeepNil checks that a driver without migrations (nil) keeps nothing.
func TestOlderCodeKeepNil(t *testing.T) {
	var k *OlderCodeKeep
	if keep, err := k.Keeping(context.Background()); keep != nil || err != nil {
		t.Fatalf("nil OlderCodeKeep: %v, %v; want nil, nil", keep != nil, err)
	}
}

// TestOlderCodeKeepConcurrent checks that writes finding the last read too old at once
// share one read: the first read holds the others (all past their first look at the age)
// until it returns, and they find it fresh. It fails without the lock or without the
// second look under it (8 reads).
func TestOlderCodeKeepConcurrent(t *testing.T) {
	var reads atomic.Int32
	started, release := make(chan struct{}), make(chan struct{})
	k := NewOlderCodeKeep(time.Hour, func(context.Context) (func(string) bool, error) {
		if reads.Add(1) == 1 {
			close(started)
		}
		<-release
		return nil, nil
	})
	var wg sync.WaitGroup
	var calling atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			calling.Add(1)
			if _, err := k.Keeping(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	<-started
	for calling.Load() < 8 {
		runtime.Gosched()
	}
	// Give the other seven time to reach the lock (a short wait can only make the test
	// pass when it should fail, never the reverse).
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := reads.Load(); n != 1 {
		t.Fatalf("%d reads for 8 concurrent writes within the recheck age of each other, want 1", n)
	}
}
