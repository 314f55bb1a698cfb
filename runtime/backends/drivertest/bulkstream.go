package drivertest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/repo"
)

// bulkThings returns n minimal records with ids prefix000, prefix001, ..., kind a for even
// positions and b for odd ones, rank i.
func bulkThings(prefix string, n int) []things.Thing {
	out := make([]things.Thing, n)
	for i := range out {
		out[i] = minimalThing(prefix + itoa(i))
		out[i].Rank = ptr(int64(i))
		out[i].Kind = ptr(things.ThingKindA)
		if i%2 == 1 {
			out[i].Kind = ptr(things.ThingKindB)
		}
	}
	return out
}

func testDeleteWhere(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, bulkThings("w", 25))
	f := things.ThingFields
	n, err := r.DeleteWhere(ctx, things.ThingQuery().Where(f.Kind.EQ(things.ThingKindB), f.Rank.LT(20)))
	if err != nil || n != 10 {
		t.Fatalf("DeleteWhere(kind b, rank < 20) = %d, %v; want 10", n, err)
	}
	if c := count(ctx, t, r, things.ThingQuery()); c != 15 {
		t.Errorf("Count = %d after deleting 10 of 25", c)
	}
	n, err = r.DeleteWhere(ctx, things.ThingQuery().Where(f.Kind.EQ(things.ThingKindB), f.Rank.LT(20)))
	if err != nil || n != 0 {
		t.Errorf("second DeleteWhere = %d, %v; want 0", n, err)
	}
	// Sort and projection do not apply; a limit or an offset is refused.
	n, err = r.DeleteWhere(ctx, things.ThingQuery().Where(f.Rank.GTE(20)).OrderBy(f.Name.Desc()).Select(f.Name))
	if err != nil || n != 5 {
		t.Errorf("DeleteWhere(rank >= 20) sorted and projected = %d, %v; want 5", n, err)
	}
	_, err = r.DeleteWhere(ctx, things.ThingQuery().Limit(1))
	wantErr(t, "DeleteWhere with a limit", err, repo.ErrInvalidInput)
	_, err = r.DeleteWhere(ctx, things.ThingQuery().Offset(1))
	wantErr(t, "DeleteWhere with an offset", err, repo.ErrInvalidInput)
	// No filter: every record (the seed's clear).
	n, err = r.DeleteWhere(ctx, things.ThingQuery())
	if err != nil || n != 10 {
		t.Errorf("DeleteWhere of everything = %d, %v; want 10", n, err)
	}
	if c := count(ctx, t, r, things.ThingQuery()); c != 0 {
		t.Errorf("Count = %d after deleting everything", c)
	}
	n, err = r.DeleteWhere(ctx, things.ThingQuery())
	if err != nil || n != 0 {
		t.Errorf("DeleteWhere on an empty store = %d, %v", n, err)
	}
	// The ids are free again.
	seed(ctx, t, r, bulkThings("w", 3))
}

// seqOf yields recs.
func seqOf[T any](recs []T) iter.Seq[T] {
	return func(yield func(T) bool) {
		for _, r := range recs {
			if !yield(r) {
				return
			}
		}
	}
}

// wantFailures fails the test unless the failures are, in order, at the given input indexes
// with the given ids and error kinds.
func wantFailures(t *testing.T, what string, got []repo.StreamFailure, idx []int64, ids []string, kinds []error) {
	t.Helper()
	if len(got) != len(idx) {
		t.Fatalf("%s: %d failures, want %d: %+v", what, len(got), len(idx), got)
	}
	for i, f := range got {
		if f.Index != idx[i] || f.ID != ids[i] {
			t.Errorf("%s: failure %d is item %d (%q), want %d (%q)", what, i, f.Index, f.ID, idx[i], ids[i])
		}
		wantErr(t, fmt.Sprintf("%s: failure %d", what, i), f.Err, kinds[i])
	}
}

