package faulttest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/memory"
	"github.com/repokit/repokit/runtime/repo"
)

// TestVerify: the ledger's check finds a missing acknowledged write, a visible rejected one
// and sorts ambiguous ones, on the memory backend where the test can change records behind
// the writer's back.
func TestVerify(t *testing.T) {
	unavailable := repo.E(repo.ErrUnavailable, errors.New("connection refused"))
	conflict := repo.E(repo.ErrVersionConflict, errors.New("stale"))
	cases := []struct {
		name  string
		write func(l *ledger)                       // what the writer booked
		store func(r repo.Repository[things.Thing]) // what the store really holds
		want  verdict
	}{
		{"acked create present", func(l *ledger) { l.write("a", "Create", state{true, 1}, "v", nil) },
			func(r repo.Repository[things.Thing]) { mustCreate(t, r, "a", 1) }, verdict{}},
		{"acked create missing", func(l *ledger) { l.write("a", "Create", state{true, 1}, "v", nil) },
			func(r repo.Repository[things.Thing]) {}, verdict{missing: 1}},
		{"acked update lost", func(l *ledger) {
			l.write("a", "Create", state{true, 1}, "v", nil)
			l.write("a", "Update", state{true, 2}, "v2", nil)
		}, func(r repo.Repository[things.Thing]) { mustCreate(t, r, "a", 1) }, verdict{missing: 1}},
		{"acked delete undone", func(l *ledger) {
			l.write("a", "Create", state{true, 1}, "v", nil)
			l.write("a", "Delete", state{}, "", nil)
		}, func(r repo.Repository[things.Thing]) { mustCreate(t, r, "a", 1) }, verdict{missing: 1}},
		{"rejected update visible", func(l *ledger) {
			l.write("a", "Create", state{true, 1}, "v", nil)
			l.write("a", "Update", state{true, 2}, "", conflict)
		}, func(r repo.Repository[things.Thing]) { mustCreate(t, r, "a", 2) }, verdict{phantom: 1}},
		{"ambiguous applied and dropped", func(l *ledger) {
			l.write("a", "Create", state{true, 1}, "", unavailable)
			l.write("b", "Create", state{true, 1}, "", unavailable)
		}, func(r repo.Repository[things.Thing]) { mustCreate(t, r, "a", 1) }, verdict{ambiguousApplied: 1, ambiguousDropped: 1}},
		{"ambiguous neither", func(l *ledger) {
			l.write("a", "Create", state{true, 1}, "v", nil)
			l.write("a", "Update", state{true, 2}, "", unavailable)
		}, func(r repo.Repository[things.Thing]) { mustCreate(t, r, "a", 7) }, verdict{missing: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := repo.New(things.ThingSchema, memory.New(things.ThingSchema))
			defer r.Close()
			l := newLedger()
			c.write(l)
			c.store(r)
			got := l.verify(context.Background(), r, func(error) {})
			if got.missing != c.want.missing || got.phantom != c.want.phantom ||
				got.ambiguousApplied != c.want.ambiguousApplied || got.ambiguousDropped != c.want.ambiguousDropped {
				t.Errorf("verdict %+v, want %+v", got, c.want)
			}
			if bad := got.missing + got.phantom; len(got.problems) != bad {
				t.Errorf("%d problems listed for %d bad ids: %v", len(got.problems), bad, got.problems)
			}
		})
	}
}

func mustCreate(t *testing.T, r repo.Repository[things.Thing], id string, count int64) {
	t.Helper()
	if _, err := r.Create(context.Background(), thing(id, count)); err != nil {
		t.Fatal(err)
	}
}

// TestLateCall: a call slower than its bound is listed.
func TestLateCall(t *testing.T) {
	l := newLedger()
	l.call("Create a", true, time.Second, 2*time.Second, nil)
	l.call("Create b", true, 3*time.Second, 2*time.Second, context.DeadlineExceeded)
	if len(l.late) != 1 || l.longest != 3*time.Second || l.kinds["deadline"] != 1 || l.faultCalls != 2 || l.faultOK != 1 {
		t.Errorf("late %v, longest %v, kinds %v, fault calls %d/%d", l.late, l.longest, l.kinds, l.faultOK, l.faultCalls)
	}
}

// TestScan: a secret in an error, a log line or a Stats value is found, and the finding
// masks it.
func TestScan(t *testing.T) {
	const secret = "s3cr3t-pw"
	cases := []struct {
		name    string
		produce func(c *Collector)
		want    int
	}{
		{"clean", func(c *Collector) {
			c.Err(errors.New("connection refused"))
			c.Logger().Info("pool created", "config", "postgres://u:***@h/db")
		}, 0},
		{"error", func(c *Collector) { c.Err(errors.New("dial postgres://u:" + secret + "@h")) }, 1},
		{"log", func(c *Collector) { c.Logger().Debug("recreate", "dsn", "password="+secret) }, 1},
		{"stats", func(c *Collector) { c.Add("stats", "{LastError:dial failed for "+secret+"}") }, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			col := NewCollector()
			c.produce(col)
			got := col.Scan([]string{"", secret})
			if len(got) != c.want {
				t.Fatalf("%d findings, want %d: %v", len(got), c.want, got)
			}
			for _, f := range got {
				if strings.Contains(f, secret) {
					t.Errorf("the finding shows the secret: %s", f)
				}
			}
		})
	}
}
