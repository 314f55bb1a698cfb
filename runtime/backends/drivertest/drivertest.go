// Package drivertest is repokit's backend conformance suite. A backend provides a Harness
// that makes fresh, empty repositories for the records of package things (generated from
// testdata/things.yaml for every backend), and calls RunConformanceTests from a plain Go
// test. Every backend's Harness is an Opener: the backend implements only Targets (where
// each test's repository lives: a target, options, the cleanup), and the Opener opens the
// records there with the generated openers, the code users call:
//
//	func TestConformance(t *testing.T) {
//		drivertest.RunConformanceTests(t, drivertest.On(harness{}))
//	}
//
// The suite pins the semantics documented in package query and docs/semantics.md: every
// operator on every kind with missing values, LIKE and REGEX details, times, unicode,
// sorting, offset and keyset pagination, projection, counting, typed errors, batches with
// partial failures, optimistic concurrency, concurrent writers, streams, unique fields
// (every write, batches, missing values, concurrent writers of one value) and the bulk
// operations (GetBatch, UpsertBatch, UpdateBatch, DeleteBatch, DeleteWhere, StreamWrite,
// StreamTransform). Every backend runs it unchanged.
package drivertest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// Harness makes repositories for one backend. Each call returns a new, empty repository
// that no other test uses; the suite closes it when the test ends (and some tests close it
// earlier). A harness that cannot reach its backend returns an error; the test then fails.
type Harness interface {
	MakeThings(ctx context.Context, t *testing.T) (repo.Repository[things.Thing], error)
	MakeOthers(ctx context.Context, t *testing.T) (repo.Repository[things.Other], error)
	MakeKeywords(ctx context.Context, t *testing.T) (repo.Repository[things.Keyword], error)
	MakeMembers(ctx context.Context, t *testing.T) (repo.Repository[things.Member], error)
	MakeDocs(ctx context.Context, t *testing.T) (repo.Repository[things.Doc], error)
}

// LeakIgnorer is implemented by a Harness whose backend client runs goroutines of its own
// (connection pools, keep-alive readers) that the stream leak checks must ignore.
type LeakIgnorer interface {
	LeakOptions() []goleak.Option
}

// RunConformanceTests runs the whole suite against the harness's backend.
func RunConformanceTests(t *testing.T, h Harness) {
	t.Run("CRUD", func(t *testing.T) { testCRUD(t, h) })
	t.Run("EmptyIsMissing", func(t *testing.T) { testEmptyIsMissing(t, h) })
	t.Run("Upsert", func(t *testing.T) { testUpsert(t, h) })
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, h) })
	t.Run("VersionConflict", func(t *testing.T) { testVersionConflict(t, h) })
	t.Run("InvalidInput", func(t *testing.T) { testInvalidInput(t, h) })
	t.Run("InvalidQuery", func(t *testing.T) { testInvalidQuery(t, h) })
	t.Run("Closed", func(t *testing.T) { testClosed(t, h) })
	t.Run("CreateBatch", func(t *testing.T) { testCreateBatch(t, h) })
	t.Run("GeneratedIDs", func(t *testing.T) { testGeneratedIDs(t, h) })
	t.Run("Defaults", func(t *testing.T) { testDefaults(t, h) })
	t.Run("Keywords", func(t *testing.T) { testKeywords(t, h) })
	t.Run("Operators", func(t *testing.T) { testOperators(t, h) })
	t.Run("BadPatterns", func(t *testing.T) { testBadPatterns(t, h) })
	t.Run("Times", func(t *testing.T) { testTimes(t, h) })
	t.Run("Unicode", func(t *testing.T) { testUnicode(t, h) })
	t.Run("Injection", func(t *testing.T) { testInjection(t, h) })
	t.Run("Sort", func(t *testing.T) { testSort(t, h) })
	t.Run("LimitOffset", func(t *testing.T) { testLimitOffset(t, h) })
	t.Run("Pagination", func(t *testing.T) { testPagination(t, h) })
	t.Run("PaginationStability", func(t *testing.T) { testPaginationStability(t, h) })
	t.Run("InvalidCursor", func(t *testing.T) { testInvalidCursor(t, h) })
	t.Run("Projection", func(t *testing.T) { testProjection(t, h) })
	t.Run("Count", func(t *testing.T) { testCount(t, h) })
	t.Run("Stream", func(t *testing.T) { testStream(t, h) })
	t.Run("StreamBreak", func(t *testing.T) { testStreamBreak(t, h) })
	t.Run("StreamCancel", func(t *testing.T) { testStreamCancel(t, h) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrentWriters(t, h) })
	t.Run("Unique", func(t *testing.T) { testUnique(t, h) })
	t.Run("Bulk", func(t *testing.T) { testBulk(t, h) })
	t.Run("Search", func(t *testing.T) { testSearch(t, h) })
	t.Run("SearchRelevance", func(t *testing.T) { testSearchRelevance(t, h) })
	t.Run("Aggregate", func(t *testing.T) { testAggregate(t, h) })
	t.Run("AggregateMany", func(t *testing.T) { testAggregateMany(t, h) })
	t.Run("AggregateLimits", func(t *testing.T) { testAggregateLimits(t, h) })
	t.Run("AggregateKeywords", func(t *testing.T) { testAggregateKeywords(t, h) })
}

