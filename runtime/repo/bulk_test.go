package repo_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/memory"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// bulkSpy is the memory driver recording the ids of every bulk call, and how many records
// each Insert and Query call handled.
type bulkSpy struct {
	*memory.Driver[things.Thing]
	upserts, deletes [][]string
	inserts          []int
	// failAfter, when > 0, makes the Upsert of the failAfter-th single call (counting
	// from 1) fail as the store being unreachable would.
	failAfter, singles int
}

func (s *bulkSpy) UpsertMany(ctx context.Context, recs []things.Thing, ifv []string, res []repo.Result) error {
	ids := make([]string, len(recs))
	for i := range recs {
		ids[i] = recs[i].ID
	}
	s.upserts = append(s.upserts, ids)
	return s.Driver.UpsertMany(ctx, recs, ifv, res)
}

func (s *bulkSpy) DeleteMany(ctx context.Context, ids, ifv []string, res []repo.Result) error {
	s.deletes = append(s.deletes, slices.Clone(ids))
	return s.Driver.DeleteMany(ctx, ids, ifv, res)
}

func (s *bulkSpy) Insert(ctx context.Context, recs []things.Thing, res []repo.Result) error {
	s.inserts = append(s.inserts, len(recs))
	return s.Driver.Insert(ctx, recs, res)
}

// loopSpy is a driver without the bulk interfaces whose failAfter-th Upsert fails.
type loopSpy struct {
	repo.Driver[things.Thing]
	failAfter, calls int
}

func (s *loopSpy) Upsert(ctx context.Context, rec *things.Thing) error {
	s.calls++
	if s.calls == s.failAfter {
		return repo.Errorf(repo.ErrUnavailable, "connection refused")
	}
	return s.Driver.Upsert(ctx, rec)
}

func thing(id, name string) things.Thing { return things.Thing{ID: id, Name: name, Created: t0()} }

// A batch repeating ids is sent in calls of distinct ids, each ending before an item whose
// id it already has, so the items of one id are written in order.
func TestUpsertBatchCalls(t *testing.T) {
	ctx := context.Background()
	spy := &bulkSpy{Driver: memory.New(things.ThingSchema)}
	r := repo.New(things.ThingSchema, spy)
	batch := []things.Thing{thing("a", "1"), thing("b", "1"), thing("a", "2"), thing("c", "1"), thing("a", "3"), thing("b", "2")}
	res, err := r.UpsertBatch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range res {
		if x.Err != nil || x.ID != batch[i].ID {
			t.Errorf("item %d: %+v", i, x)
		}
	}
	want := [][]string{{"a", "b"}, {"a", "c"}, {"a", "b"}}
	if fmt.Sprint(spy.upserts) != fmt.Sprint(want) {
		t.Errorf("driver calls %v, want %v", spy.upserts, want)
	}
	if got, _ := r.Get(ctx, "a"); got.Name != "3" {
		t.Errorf("a is %q, want the last item's", got.Name)
	}
	dres, err := r.DeleteBatch(ctx, []string{"a", "a", "c", "zz"})
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"a"}, {"a", "c", "zz"}}; fmt.Sprint(spy.deletes) != fmt.Sprint(want) {
		t.Errorf("delete calls %v, want %v", spy.deletes, want)
	}
	if dres[0].Err != nil || !errors.Is(dres[1].Err, repo.ErrNotFound) || dres[2].Err != nil || !errors.Is(dres[3].Err, repo.ErrNotFound) {
		t.Errorf("DeleteBatch results %+v", dres)
	}
	var e *repo.Error
	if !errors.As(dres[3].Err, &e) || e.Error() != `repokit: Thing.DeleteBatch id="zz": not found` {
		t.Errorf("error of a missing id: %v", dres[3].Err)
	}
}

// A call that fails as a whole (the store unreachable) stops the batch: the item and every
// later one get the error, the earlier ones stay done, and the call returns it.
func TestUpsertBatchUnavailable(t *testing.T) {
	ctx := context.Background()
	spy := &loopSpy{Driver: memory.New(things.ThingSchema), failAfter: 3}
	r := repo.New(things.ThingSchema, spy)
	batch := []things.Thing{thing("a", "1"), thing("b", "1"), thing("c", "1"), thing("a", "2"), thing("d", "1")}
	res, err := r.UpsertBatch(ctx, batch)
	if !errors.Is(err, repo.ErrUnavailable) {
		t.Fatalf("error %v, want ErrUnavailable", err)
	}
	for i, x := range res {
		done := i < 2
		if done != (x.Err == nil) || done != (x.Version != "") {
			t.Errorf("item %d (%s): %+v; done %v", i, x.ID, x, done)
		} else if !done && !errors.Is(x.Err, repo.ErrUnavailable) {
			t.Errorf("item %d (%s): %v, want ErrUnavailable", i, x.ID, x.Err)
		}
	}
	if n, _ := r.Count(ctx, things.ThingQuery()); n != 2 {
		t.Errorf("Count = %d, want 2", n)
	}
}

