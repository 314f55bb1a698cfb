package elasticsearch_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/repo"
)

// clusterBatch is the number of records of each CreateBatch of the cluster test's writers.
const clusterBatch = 20

// lossEntry is one record's history as its writer knows it (one writer per record).
type lossEntry struct {
	confirmed int64  // Count of the last acknowledged write; 0: none acknowledged
	version   string // its version, for the next Update
	pending   int64  // Count of a later write whose outcome is unknown; 0: none
	rejected  bool   // a create answered "already exists" (the ids are fresh)
	conflict  bool   // the pending write is an Update answered "version conflict" (with the known version)
}

// lossLedger is what the writers of one run were told, and how the reads went.
type lossLedger struct {
	mu                   sync.Mutex
	ids                  map[string]*lossEntry
	batches              int // acknowledged CreateBatch calls
	created, updated     int // acknowledged writes
	ackedDown            int // writes acknowledged while the node was down
	ambiguous, conflicts int
	kinds                map[string]int // error kinds of the writes
	firstExists          string         // the first "already exists" answer to a create
	firstConflict        string         // the first "version conflict" answer to an update
	started, acked       atomic.Int64   // creates sent / acknowledged (the base records included)

	readsDown, readsOK, readsUnavailable, readsDeadline int
	incomplete, readOther                               []string
}

func errKind(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline"
	case repo.KindOf(err) != nil:
		return repo.KindOf(err).Error()
	}
	return "untyped: " + err.Error()
}

// writeThroughLoss is one run of the replicated case: 3 shards, 1 replica, a node (the
// elected master when master is true) killed while the writers run and started again.
func (c *cluster) writeThroughLoss(t *testing.T, master bool) {
	c.waitGreen(t)
	r, _ := c.open(t, "cluster", 3, 1)
	base(t, r)
	l := &lossLedger{ids: map[string]*lossEntry{}, kinds: map[string]int{}}
	l.started.Store(clusterBase)
	l.acked.Store(clusterBase)
	cs := &calls{}
	elected := c.master(t)
	victim := elected
	if !master {
		victim = len(c.urls) // the last node that is not the master
		if victim == elected {
			victim--
		}
	}

	var down atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); c.writer(r, l, cs, w, &down, stop) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); c.reader(r, l, cs, &down, stop) }()

	start := time.Now()
	time.Sleep(clusterKillAt)
	if out, err := exec.Command(c.script, "pause", "--node", strconv.Itoa(victim), "--kill").CombinedOutput(); err != nil {
		close(stop)
		wg.Wait()
		t.Fatalf("killing node %d: %v\n%s", victim, err, out)
	}
	killed := time.Now()
	down.Store(true)
	time.Sleep(time.Until(start.Add(clusterResumeAt)))
	resumed := make(chan error, 1)
	go func() {
		out, err := exec.Command(c.script, "resume", "--node", strconv.Itoa(victim)).CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, out)
		}
		down.Store(false)
		resumed <- err
	}()
	time.Sleep(time.Until(start.Add(clusterWriteFor)))
	close(stop)
	wg.Wait()
	rerr := <-resumed
	back := time.Since(killed)
	if rerr != nil {
		t.Fatalf("resuming node %d: %v", victim, rerr)
	}
	green := c.waitGreen(t)

	// Read everything back.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	all, err := r.Find(ctx, things.ThingQuery())
	if err != nil {
		t.Fatalf("Find after the node came back: %v", err)
	}
	stored := make(map[string]int64, len(all))
	for _, rec := range all {
		stored[rec.ID] = rec.Count
	}
	lost, applied, dropped, visibleRejected, visibleConflicts := 0, 0, 0, 0, 0
	var lostIDs []string
	for id, e := range l.ids {
		n, ok := stored[id]
		switch {
		case e.confirmed > 0 && (!ok || (n != e.confirmed && n != e.pending)):
			lost++
			lostIDs = append(lostIDs, fmt.Sprintf("%s (acknowledged count %d, pending %d, stored %d/%v)", id, e.confirmed, e.pending, n, ok))
		case e.confirmed == 0 && e.rejected && ok:
			visibleRejected++
		case e.conflict && ok && n == e.pending:
			visibleConflicts++
		case e.pending > 0 && ok && n == e.pending:
			applied++
		case e.pending > 0 && !e.conflict:
			dropped++
		}
		delete(stored, id)
	}
	for id := range stored {
		if !strings.HasPrefix(id, "base-") {
			t.Errorf("stored record %s was never written", id)
		}
	}
	if len(stored) != clusterBase {
		t.Errorf("%d of the %d base records are stored", len(stored), clusterBase)
	}

	what := "a node that is not the master"
	if master {
		what = "the elected master"
	}
	t.Logf("killed node %d of %d (%s; master was node %d, now node %d), back in the cluster %v after the kill, green %v later",
		victim, len(c.urls), what, elected, c.master(t), back.Round(time.Second), green.Round(time.Second))
	t.Logf("writes acknowledged: %d (%d records in %d CreateBatch calls, %d Updates), %d of them while the node was down; lost: %d; "+
		"ambiguous: %d (applied %d, not applied %d); creates answered already-exists: %d (their own record stored: %d); "+
		"updates answered version-conflict: %d (applied: %d); error kinds %v",
		l.created+l.updated, l.created, l.batches, l.updated, l.ackedDown, lost, l.ambiguous, applied, dropped,
		countRejected(l), visibleRejected, l.conflicts, visibleConflicts, l.kinds)
	// Every writer creates fresh ids and updates only records of its own with the version of
	// their last acknowledged write, so no create can meet an existing record and no update a
	// changed one: an "already exists" or "version conflict" answer is false. It is what a
	// write gets when Elasticsearch resends it (to the promoted replica, which has it already)
	// and the write is not recognized by its token (_rk.w) when read back.
	if n := countRejected(l); n > 0 {
		t.Errorf("%d creates of fresh ids answered already-exists (%d of them stored), e.g. %s", n, visibleRejected, l.firstExists)
	}
	if l.conflicts > 0 {
		t.Errorf("%d updates with the last acknowledged version (no other writer) answered version-conflict (%d of them applied), e.g. %s",
			l.conflicts, visibleConflicts, l.firstConflict)
	}
	t.Logf("calls over deadline (%v + %v): %d; longest call %v", clusterCallTimeout, clusterSlack, len(cs.late), cs.longest.Round(time.Millisecond))
	t.Logf("reads (Count + Find) while the node was down: %d: %d complete, %d ErrUnavailable, %d own deadline; incomplete answers: %d",
		l.readsDown, l.readsOK, l.readsUnavailable, l.readsDeadline, len(l.incomplete))
	if lost > 0 {
		t.Errorf("%d acknowledged writes lost, e.g. %v", lost, lostIDs[:min(5, len(lostIDs))])
	}
	if len(cs.late) > 0 {
		t.Errorf("%d calls returned later than their deadline + %v, e.g. %s", len(cs.late), clusterSlack, cs.late[0])
	}
	if len(l.incomplete) > 0 {
		t.Errorf("%d reads returned incomplete answers, e.g. %s", len(l.incomplete), l.incomplete[0])
	}
	if len(l.readOther) > 0 {
		t.Errorf("%d reads failed with an error other than ErrUnavailable or their deadline, e.g. %s", len(l.readOther), l.readOther[0])
	}
	for k, n := range l.kinds {
		if strings.HasPrefix(k, "untyped") {
			t.Errorf("%d writes failed with an untyped error: %s", n, k)
		}
	}
	if l.ackedDown == 0 {
		t.Errorf("no write was acknowledged while node %d was down (1 replica: the other copies should take over)", victim)
	}
}

