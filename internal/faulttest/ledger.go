package faulttest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/repo"
)

// outcome is what a write call reported.
type outcome int

const (
	acked     outcome = iota // success: the write must be visible afterwards
	rejected                 // a definite "not done" (already exists, version conflict, not found, invalid input): it must not be visible
	ambiguous                // anything else (unavailable, deadline): it may or may not have been applied
)

// classify maps a write's error to its outcome.
func classify(err error) outcome {
	switch {
	case err == nil:
		return acked
	case errors.Is(err, repo.ErrAlreadyExists), errors.Is(err, repo.ErrVersionConflict),
		errors.Is(err, repo.ErrNotFound), errors.Is(err, repo.ErrInvalidInput):
		return rejected
	default:
		return ambiguous
	}
}

// kindName names err's kind for the report.
func kindName(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	if k := repo.KindOf(err); k != nil {
		return k.Error()
	}
	return "untyped"
}

// state is a record's state as the test sees it: absent, or present with a revision (kept in
// Thing.Count, which every write of the test sets).
type state struct {
	exists bool
	count  int64
}

func (s state) String() string {
	if !s.exists {
		return "absent"
	}
	return fmt.Sprintf("count=%d", s.count)
}

// entry is one id's history as its writer knows it. Only one writer touches an id.
type entry struct {
	confirmed state    // the state after the last acknowledged write (absent before the first)
	version   string   // the version of confirmed, for IfVersion
	lastAcked bool     // the last write was acknowledged (so a mismatch means it went missing)
	pending   *state   // an ambiguous write's target: the final state may be it or confirmed
	history   []string // the writes, for failure messages
}

// ledger is one writer's record of every call it made during one fault.
type ledger struct {
	ids   map[string]*entry
	order []string // ids in creation order
	live  []string // ids whose state is known and present: Update and Delete pick from them

	calls, acks, rejects, ambiguous int
	faultCalls, faultOK             int            // calls that started while the fault was on, and those of them that succeeded
	kinds                           map[string]int // error kinds, for the report
	longest                         time.Duration
	late                            []string // calls that outlived their deadline by more than the slack
}

func newLedger() *ledger {
	return &ledger{ids: map[string]*entry{}, kinds: map[string]int{}}
}

// call books one call's count, duration and error kind.
func (l *ledger) call(what string, during bool, took, bound time.Duration, err error) {
	l.calls++
	if during {
		l.faultCalls++
		if err == nil {
			l.faultOK++
		}
	}
	l.longest = max(l.longest, took)
	if took > bound {
		l.late = append(l.late, fmt.Sprintf("%s took %v (bound %v): %v", what, took.Round(time.Millisecond), bound, err))
	}
	if err != nil {
		l.kinds[kindName(err)]++
	}
}

// write books the outcome of one write on id that would have led to target.
func (l *ledger) write(id, op string, target state, version string, err error) {
	e := l.ids[id]
	if e == nil {
		e = &entry{}
		l.ids[id] = e
		l.order = append(l.order, id)
	}
	o := classify(err)
	e.history = append(e.history, fmt.Sprintf("%s->%s: %s", op, target, outcomeText(o, err)))
	switch o {
	case acked:
		l.acks++
		e.confirmed, e.version, e.lastAcked = target, version, true
		l.dropLive(id)
		if target.exists {
			l.live = append(l.live, id)
		}
	case rejected:
		l.rejects++
		e.lastAcked = false
		l.dropLive(id) // the version held may be stale: leave the id alone from now on
	default:
		l.ambiguous++
		e.pending = &target
		l.dropLive(id)
	}
}

func outcomeText(o outcome, err error) string {
	switch o {
	case acked:
		return "acknowledged"
	case rejected:
		return "rejected: " + err.Error()
	}
	return "ambiguous: " + err.Error()
}

func (l *ledger) dropLive(id string) {
	for i, x := range l.live {
		if x == id {
			l.live[i] = l.live[len(l.live)-1]
			l.live = l.live[:len(l.live)-1]
			return
		}
	}
}

// merge adds o's counts and ids to l.
func (l *ledger) merge(o *ledger) {
	for _, id := range o.order {
		l.ids[id] = o.ids[id]
		l.order = append(l.order, id)
	}
	l.calls += o.calls
	l.acks += o.acks
	l.rejects += o.rejects
	l.ambiguous += o.ambiguous
	l.faultCalls += o.faultCalls
	l.faultOK += o.faultOK
	for k, n := range o.kinds {
		l.kinds[k] += n
	}
	l.longest = max(l.longest, o.longest)
	l.late = append(l.late, o.late...)
}

// verdict is the comparison of a ledger with what the repository holds afterwards.
type verdict struct {
	missing          int      // acknowledged writes not visible (a record, an update, a delete undone)
	phantom          int      // writes reported as not done that are visible
	ambiguousApplied int      // ambiguous writes that were applied
	ambiguousDropped int      // ambiguous writes that were not
	problems         []string // one line per missing, phantom or unexplained id
}

// readState returns id's state in r, retrying errors other than ErrNotFound for up to a
// minute (the fault is gone, but a connection it broke may fail once more).
func readState(ctx context.Context, r repo.Repository[things.Thing], id string) (state, error) {
	var err error
	for i := 0; i < 60; i++ {
		var rec things.Thing
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		rec, err = r.Get(cctx, id)
		cancel()
		switch {
		case err == nil:
			return state{exists: true, count: rec.Count}, nil
		case errors.Is(err, repo.ErrNotFound):
			return state{}, nil
		}
		select {
		case <-ctx.Done():
			return state{}, err
		case <-time.After(time.Second):
		}
	}
	return state{}, err
}

// verify reads every id of l from r and compares it with the ledger.
func (l *ledger) verify(ctx context.Context, r repo.Repository[things.Thing], onErr func(error)) verdict {
	var v verdict
	for _, id := range l.order {
		e := l.ids[id]
		got, err := readState(ctx, r, id)
		if err != nil {
			onErr(err)
			v.problems = append(v.problems, fmt.Sprintf("%s: unreadable after the fault: %v", id, err))
			continue
		}
		switch {
		case e.pending != nil && got == e.confirmed:
			v.ambiguousDropped++
		case e.pending != nil && got == *e.pending:
			v.ambiguousApplied++
		case e.pending == nil && got == e.confirmed:
		case e.lastAcked:
			v.missing++
			v.problems = append(v.problems, fmt.Sprintf("%s: acknowledged %s, found %s (history %v)", id, e.confirmed, got, e.history))
		default:
			if e.pending != nil {
				v.missing++ // neither the last acknowledged state nor the ambiguous write
			} else {
				v.phantom++
			}
			v.problems = append(v.problems, fmt.Sprintf("%s: expected %s, found %s (history %v)", id, e.confirmed, got, e.history))
		}
	}
	return v
}
