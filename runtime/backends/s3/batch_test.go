package s3_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

func newDriver(t *testing.T, opts ...s3.Option) (context.Context, *s3.Driver[things.Thing], *repo.Collection[things.Thing]) {
	t.Helper()
	cfg := testConfig(t)
	m := pool.New(pool.Options{KeepIdle: true})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	cfg.Prefix = freshPrefix(t, m, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	d, err := s3.New(ctx, m, cfg, things.ThingSchema, opts...)
	if err != nil {
		t.Fatal(err)
	}
	r := repo.New(things.ThingSchema, d)
	t.Cleanup(func() { _ = r.Close() })
	return ctx, d, r
}

func someThings(n int, prefix string) []things.Thing {
	out := make([]things.Thing, n)
	for i := range out {
		out[i] = things.Thing{ID: fmt.Sprintf("%s%04d", prefix, i), Name: "n", Count: int64(i), Created: time.Unix(0, 0).UTC()}
	}
	return out
}

func TestBatchExtensions(t *testing.T) {
	ctx, d, r := newDriver(t, s3.WithConcurrency(4))
	recs := someThings(30, "u")
	recs[3].ID = "odd id/../ é"
	res, err := d.UpsertBatch(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range res {
		if x.Err != nil || x.Version == "" || x.ID != recs[i].ID {
			t.Fatalf("UpsertBatch %d: %+v", i, x)
		}
	}
	// Upserting again replaces, with new versions.
	res2, err := d.UpsertBatch(ctx, recs[:2])
	if err != nil || res2[0].Version == res[0].Version {
		t.Fatalf("second UpsertBatch: %v, versions %q %q", err, res2[0].Version, res[0].Version)
	}
	ids := []string{recs[0].ID, "missing", recs[3].ID, ""}
	got, gres, err := d.GetBatch(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if gres[0].Err != nil || got[0].ID != recs[0].ID || got[0].RecordVersion != res2[0].Version {
		t.Errorf("GetBatch[0] = %+v %+v", got[0], gres[0])
	}
	if !errors.Is(gres[1].Err, repo.ErrNotFound) {
		t.Errorf("GetBatch of a missing id: %v", gres[1].Err)
	}
	if gres[2].Err != nil || got[2].ID != recs[3].ID {
		t.Errorf("GetBatch of an escaped id: %+v %v", got[2], gres[2].Err)
	}
	if !errors.Is(gres[3].Err, repo.ErrInvalidInput) {
		t.Errorf("GetBatch of an empty id: %v", gres[3].Err)
	}
	del := []string{recs[0].ID, recs[3].ID, recs[5].ID, "never-stored"}
	dres, err := d.DeleteBatch(ctx, del)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range dres {
		if x.Err != nil {
			t.Errorf("DeleteBatch %s: %v", del[i], x.Err)
		}
	}
	if n, err := r.Count(ctx, things.ThingQuery()); err != nil || n != 27 {
		t.Errorf("Count after DeleteBatch = %d, %v; want 27", n, err)
	}
	if ok, _ := r.Exists(ctx, recs[3].ID); ok {
		t.Errorf("%q still exists", recs[3].ID)
	}
}

// TestBatchCancel cancels a large CreateBatch early: it returns promptly with the context
// error, every item has a result, and the items it reports stored are stored.
func TestBatchCancel(t *testing.T) {
	ctx, _, r := newDriver(t, s3.WithConcurrency(2))
	recs := someThings(400, "c")
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	res, err := r.CreateBatch(cctx, recs)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CreateBatch error %v, want the deadline", err)
	}
	stored := 0
	for i, x := range res {
		switch {
		case x.Err == nil:
			stored++
			if ok, err := r.Exists(ctx, recs[i].ID); err != nil || !ok {
				t.Errorf("%s reported stored, Exists = %v, %v", recs[i].ID, ok, err)
			}
		case !errors.Is(x.Err, context.DeadlineExceeded) && !errors.Is(x.Err, context.Canceled):
			t.Errorf("%s: %v, want a context error", recs[i].ID, x.Err)
		}
	}
	if stored == len(recs) {
		t.Errorf("all %d stored before the deadline; the test proves nothing", stored)
	}
	t.Logf("%d of %d stored before the deadline", stored, len(recs))
}
