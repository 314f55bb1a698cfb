package s3_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

func newDriver(t *testing.T, opts ...s3.Option) (context.Context, *s3.Driver[things.Thing], *repo.Collection[things.Thing]) {
	t.Helper()
	return newDriverFor(t, things.ThingSchema, opts...)
}

// newDriverFor returns an S3 driver for desc under a fresh config prefix on the test
// server, and the Collection over it.
func newDriverFor[T any](t *testing.T, desc *record.Desc[T], opts ...s3.Option) (context.Context, *s3.Driver[T], *repo.Collection[T]) {
	t.Helper()
	cfg := testConfig(t)
	m := pool.New(pool.Options{KeepIdle: true})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	cfg.Prefix = freshPrefix(t, m, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	d, err := s3.New(ctx, m, cfg, desc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	r := repo.New(desc, d)
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

// upsertAll runs UpsertBatch and fails the test unless every record was stored.
func upsertAll(ctx context.Context, t *testing.T, d *s3.Driver[things.Thing], recs []things.Thing) []repo.Result {
	t.Helper()
	res, err := d.UpsertBatch(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range res {
		if x.Err != nil || x.Version == "" || x.ID != recs[i].ID {
			t.Fatalf("UpsertBatch %d: %+v", i, x)
		}
	}
	return res
}

func TestBatchExtensions(t *testing.T) {
	ctx, d, r := newDriver(t, s3.WithConcurrency(4))
	recs := someThings(30, "u")
	recs[3].ID = "odd id/../ é"
	res := upsertAll(ctx, t, d, recs)
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

// checkErr fails t unless err is an *repo.Error of the given kind naming record and op.
func checkErr(t *testing.T, what string, err, kind error, rec, op string) {
	t.Helper()
	var e *repo.Error
	if !errors.Is(err, kind) || !errors.As(err, &e) || e.Record != rec || e.Op != op {
		t.Errorf("%s: error %#v (%v), want %v naming record %s and op %s", what, err, err, kind, rec, op)
	}
}

// TestBatchInputChecks checks that the batch extensions accept exactly the ids and records
// the Collection accepts (a uuid id must be canonical, an id must not be empty) and that
// their per-item errors name the record and the operation, like the Collection's.
func TestBatchInputChecks(t *testing.T) {
	ctx, od, or := newDriverFor(t, things.OtherSchema)
	_, td, tr := newDriver(t)
	stored, err := or.Create(ctx, things.Other{Label: "kept"})
	if err != nil {
		t.Fatal(err)
	}
	upper := strings.ToUpper(stored.ID)            // a uuid, but not in canonical form
	bare := strings.ReplaceAll(stored.ID, "-", "") // a uuid without hyphens
	missing := record.NewID()

	for _, c := range []struct {
		name string
		run  func() ([]repo.Result, error)
		n    int     // results expected
		kind []error // per result: nil for success
		rec  string
		op   string
	}{
		{"GetBatch uuid", func() ([]repo.Result, error) {
			_, res, err := od.GetBatch(ctx, []string{upper, bare, "", missing, stored.ID})
			return res, err
		}, 5, []error{repo.ErrInvalidInput, repo.ErrInvalidInput, repo.ErrInvalidInput, repo.ErrNotFound, nil}, "Other", "GetBatch"},
		{"GetBatch string", func() ([]repo.Result, error) {
			_, res, err := td.GetBatch(ctx, []string{"", "bad\x00id", "missing"})
			return res, err
		}, 3, []error{repo.ErrInvalidInput, repo.ErrInvalidInput, repo.ErrNotFound}, "Thing", "GetBatch"},
		{"DeleteBatch uuid", func() ([]repo.Result, error) {
			return od.DeleteBatch(ctx, []string{upper, bare, "", missing})
		}, 4, []error{repo.ErrInvalidInput, repo.ErrInvalidInput, repo.ErrInvalidInput, nil}, "Other", "DeleteBatch"},
		{"DeleteBatch string", func() ([]repo.Result, error) {
			return td.DeleteBatch(ctx, []string{"", "bad\x00id", "missing"})
		}, 3, []error{repo.ErrInvalidInput, repo.ErrInvalidInput, nil}, "Thing", "DeleteBatch"},
		{"UpsertBatch uuid", func() ([]repo.Result, error) {
			return od.UpsertBatch(ctx, []things.Other{{ID: upper}, {ID: bare}, {Label: "generated id"}})
		}, 3, []error{repo.ErrInvalidInput, repo.ErrInvalidInput, nil}, "Other", "UpsertBatch"},
		{"UpsertBatch string", func() ([]repo.Result, error) {
			return td.UpsertBatch(ctx, []things.Thing{{}, {ID: "bad\x00id"}, {ID: "fine"}})
		}, 3, []error{repo.ErrInvalidInput, repo.ErrInvalidInput, nil}, "Thing", "UpsertBatch"},
		{"CreateBatch uuid", func() ([]repo.Result, error) {
			return or.CreateBatch(ctx, []things.Other{{ID: upper}, {ID: bare}, {Label: "generated id"}})
		}, 3, []error{repo.ErrInvalidInput, repo.ErrInvalidInput, nil}, "Other", "CreateBatch"},
		{"CreateBatch string", func() ([]repo.Result, error) {
			return tr.CreateBatch(ctx, []things.Thing{{}, {ID: "bad\x00id"}, {ID: "fresh"}})
		}, 3, []error{repo.ErrInvalidInput, repo.ErrInvalidInput, nil}, "Thing", "CreateBatch"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := c.run()
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != c.n {
				t.Fatalf("%d results, want %d", len(res), c.n)
			}
			for i, x := range res {
				if c.kind[i] == nil {
					if x.Err != nil {
						t.Errorf("result %d: %v, want success", i, x.Err)
					}
					continue
				}
				checkErr(t, fmt.Sprintf("result %d (id %q)", i, x.ID), x.Err, c.kind[i], c.rec, c.op)
			}
		})
	}
	// The record stored under the canonical id is untouched by the rejected non-canonical
	// ones (DeleteBatch and UpsertBatch must not have reached it under another key).
	if got, err := or.Get(ctx, stored.ID); err != nil || got.Label != "kept" || got.RecordVersion != stored.RecordVersion {
		t.Errorf("stored record after the batches: %+v, %v", got, err)
	}
}

// UpsertBatch gives records with the same id the result of Upserts in batch order: each is
// written after the one before, so the last one is what is stored. DeleteBatch and
// GetBatch take a repeated id too.
func TestBatchRepeatedIDs(t *testing.T) {
	ctx, d, r := newDriver(t, s3.WithConcurrency(8))
	recs := someThings(24, "")
	for i := range recs {
		recs[i].ID, recs[i].Name = fmt.Sprintf("r%d", i%3), fmt.Sprint(i)
	}
	res := upsertAll(ctx, t, d, recs)
	for i := 21; i < 24; i++ { // the last record of each id
		got, err := r.Get(ctx, recs[i].ID)
		if err != nil || got.Name != recs[i].Name || got.RecordVersion != res[i].Version {
			t.Errorf("%s: %+v, %v; want the last record of the batch, %q version %s", recs[i].ID, got, err, recs[i].Name, res[i].Version)
		}
	}
	_, gres, err := d.GetBatch(ctx, []string{"r0", "r0"})
	if err != nil || gres[0].Err != nil || gres[1].Err != nil || gres[0].Version != gres[1].Version {
		t.Errorf("GetBatch of a repeated id: %+v, %v", gres, err)
	}
	dres, err := d.DeleteBatch(ctx, []string{"r0", "r1", "r0"})
	if err != nil || dres[0].Err != nil || dres[1].Err != nil || dres[2].Err != nil {
		t.Errorf("DeleteBatch of a repeated id: %+v, %v", dres, err)
	}
	if n, err := r.Count(ctx, things.ThingQuery()); err != nil || n != 1 {
		t.Errorf("after DeleteBatch: %d records, %v; want 1", n, err)
	}
}
