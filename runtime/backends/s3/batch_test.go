package s3_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/query"
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

// upsertAll stores recs with UpsertMany and fails the test unless every record was stored.
func upsertAll(ctx context.Context, t *testing.T, d *s3.Driver[things.Thing], recs []things.Thing) []repo.Result {
	t.Helper()
	res := make([]repo.Result, len(recs))
	if err := d.UpsertMany(ctx, recs, nil, res); err != nil {
		t.Fatal(err)
	}
	for i, x := range res {
		if x.Err != nil || x.Version == "" || x.ID != recs[i].ID || recs[i].RecordVersion != x.Version {
			t.Fatalf("UpsertMany %d: %+v (record version %q)", i, x, recs[i].RecordVersion)
		}
	}
	return res
}

// wantResults fails t unless res[i] has the error kind want[i] (nil: success, with a
// version when versioned) and the id ids[i].
func wantResults(t *testing.T, op string, res []repo.Result, ids []string, want []error, versioned bool) {
	t.Helper()
	for i, x := range res {
		if x.ID != ids[i] {
			t.Errorf("%s[%d]: id %q, want %q", op, i, x.ID, ids[i])
		}
		switch {
		case want[i] == nil && x.Err != nil:
			t.Errorf("%s[%d] (%s): %v, want success", op, i, ids[i], x.Err)
		case want[i] == nil && versioned && x.Version == "":
			t.Errorf("%s[%d] (%s): no version", op, i, ids[i])
		case want[i] != nil && !errors.Is(x.Err, want[i]):
			t.Errorf("%s[%d] (%s): %v, want %v", op, i, ids[i], x.Err, want[i])
		case want[i] != nil && repo.KindOf(x.Err) == nil:
			t.Errorf("%s[%d] (%s): error %v has no kind", op, i, ids[i], x.Err)
		}
	}
}

// longID is an id whose key is cut into three segments (see EscapeID: a "/" escapes to
// three bytes, 170 of them to 510), ending with tail.
func longID(tail string) string { return strings.Repeat("/", 170) + tail }

func TestGetMany(t *testing.T) {
	ctx, d, _ := newDriver(t, s3.WithConcurrency(4))
	recs := someThings(30, "g")
	recs[3].ID = "odd id/../ é"
	recs[4].ID = longID("x")
	res := upsertAll(ctx, t, d, recs)
	ids := []string{recs[0].ID, "missing", recs[3].ID, recs[4].ID, longID("missing"), recs[29].ID}
	got := make([]things.Thing, len(ids))
	gres := make([]repo.Result, len(ids))
	if err := d.GetMany(ctx, ids, got, gres); err != nil {
		t.Fatal(err)
	}
	wantResults(t, "GetMany", gres, ids, []error{nil, repo.ErrNotFound, nil, nil, repo.ErrNotFound, nil}, true)
	for i, k := range map[int]int{0: 0, 2: 3, 3: 4, 5: 29} {
		if got[i].ID != recs[k].ID || got[i].Count != recs[k].Count || got[i].RecordVersion != res[k].Version || gres[i].Version != res[k].Version {
			t.Errorf("GetMany[%d] = %+v, %+v; want %s at version %s", i, got[i], gres[i], recs[k].ID, res[k].Version)
		}
	}
	if err := d.GetMany(ctx, nil, nil, nil); err != nil {
		t.Errorf("GetMany of nothing: %v", err)
	}
}

func TestUpsertMany(t *testing.T) {
	ctx, d, r := newDriver(t, s3.WithConcurrency(4))
	old := someThings(3, "u")
	res := upsertAll(ctx, t, d, old)
	recs := someThings(6, "u") // u0000..u0002 stored, u0003..u0005 new
	for i := range recs {
		recs[i].Name = "second"
	}
	vers := []string{
		res[0].Version, // the stored version: replaced
		"",             // none: replaced
		`"stale"`,      // another version: conflict
		"",             // new, no version: created
		res[0].Version, // new with a version: not found, as Update with a version
		"",
	}
	ures := make([]repo.Result, len(recs))
	if err := d.UpsertMany(ctx, recs, vers, ures); err != nil {
		t.Fatal(err)
	}
	ids := []string{"u0000", "u0001", "u0002", "u0003", "u0004", "u0005"}
	wantResults(t, "UpsertMany", ures, ids, []error{nil, nil, repo.ErrVersionConflict, nil, repo.ErrNotFound, nil}, true)
	if ures[0].Version == res[0].Version {
		t.Errorf("UpsertMany kept version %s", res[0].Version)
	}
	for i, want := range []string{"second", "second", "n", "second", "", "second"} {
		got, err := r.Get(ctx, ids[i])
		if want == "" {
			if !errors.Is(err, repo.ErrNotFound) {
				t.Errorf("%s: %+v, %v; want none", ids[i], got, err)
			}
			continue
		}
		if err != nil || got.Name != want || (ures[i].Err == nil && got.RecordVersion != ures[i].Version) {
			t.Errorf("%s: %+v, %v; want name %q, version %s", ids[i], got, err, want, ures[i].Version)
		}
	}
	if err := d.UpsertMany(ctx, nil, nil, nil); err != nil {
		t.Errorf("UpsertMany of nothing: %v", err)
	}
}