func testStreamWrite(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, []things.Thing{minimalThing("s-pre")})
	recs := bulkThings("s", 25)
	recs[12].ID = recs[3].ID // an id stored by an earlier batch
	recs[14].ID = recs[13].ID
	recs[17].Ratio = math.NaN() // invalid
	recs[20].ID = "s-pre"       // stored before
	res, err := r.StreamWrite(ctx, seqOf(recs), repo.StreamBatchSize(10))
	if err != nil {
		t.Fatalf("StreamWrite: %v", err)
	}
	if res.Processed != 25 || res.Written != 21 || res.Failed != 4 || res.Batches != 3 || res.Deleted != 0 || res.Skipped != 0 {
		t.Errorf("StreamWrite result %+v; want 25 processed, 21 written, 4 failed in 3 batches", res)
	}
	wantFailures(t, "StreamWrite", res.Failures, []int64{12, 14, 17, 20}, []string{"s003", "s013", "s017", "s-pre"},
		[]error{repo.ErrAlreadyExists, repo.ErrAlreadyExists, repo.ErrInvalidInput, repo.ErrAlreadyExists})
	if n := count(ctx, t, r, things.ThingQuery()); n != 22 {
		t.Errorf("Count = %d, want 22", n)
	}
	if got := stored(ctx, t, r, "s013"); got.Rank == nil || *got.Rank != 13 {
		t.Errorf("s013 is %+v: the first record of an id wins", got)
	}

	empty, err := r.StreamWrite(ctx, seqOf[things.Thing](nil))
	if err != nil || empty.Processed != 0 || empty.Batches != 0 {
		t.Errorf("StreamWrite of nothing = %+v, %v", empty, err)
	}
	_, err = r.StreamWrite(ctx, seqOf(recs), repo.StreamBatchSize(0))
	wantErr(t, "StreamBatchSize(0)", err, repo.ErrInvalidInput)

	// Generated ids.
	ctx, o := makeOthers(t, h)
	ores, err := o.StreamWrite(ctx, seqOf([]things.Other{{Label: "x"}, {Label: "y"}, {Label: "z"}}), repo.StreamBatchSize(2))
	if err != nil || ores.Written != 3 || ores.Batches != 2 {
		t.Errorf("StreamWrite of Others = %+v, %v", ores, err)
	}
	if n := count(ctx, t, o, things.OtherQuery()); n != 3 {
		t.Errorf("Count of Others = %d", n)
	}
}

// testStreamWriteCancel: a context cancelled part-way stops StreamWrite from reading the
// sequence; the result says what was stored (what Count finds) and lists the records read
// but not sent.
func testStreamWriteCancel(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	recs := bulkThings("c", 40)
	yielded := 0
	seq := func(yield func(things.Thing) bool) {
		for i, rec := range recs {
			yielded++
			if !yield(rec) {
				return
			}
			if i == 24 {
				cancel()
			}
		}
	}
	res, err := r.StreamWrite(cctx, seq, repo.StreamBatchSize(10))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("StreamWrite cancelled: error %v, want context.Canceled", err)
	}
	if yielded != 26 {
		t.Errorf("the sequence yielded %d records; StreamWrite should stop it at the first after the cancel (26)", yielded)
	}
	// The first batch (0-9) was written before the cancel; the second (10-19) was being
	// written while 20-24 were read (one batch is in flight while the next is read), so it
	// may have been stored or failed with the cancel; 20-24 were read but not sent.
	if res.Processed != 25 || (res.Written != 10 && res.Written != 20) || res.Failed != 25-res.Written || res.Batches != 2 {
		t.Errorf("result %+v; want 25 processed, 10 or 20 written, the rest failed, 2 batches", res)
	}
	var idx []int64
	var ids []string
	var errs []error
	for i := res.Written; i < 25; i++ {
		idx = append(idx, i)
		ids = append(ids, fmt.Sprintf("c%03d", i))
		errs = append(errs, context.Canceled)
	}
	wantFailures(t, "cancelled StreamWrite", res.Failures, idx, ids, errs)
	if n := count(ctx, t, r, things.ThingQuery()); n != res.Written {
		t.Errorf("Count = %d, StreamWrite reported %d written", n, res.Written)
	}
	_, err = r.Get(ctx, "c020")
	wantErr(t, "a record read after the cancel", err, repo.ErrNotFound)
}