// testTimeout bounds every test, so that a backend that deadlocks fails instead of hanging.
const testTimeout = 2 * time.Minute

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// makeRepo returns a new repository from mk (a Harness method, named what in errors),
// closed when the test ends.
func makeRepo[T any](t *testing.T, what string, mk func(context.Context, *testing.T) (repo.Repository[T], error)) (context.Context, repo.Repository[T]) {
	t.Helper()
	ctx := testContext(t)
	r, err := mk(ctx, t)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return ctx, r
}

func makeThings(t *testing.T, h Harness) (context.Context, repo.Repository[things.Thing]) {
	t.Helper()
	return makeRepo(t, "MakeThings", h.MakeThings)
}

func makeOthers(t *testing.T, h Harness) (context.Context, repo.Repository[things.Other]) {
	t.Helper()
	return makeRepo(t, "MakeOthers", h.MakeOthers)
}

func makeKeywords(t *testing.T, h Harness) (context.Context, repo.Repository[things.Keyword]) {
	t.Helper()
	return makeRepo(t, "MakeKeywords", h.MakeKeywords)
}

func makeMembers(t *testing.T, h Harness) (context.Context, repo.Repository[things.Member]) {
	t.Helper()
	return makeRepo(t, "MakeMembers", h.MakeMembers)
}

// seed stores recs with CreateBatch, in calls of up to 500, and fails the test unless every
// one was stored.
func seed[T any](ctx context.Context, t *testing.T, r repo.Repository[T], recs []T) {
	t.Helper()
	for start := 0; start < len(recs); start += 500 {
		CreateAll(ctx, t, r, recs[start:min(start+500, len(recs))])
	}
}

// CreateAll stores recs with one CreateBatch call and fails t unless the call and every
// item succeeded: how a backend's own tests load the records they start from.
func CreateAll[T any](ctx context.Context, t testing.TB, r repo.Repository[T], recs []T) {
	t.Helper()
	res, err := r.CreateBatch(ctx, recs)
	if err != nil {
		t.Fatalf("CreateBatch: %v", err)
	}
	if len(res) != len(recs) {
		t.Fatalf("CreateBatch returned %d results for %d records", len(res), len(recs))
	}
	for i, x := range res {
		if x.Err != nil {
			t.Fatalf("CreateBatch item %d (%s): %v", i, x.ID, x.Err)
		}
	}
}

// wantErr fails the test unless err is of the given kind (errors.Is) and also wraps every
// error in also.
func wantErr(t *testing.T, what string, err error, kind error, also ...error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %v", what, kind)
		return
	}
	if !errors.Is(err, kind) {
		t.Errorf("%s: error %q is not %v", what, err, kind)
	}
	for _, a := range also {
		if !errors.Is(err, a) {
			t.Errorf("%s: error %q does not wrap %v", what, err, a)
		}
	}
}

func thingIDs(recs []things.Thing) []string {
	out := make([]string, len(recs))
	for i := range recs {
		out[i] = recs[i].ID
	}
	return out
}

func find[T any](ctx context.Context, t *testing.T, r repo.Repository[T], q query.Query[T]) []T {
	t.Helper()
	out, err := r.Find(ctx, q)
	if err != nil {
		t.Fatalf("Find(%s): %v", q, err)
	}
	return out
}

func findIDs(ctx context.Context, t *testing.T, r repo.Repository[things.Thing], q query.Query[things.Thing]) []string {
	t.Helper()
	return thingIDs(find(ctx, t, r, q))
}

func count[T any](ctx context.Context, t *testing.T, r repo.Repository[T], q query.Query[T]) int64 {
	t.Helper()
	n, err := r.Count(ctx, q)
	if err != nil {
		t.Fatalf("Count(%s): %v", q, err)
	}
	return n
}

// splitIDs turns "a,b,c" into a sorted id list; "" is the empty list.
func splitIDs(s string) []string {
	if s == "" {
		return []string{}
	}
	out := strings.Split(s, ",")
	slices.Sort(out)
	return out
}

func ptr[V any](v V) *V { return &v }