func countRejected(l *lossLedger) int {
	n := 0
	for _, e := range l.ids {
		if e.rejected {
			n++
		}
	}
	return n
}

// writer streams CreateBatch calls and conditional Updates on records of its own until stop.
func (c *cluster) writer(r repo.Repository[things.Thing], l *lossLedger, cs *calls, w int, down *atomic.Bool, stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(uint64(w), 42))
	var live []string
	seq := 0
	for {
		select {
		case <-stop:
			return
		default:
		}
		if len(live) == 0 || rng.IntN(3) == 0 {
			recs := make([]things.Thing, clusterBatch)
			for i := range recs {
				seq++
				recs[i] = things.Thing{ID: fmt.Sprintf("w%d-%05d", w, seq), Name: "cluster", Count: 1, Created: time.Now()}
			}
			l.started.Add(clusterBatch)
			var res []repo.Result
			err := cs.timed("CreateBatch "+recs[0].ID, func(ctx context.Context) (err error) {
				res, err = r.CreateBatch(ctx, recs)
				return err
			})
			isDown := down.Load()
			l.mu.Lock()
			ok := 0
			for i, rec := range recs {
				e := &lossEntry{}
				l.ids[rec.ID] = e
				ierr := err
				if ierr == nil && len(res) == len(recs) {
					ierr = res[i].Err
				} else if ierr == nil {
					ierr = fmt.Errorf("CreateBatch returned %d results for %d records", len(res), len(recs))
				}
				switch {
				case ierr == nil:
					e.confirmed, e.version = 1, res[i].Version
					live = append(live, rec.ID)
					ok++
				case errors.Is(ierr, repo.ErrAlreadyExists):
					e.rejected = true
					l.kinds[errKind(ierr)]++
					if l.firstExists == "" {
						l.firstExists = rec.ID + ": " + ierr.Error()
					}
				default:
					e.pending = 1
					l.ambiguous++
					l.kinds[errKind(ierr)]++
				}
			}
			if ok > 0 {
				l.batches++
				l.created += ok
				if isDown {
					l.ackedDown += ok
				}
			}
			l.mu.Unlock()
			l.acked.Add(int64(ok))
			if err != nil {
				time.Sleep(20 * time.Millisecond)
			}
			continue
		}
		k := rng.IntN(len(live))
		id := live[k]
		l.mu.Lock()
		e := l.ids[id]
		rec := things.Thing{ID: id, Name: "cluster", Count: e.confirmed + 1, Created: time.Now()}
		v := e.version
		l.mu.Unlock()
		var got things.Thing
		err := cs.timed("Update "+id, func(ctx context.Context) (err error) {
			got, err = r.Update(ctx, rec, repo.IfVersion(v))
			return err
		})
		isDown := down.Load()
		l.mu.Lock()
		switch {
		case err == nil:
			e.confirmed, e.version = rec.Count, got.RecordVersion
			l.updated++
			if isDown {
				l.ackedDown++
			}
		default:
			// Outcome unknown (or a conflict, which the known version should never give):
			// the record leaves the writer's set.
			if errors.Is(err, repo.ErrVersionConflict) {
				l.conflicts++
				e.conflict = true
				if l.firstConflict == "" {
					l.firstConflict = id + ": " + err.Error()
				}
			} else {
				l.ambiguous++
			}
			e.pending = rec.Count
			l.kinds[errKind(err)]++
			live[k] = live[len(live)-1]
			live = live[:len(live)-1]
		}
		l.mu.Unlock()
		if err != nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// reader counts every record and finds the base records until stop, checking that each
// answer is complete: the count lies between the creates acknowledged before the call and
// those sent by its end, and Find returns every base record.
func (c *cluster) reader(r repo.Repository[things.Thing], l *lossLedger, cs *calls, down *atomic.Bool, stop <-chan struct{}) {
	F := things.ThingFields
	book := func(what string, isDown bool, err error, problem string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if isDown {
			l.readsDown++
		}
		switch {
		case err == nil && problem != "":
			l.incomplete = append(l.incomplete, what+": "+problem)
		case err == nil:
			if isDown {
				l.readsOK++
			}
		case errors.Is(err, repo.ErrUnavailable):
			if isDown {
				l.readsUnavailable++
			}
		case errors.Is(err, context.DeadlineExceeded):
			if isDown {
				l.readsDeadline++
			}
		default:
			l.readOther = append(l.readOther, fmt.Sprintf("%s: %v", what, err))
		}
	}
	for {
		select {
		case <-stop:
			return
		default:
		}
		isDown := down.Load()
		lo := l.acked.Load()
		var n int64
		err := cs.timed("Count", func(ctx context.Context) (err error) {
			n, err = r.Count(ctx, things.ThingQuery())
			return err
		})
		hi := l.started.Load()
		problem := ""
		if n < lo || n > hi {
			problem = fmt.Sprintf("%d records, want between %d and %d", n, lo, hi)
		}
		book("Count", isDown, err, problem)

		isDown = down.Load()
		var found []things.Thing
		err = cs.timed("Find", func(ctx context.Context) (err error) {
			found, err = r.Find(ctx, things.ThingQuery().Where(F.Name.EQ("base")))
			return err
		})
		problem = ""
		if len(found) != clusterBase {
			problem = fmt.Sprintf("%d base records, want %d", len(found), clusterBase)
		}
		book("Find", isDown, err, problem)
		time.Sleep(100 * time.Millisecond)
	}
}

// noReplicas: with 0 replicas a killed node takes its shards with it; Find and Count over the
// index must then fail with ErrUnavailable, never return the records of the other shards.
func (c *cluster) noReplicas(t *testing.T) {
	c.waitGreen(t)
	r, index := c.open(t, "noreplica", 3, 0)
	base(t, r)
	elected := c.master(t)
	victim := 0 // a node holding a shard, other than the master if there is one
	for _, name := range strings.Fields(c.get(t, "/_cat/shards/"+index+"?h=node")) {
		if n := nodeNumber(t, name); victim == 0 || victim == elected {
			victim = n
		}
	}
	c.run(t, "pause", "--node", strconv.Itoa(victim), "--kill")
	cs := &calls{}
	F := things.ThingFields
	for i := range 3 {
		var n int64
		err := cs.timed("Count", func(ctx context.Context) (err error) {
			n, err = r.Count(ctx, things.ThingQuery())
			return err
		})
		if !errors.Is(err, repo.ErrUnavailable) {
			t.Errorf("Count with node %d down = %d, %v; want ErrUnavailable", victim, n, err)
		} else if i == 0 {
			t.Logf("Count with node %d down: %v", victim, err)
		}
		var found []things.Thing
		err = cs.timed("Find", func(ctx context.Context) (err error) {
			found, err = r.Find(ctx, things.ThingQuery().Where(F.Name.EQ("base")))
			return err
		})
		if !errors.Is(err, repo.ErrUnavailable) {
			t.Errorf("Find with node %d down = %d records, %v; want ErrUnavailable", victim, len(found), err)
		} else if i == 0 {
			t.Logf("Find with node %d down: %v", victim, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(cs.late) > 0 {
		t.Errorf("calls returned later than their deadline + %v: %v", clusterSlack, cs.late)
	}
	c.run(t, "resume", "--node", strconv.Itoa(victim))
	c.waitGreen(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if n, err := r.Count(ctx, things.ThingQuery()); err != nil || n != clusterBase {
		t.Errorf("Count after node %d came back = %d, %v; want %d", victim, n, err, clusterBase)
	}
}