// DeleteWhere and StreamTransform over a driver without the bulk interfaces walk more
// records than one page holds, each once.
func TestBulkPagesLoop(t *testing.T) {
	ctx := context.Background()
	r := repo.New(things.ThingSchema, struct{ repo.Driver[things.Thing] }{memory.New(things.ThingSchema)})
	const n = 2345
	recs := make([]things.Thing, n)
	for i := range recs {
		recs[i] = thing(fmt.Sprintf("p%05d", i), "x")
		recs[i].Rank = ptr(int64(i % 3))
	}
	if _, err := r.CreateBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	res, err := r.StreamTransform(ctx, things.ThingQuery(), func(x things.Thing) (things.Thing, repo.Action, error) {
		seen[x.ID]++
		x.Name = "y"
		return x, repo.ActionWrite, nil
	}, repo.StreamBatchSize(100))
	if err != nil || res.Written != n || res.Batches != 24 || len(seen) != n {
		t.Fatalf("StreamTransform: %+v, %v, %d seen", res, err, len(seen))
	}
	f := things.ThingFields
	if c, _ := r.Count(ctx, things.ThingQuery().Where(f.Name.EQ("y"))); c != n {
		t.Errorf("%d records written, want %d", c, n)
	}
	d, err := r.DeleteWhere(ctx, things.ThingQuery().Where(f.Rank.NEQ(1)))
	if want := int64(n - 782); err != nil || d != want { // 782 of rank 1
		t.Errorf("DeleteWhere = %d, %v; want %d", d, err, want)
	}
	if c, _ := r.Count(ctx, things.ThingQuery()); c != 782 {
		t.Errorf("Count = %d after DeleteWhere, want 782", c)
	}
}

// StreamWrite sends at most the batch size at a time.
func TestStreamWriteBatches(t *testing.T) {
	ctx := context.Background()
	spy := &bulkSpy{Driver: memory.New(things.ThingSchema)}
	r := repo.New(things.ThingSchema, spy)
	seq := func(yield func(things.Thing) bool) {
		for i := range 1050 {
			if !yield(thing(fmt.Sprintf("s%04d", i), "x")) {
				return
			}
		}
	}
	res, err := r.StreamWrite(ctx, seq, repo.StreamBatchSize(250))
	if err != nil || res.Written != 1050 || res.Failed != 0 {
		t.Fatalf("StreamWrite: %+v, %v", res, err)
	}
	if want := []int{250, 250, 250, 250, 50}; !slices.Equal(spy.inserts, want) {
		t.Errorf("Insert calls of %v records, want %v", spy.inserts, want)
	}
}

// Each batch method is one span with the batch attributes.
func TestBulkSpans(t *testing.T) {
	ctx := context.Background()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	r := repo.New(things.ThingSchema, memory.New(things.ThingSchema), repo.WithTracerProvider(tp))
	if _, err := r.UpsertBatch(ctx, []things.Thing{thing("a", "1"), thing("", "no id")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.GetBatch(ctx, []string{"a", "b", "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.DeleteWhere(ctx, query.New[things.Thing]()); err != nil {
		t.Fatal(err)
	}
	spans := rec.Ended()
	want := []struct {
		name  string
		attrs map[attribute.Key]int64
	}{
		{"UpsertBatch Thing", map[attribute.Key]int64{"db.operation.batch.size": 2, repo.AttrBatchFailed: 1}},
		{"GetBatch Thing", map[attribute.Key]int64{"db.operation.batch.size": 3, repo.AttrBatchFailed: 1, "db.response.returned_rows": 2}},
		{"DeleteWhere Thing", map[attribute.Key]int64{repo.AttrDeleted: 1}},
	}
	if len(spans) != len(want) {
		t.Fatalf("%d spans, want %d", len(spans), len(want))
	}
	for i, w := range want {
		s := spans[i]
		if s.Name() != w.name {
			t.Errorf("span %d is %q, want %q", i, s.Name(), w.name)
		}
		got := map[attribute.Key]int64{}
		for _, kv := range s.Attributes() {
			if _, ok := w.attrs[kv.Key]; ok {
				got[kv.Key] = kv.Value.AsInt64()
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(w.attrs) {
			t.Errorf("span %s: attributes %v, want %v", w.name, got, w.attrs)
		}
	}
}

func ptr[V any](v V) *V { return &v }