func TestUpdateMany(t *testing.T) {
	ctx, d, r := newDriver(t, s3.WithConcurrency(4))
	old := someThings(4, "p")
	res := upsertAll(ctx, t, d, old)
	recs := someThings(5, "p")
	for i := range recs {
		recs[i].Name = "updated"
	}
	vers := []string{res[0].Version, "", `"stale"`, res[2].Version, ""}
	ures := make([]repo.Result, len(recs))
	if err := d.UpdateMany(ctx, recs, vers, ures); err != nil {
		t.Fatal(err)
	}
	ids := []string{"p0000", "p0001", "p0002", "p0003", "p0004"}
	// p0003 with the version of p0002: a conflict; p0004 was never stored.
	wantResults(t, "UpdateMany", ures, ids, []error{nil, nil, repo.ErrVersionConflict, repo.ErrVersionConflict, repo.ErrNotFound}, true)
	for i, want := range []string{"updated", "updated", "n", "n"} {
		if got, err := r.Get(ctx, ids[i]); err != nil || got.Name != want {
			t.Errorf("%s: %+v, %v; want name %q", ids[i], got, err, want)
		}
	}
	if ok, _ := r.Exists(ctx, "p0004"); ok {
		t.Error("UpdateMany created p0004")
	}
	// Without versions at all (ifVersion nil): If-Match: *.
	ures = make([]repo.Result, 2)
	if err := d.UpdateMany(ctx, []things.Thing{recs[2], recs[4]}, nil, ures); err != nil {
		t.Fatal(err)
	}
	wantResults(t, "UpdateMany", ures, []string{"p0002", "p0004"}, []error{nil, repo.ErrNotFound}, true)
	if err := d.UpdateMany(ctx, nil, nil, nil); err != nil {
		t.Errorf("UpdateMany of nothing: %v", err)
	}
}

func TestDeleteMany(t *testing.T) {
	ctx, d, r := newDriver(t, s3.WithConcurrency(4))
	recs := someThings(30, "d")
	recs[3].ID = "odd id/../ é"
	recs[4].ID = longID("x")
	res := upsertAll(ctx, t, d, recs)
	ids := []string{recs[0].ID, recs[3].ID, recs[4].ID, recs[5].ID, "never-stored", recs[6].ID, recs[7].ID}
	vers := []string{"", res[3].Version, "", "", "", `"stale"`, res[7].Version}
	dres := make([]repo.Result, len(ids))
	if err := d.DeleteMany(ctx, ids, vers, dres); err != nil {
		t.Fatal(err)
	}
	wantResults(t, "DeleteMany", dres, ids, []error{nil, nil, nil, nil, repo.ErrNotFound, repo.ErrVersionConflict, nil}, false)
	if n, err := r.Count(ctx, things.ThingQuery()); err != nil || n != 25 {
		t.Errorf("Count after DeleteMany = %d, %v; want 25", n, err)
	}
	for i, want := range []bool{false, false, false, false, false, true, false} {
		if ok, err := r.Exists(ctx, ids[i]); err != nil || ok != want {
			t.Errorf("Exists(%q) = %v, %v; want %v", ids[i], ok, err, want)
		}
	}
	// Deleting again: every one is missing now (ifVersion nil).
	again := []string{recs[0].ID, recs[4].ID}
	dres = make([]repo.Result, len(again))
	if err := d.DeleteMany(ctx, again, nil, dres); err != nil {
		t.Fatal(err)
	}
	wantResults(t, "DeleteMany again", dres, again, []error{repo.ErrNotFound, repo.ErrNotFound}, false)
	if err := d.DeleteMany(ctx, nil, nil, nil); err != nil {
		t.Errorf("DeleteMany of nothing: %v", err)
	}
}