func testStreamTransform(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, bulkThings("t", 12))
	seed(ctx, t, r, []things.Thing{minimalThing("u-other")}) // not matched
	calls := map[string]int{}
	fn := func(x things.Thing) (things.Thing, repo.Action, error) {
		calls[x.ID]++
		switch x.ID {
		case "t003":
			return x, repo.ActionSkip, nil
		case "t005":
			return x, repo.ActionDelete, nil
		case "t006": // changed by another writer after it was read: a conflict
			y := x
			y.Name = "changed meanwhile"
			if _, err := r.Update(ctx, y); err != nil {
				return x, 0, err
			}
		case "t007":
			x.ID = "t007-renamed"
			return x, repo.ActionWrite, nil
		case "t009": // deleted meanwhile: the delete finds nothing
			if err := r.Delete(ctx, "t009"); err != nil {
				return x, 0, err
			}
			return x, repo.ActionDelete, nil
		}
		x.Name = "renamed " + x.Name // still matches: never read again
		return x, repo.ActionWrite, nil
	}
	f := things.ThingFields
	res, err := r.StreamTransform(ctx, things.ThingQuery().Where(f.ID.StartsWith("t")).OrderBy(f.Rank.Desc()), fn,
		repo.StreamBatchSize(5))
	if err != nil {
		t.Fatalf("StreamTransform: %v", err)
	}
	if res.Processed != 12 || res.Written != 7 || res.Deleted != 1 || res.Skipped != 1 || res.Failed != 3 || res.Batches != 3 {
		t.Errorf("result %+v; want 12 processed, 7 written, 1 deleted, 1 skipped, 3 failed, 3 batches", res)
	}
	wantFailures(t, "StreamTransform", res.Failures, []int64{6, 7, 9}, []string{"t006", "t007", "t009"},
		[]error{repo.ErrVersionConflict, repo.ErrInvalidInput, repo.ErrNotFound})
	for id, n := range calls {
		if n != 1 {
			t.Errorf("fn saw %s %d times", id, n)
		}
	}
	if len(calls) != 12 {
		t.Errorf("fn saw %d records, want 12", len(calls))
	}
	recs := find(ctx, t, r, things.ThingQuery())
	got := map[string]string{}
	for _, x := range recs {
		got[x.ID] = x.Name
	}
	for i := range 12 {
		id := "t" + itoa(i)
		want := "renamed min " + id
		switch i {
		case 3, 7:
			want = "min " + id
		case 5, 9:
			want = ""
		case 6:
			want = "changed meanwhile"
		}
		if got[id] != want {
			t.Errorf("%s is %q, want %q", id, got[id], want)
		}
	}
	if got["u-other"] != "min u-other" {
		t.Errorf("a record the filter does not match was changed: %q", got["u-other"])
	}

	_, err = r.StreamTransform(ctx, things.ThingQuery().Limit(3), fn)
	wantErr(t, "StreamTransform with a limit", err, repo.ErrInvalidInput)
	_, err = r.StreamTransform(ctx, things.ThingQuery().Select(f.Name), fn)
	wantErr(t, "StreamTransform with a projection", err, repo.ErrInvalidInput)
}

// testStreamTransformError: an error from fn stops StreamTransform; the decisions made before
// it are carried out and the error is returned with the counts.
func testStreamTransformError(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, bulkThings("e", 8))
	stop := errors.New("stop here")
	res, err := r.StreamTransform(ctx, things.ThingQuery(), func(x things.Thing) (things.Thing, repo.Action, error) {
		if x.ID == "e003" {
			return x, 0, stop
		}
		x.Name = "done"
		return x, repo.ActionWrite, nil
	}, repo.StreamBatchSize(5))
	if !errors.Is(err, stop) {
		t.Fatalf("StreamTransform error %v, want fn's", err)
	}
	if res.Processed != 4 || res.Written != 3 || res.Failed != 1 {
		t.Errorf("result %+v; want 4 processed, 3 written, 1 failed", res)
	}
	wantFailures(t, "StreamTransform stopped", res.Failures, []int64{3}, []string{"e003"}, []error{stop})
	var done []string
	for _, x := range find(ctx, t, r, things.ThingQuery()) {
		if x.Name == "done" {
			done = append(done, x.ID)
		}
	}
	if !slices.Equal(done, []string{"e000", "e001", "e002"}) {
		t.Errorf("written: %v, want [e000 e001 e002]", done)
	}
	// An action fn may not return stops it too.
	_, err = r.StreamTransform(ctx, things.ThingQuery(), func(x things.Thing) (things.Thing, repo.Action, error) {
		return x, 0, nil
	})
	wantErr(t, "fn returning Action(0)", err, repo.ErrInvalidInput)
}
