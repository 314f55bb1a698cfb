package drivertest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

func hundred(t *testing.T, ctx context.Context, r repo.Repository[things.Thing]) {
	t.Helper()
	recs := make([]things.Thing, 100)
	for i := range recs {
		recs[i] = things.Thing{ID: fmt.Sprintf("s%03d", i), Name: "stream", Count: int64(i % 10), Created: t0}
	}
	seed(ctx, t, r, recs)
}

func testStream(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	hundred(t, ctx, r)
	F := things.ThingFields
	for _, q := range []query.Query[things.Thing]{
		things.ThingQuery(),
		things.ThingQuery().Where(F.Count.GTE(5)).OrderBy(F.Count.Desc()).Offset(3).Limit(20),
		things.ThingQuery().Where(F.Name.EQ("none")),
	} {
		want := findIDs(ctx, t, r, q)
		var got []string
		for rec, err := range r.Stream(ctx, q) {
			if err != nil {
				t.Fatalf("Stream(%s): %v", q, err)
			}
			got = append(got, rec.ID)
		}
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("Stream(%s) = %v, Find = %v", q, got, want)
		}
	}
}

func testStreamBreak(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	hundred(t, ctx, r)
	// A complete stream first, so that connections a backend keeps for reuse exist before
	// the goroutine snapshot.
	n := 0
	for _, err := range r.Stream(ctx, things.ThingQuery()) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 100 {
		t.Fatalf("full stream: %d records", n)
	}
	opts := []goleak.Option{goleak.IgnoreCurrent()}
	if li, ok := h.(LeakIgnorer); ok {
		opts = append(opts, li.LeakOptions()...)
	}
	for _, stop := range []int{1, 3, 99} {
		n := 0
		for _, err := range r.Stream(ctx, things.ThingQuery()) {
			if err != nil {
				t.Fatal(err)
			}
			n++
			if n == stop {
				break
			}
		}
		if n != stop {
			t.Errorf("stream broken off after %d records read %d", stop, n)
		}
	}
	// Two interleaved streams, both broken off.
	outer := 0
	for range r.Stream(ctx, things.ThingQuery()) {
		outer++
		inner := 0
		for range r.Stream(ctx, things.ThingQuery().Where(things.ThingFields.Count.EQ(3))) {
			inner++
			if inner == 2 {
				break
			}
		}
		if outer == 2 {
			break
		}
	}
	goleak.VerifyNone(t, opts...)
	// Nothing is held: writes and reads still work.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := r.Create(wctx, things.Thing{ID: "after-break", Name: "x", Created: t0}); err != nil {
		t.Errorf("Create after breaking off streams: %v", err)
	}
	if n := count(wctx, t, r, things.ThingQuery()); n != 101 {
		t.Errorf("Count after breaking off streams = %d", n)
	}
}

func testStreamCancel(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	hundred(t, ctx, r)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n, afterErr := 0, 0
	var serr error
	for _, err := range r.Stream(sctx, things.ThingQuery()) {
		if serr != nil {
			afterErr++
		}
		if err != nil {
			serr = err
			continue
		}
		n++
		if n == 2 {
			cancel()
		}
	}
	if serr == nil {
		t.Fatalf("a stream whose context was cancelled after 2 of 100 records read %d records and no error", n)
	}
	if !errors.Is(serr, context.Canceled) {
		t.Errorf("stream error %q is not context.Canceled", serr)
	}
	if n >= 100 {
		t.Errorf("read %d records after cancelling", n)
	}
	if afterErr != 0 {
		t.Errorf("the stream yielded %d more items after its error", afterErr)
	}

	done, cancel2 := context.WithCancel(ctx)
	cancel2()
	_, err := r.Find(done, things.ThingQuery())
	wantCtxErr(t, "Find with a cancelled context", err, context.Canceled)
	_, err = r.Count(done, things.ThingQuery())
	wantCtxErr(t, "Count with a cancelled context", err, context.Canceled)
	_, err = r.Get(done, "s001")
	wantCtxErr(t, "Get with a cancelled context", err, context.Canceled)
	_, err = r.Create(done, things.Thing{ID: "cancelled", Name: "x", Created: t0})
	wantCtxErr(t, "Create with a cancelled context", err, context.Canceled)
	if ok, _ := r.Exists(ctx, "cancelled"); ok {
		t.Errorf("a Create with a cancelled context stored the record")
	}
	past, cancel3 := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel3()
	var derr error
	for _, err := range r.Stream(past, things.ThingQuery()) {
		if err != nil {
			derr = err
			break
		}
	}
	wantCtxErr(t, "Stream past its deadline", derr, context.DeadlineExceeded)
}

func wantCtxErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %v", what, want)
	} else if !errors.Is(err, want) {
		t.Errorf("%s: error %q is not %v", what, err, want)
	}
}