// TestDeleteManyChunks deletes more than one DeleteObjects request takes.
func TestDeleteManyChunks(t *testing.T) {
	ctx, d, r := newDriver(t, s3.WithConcurrency(16))
	recs := someThings(2100, "k")
	upsertAll(ctx, t, d, recs)
	ids := make([]string, 0, len(recs))
	for i := range recs {
		if i%700 != 5 {
			ids = append(ids, recs[i].ID)
		}
	}
	dres := make([]repo.Result, len(ids))
	if err := d.DeleteMany(ctx, ids, nil, dres); err != nil {
		t.Fatal(err)
	}
	wantResults(t, "DeleteMany", dres, ids, make([]error, len(ids)), false)
	if n, err := r.Count(ctx, things.ThingQuery()); err != nil || n != 3 {
		t.Errorf("Count after DeleteMany = %d, %v; want 3", n, err)
	}
}

func TestDeleteMatching(t *testing.T) {
	ctx, d, r := newDriver(t, s3.WithConcurrency(4))
	recs := someThings(2500, "m") // more than one DeleteObjects request
	recs[3].ID = longID("a")
	recs[4].ID = longID("b")
	upsertAll(ctx, t, d, recs)
	f := things.ThingFields
	n, err := d.DeleteMatching(ctx, things.ThingQuery().Where(f.Count.LT(1000)).Spec().Filter)
	if err != nil || n != 1000 {
		t.Fatalf("DeleteMatching(count < 1000) = %d, %v; want 1000", n, err)
	}
	if c, err := r.Count(ctx, things.ThingQuery()); err != nil || c != 1500 {
		t.Errorf("Count after = %d, %v; want 1500", c, err)
	}
	if ok, _ := r.Exists(ctx, longID("b")); ok {
		t.Error("the long id was not deleted")
	}
	// An id range (listing only that range) and a filter matching nothing.
	n, err = d.DeleteMatching(ctx, things.ThingQuery().Where(f.ID.Between("m2000", "m2099")).Spec().Filter)
	if err != nil || n != 100 {
		t.Errorf("DeleteMatching(id between) = %d, %v; want 100", n, err)
	}
	n, err = d.DeleteMatching(ctx, things.ThingQuery().Where(f.Name.EQ("nobody")).Spec().Filter)
	if err != nil || n != 0 {
		t.Errorf("DeleteMatching(no match) = %d, %v; want 0", n, err)
	}
	// Everything, without reading the objects (All and the zero filter).
	n, err = d.DeleteMatching(ctx, query.All())
	if err != nil || n != 1400 {
		t.Errorf("DeleteMatching(all) = %d, %v; want 1400", n, err)
	}
	if c, err := r.Count(ctx, things.ThingQuery()); err != nil || c != 0 {
		t.Errorf("Count after = %d, %v; want 0", c, err)
	}
	if n, err = d.DeleteMatching(ctx, query.Expr{}); err != nil || n != 0 {
		t.Errorf("DeleteMatching(all) of nothing = %d, %v", n, err)
	}
	// An invalid filter is ErrInvalidInput.
	if _, err := d.DeleteMatching(ctx, query.Expr{Op: query.OpEQ, Field: "nope", Args: []any{"x"}}); !errors.Is(err, repo.ErrInvalidInput) {
		t.Errorf("DeleteMatching of an unknown field: %v, want ErrInvalidInput", err)
	}
}

// TestDeleteMatchingCancel cancels DeleteMatching part-way, before its second
// DeleteObjects request (concurrency 1: one request at a time): it returns the context error
// and the count of the first request's keys, which are the ones deleted.
func TestDeleteMatchingCancel(t *testing.T) {
	ctx, d, r := newDriver(t, s3.WithConcurrency(1))
	upsertAll(ctx, t, d, someThings(2100, "x"))
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var posts atomic.Int32
	s3.WrapHTTPForTest(d, func(next awss3.HTTPClient) awss3.HTTPClient {
		return s3.HTTPDoer(func(req *http.Request) (*http.Response, error) {
			if req.Method == http.MethodPost && posts.Add(1) == 2 {
				cancel()
				return nil, context.Canceled
			}
			return next.Do(req)
		})
	})
	n, err := d.DeleteMatching(cctx, query.All())
	if !errors.Is(err, context.Canceled) || n != 1000 {
		t.Fatalf("DeleteMatching = %d, %v; want 1000 and the context error", n, err)
	}
	if c, err := r.Count(ctx, things.ThingQuery()); err != nil || c != 1100 {
		t.Errorf("%d left, %v; want 1100", c, err)
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
