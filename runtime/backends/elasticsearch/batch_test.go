package elasticsearch_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// The bulk fast paths (batch.go, batch_unique.go, deletematching.go), called on the driver
// as Collection calls them: prepared records, distinct ids.

// wantResults checks res against the wanted error kinds (nil: success, with a version
// unless noVersion).
func wantResults(t *testing.T, what string, res []repo.Result, want []error, noVersion bool) {
	t.Helper()
	if len(res) != len(want) {
		t.Fatalf("%s: %d results, want %d", what, len(res), len(want))
	}
	for i, w := range want {
		wantErr(t, fmt.Sprintf("%s item %d (%s)", what, i, res[i].ID), res[i].Err, w)
		if w == nil && !noVersion && res[i].Version == "" {
			t.Errorf("%s item %d: no version", what, i)
		}
		if res[i].Err != nil && res[i].Version != "" {
			t.Errorf("%s item %d: version %q with error %v", what, i, res[i].Version, res[i].Err)
		}
	}
}

func thing(id, name string) things.Thing { return things.Thing{ID: id, Name: name, Count: 1} }

// TestBatchGetMany reads found and missing ids (ids that would be path segments among them)
// in one call, and nothing for no ids.
func TestBatchGetMany(t *testing.T) {
	ctx, r, _ := openThings(t, elasticsearch.WithBatchSize(3, 1<<20)) // several _mget requests
	d := r.Driver().(*elasticsearch.Driver[things.Thing])
	ids := []string{"a", "x/../b", "c?d=1", "é f", "_mget", "a#b"}
	stored := map[string]things.Thing{}
	for _, id := range ids {
		rec, err := r.Create(ctx, thing(id, "n "+id))
		if err != nil {
			t.Fatalf("Create %q: %v", id, err)
		}
		stored[id] = rec
	}
	// A document other code wrote with a value that does not decode into the record (the
	// mapping coerces "7" into the long field, _source keeps the string): its item fails
	// alone, as Get does.
	idx := r.Driver().(*elasticsearch.Driver[things.Thing]).Index()
	resp, err := esapi.IndexRequest{Index: idx, DocumentID: "odd", Refresh: "true",
		Body: strings.NewReader(`{"id":"odd","name":"odd","count":"7","ratio":0,"active":false,"created":"2024-01-01T00:00:00Z","_rk":{"us":{"created":1704067200000000},"has":null}}`)}.Do(ctx, d.Client().ES)
	if err != nil || resp.IsError() {
		t.Fatalf("writing a foreign document: %v %v", err, resp)
	}
	resp.Body.Close()
	if _, err := r.Get(ctx, "odd"); err == nil {
		t.Fatal("Get of the foreign document succeeded; the test needs one that does not decode")
	}
	ask := []string{"missing-1", "odd", "x/../b", "a", "b", "_mget", "é f", "c?d=1", "missing/2", "a#b"}
	recs := make([]things.Thing, len(ask))
	res := make([]repo.Result, len(ask))
	if err := d.GetMany(ctx, ask, recs, res); err != nil {
		t.Fatal(err)
	}
	for i, id := range ask {
		if res[i].ID != id {
			t.Errorf("item %d: id %q, want %q", i, res[i].ID, id)
		}
		s, ok := stored[id]
		if id == "odd" {
			if res[i].Err == nil || res[i].Version != "" {
				t.Errorf("GetMany of the foreign document: %+v, want its decoding error", res[i])
			}
			continue
		}
		if !ok {
			wantErr(t, "GetMany of missing "+id, res[i].Err, repo.ErrNotFound)
			continue
		}
		if res[i].Err != nil || recs[i].ID != id || recs[i].Name != s.Name || recs[i].RecordVersion != s.RecordVersion || res[i].Version != s.RecordVersion {
			t.Errorf("GetMany %q = %+v, %+v; want %+v", id, recs[i], res[i], s)
		}
	}
	if err := d.GetMany(ctx, nil, nil, nil); err != nil {
		t.Errorf("GetMany of no ids: %v", err)
	}
	// A call that fails leaves no item looking read.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	res = make([]repo.Result, len(ask))
	if err := d.GetMany(cctx, ask, make([]things.Thing, len(ask)), res); !errors.Is(err, context.Canceled) {
		t.Errorf("GetMany with a canceled context: %v", err)
	}
	for i := range res {
		if !errors.Is(res[i].Err, context.Canceled) || res[i].Version != "" {
			t.Errorf("GetMany with a canceled context, item %d: %+v", i, res[i])
		}
	}
}

// TestBatchWrites runs UpsertMany, UpdateMany and DeleteMany on a record without unique
// fields: mixed found and missing records, right, stale and foreign versions, empty input.
func TestBatchWrites(t *testing.T) {
	ctx, r, _ := openThings(t, elasticsearch.WithBatchSize(2, 1<<20))
	d := r.Driver().(*elasticsearch.Driver[things.Thing])
	var recs []things.Thing
	for i := range 4 {
		rec, err := r.Create(ctx, thing(fmt.Sprintf("t%d", i), "v0"))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	stale := recs[1].RecordVersion
	if _, err := r.Update(ctx, thing("t1", "changed")); err != nil {
		t.Fatal(err)
	}
	for _, call := range []struct {
		name string
		fn   func([]things.Thing, []string, []repo.Result) error
	}{{"UpsertMany", func(a []things.Thing, v []string, res []repo.Result) error { return d.UpsertMany(ctx, a, v, res) }},
		{"UpdateMany", func(a []things.Thing, v []string, res []repo.Result) error { return d.UpdateMany(ctx, a, v, res) }}} {
		if err := call.fn(nil, nil, nil); err != nil {
			t.Errorf("%s of nothing: %v", call.name, err)
		}
	}

	// UpsertMany: create, replace, conditional on the right, a stale and a foreign version,
	// and on a version of a missing record.
	cur0, _ := r.Get(ctx, "t0")
	in := []things.Thing{thing("new1", "u"), thing("t0", "u"), thing("t2", "u"), thing("t1", "u"), thing("t3", "u"), thing("gone", "u"), thing("gone2", "u")}
	vers := []string{"", "", cur0.RecordVersion, stale, "not-a-version", "5:1", "bogus"}
	res := make([]repo.Result, len(in))
	if err := d.UpsertMany(ctx, in, vers, res); err != nil {
		t.Fatal(err)
	}
	wantResults(t, "UpsertMany", res, []error{nil, nil, repo.ErrVersionConflict, repo.ErrVersionConflict, repo.ErrVersionConflict, repo.ErrNotFound, repo.ErrNotFound}, false)
	// t2 was given t0's version: a conflict; the written ones carry their new versions.
	for i, id := range []string{"new1", "t0"} {
		got, err := r.Get(ctx, id)
		if err != nil || got.Name != "u" || got.RecordVersion != res[i].Version || in[i].RecordVersion != res[i].Version {
			t.Errorf("after UpsertMany, %s = %+v, %v (result %+v)", id, got, err, res[i])
		}
	}
	for _, id := range []string{"gone", "gone2"} {
		if _, err := r.Get(ctx, id); !errors.Is(err, repo.ErrNotFound) {
			t.Errorf("a conditional UpsertMany item created %s: %v", id, err)
		}
	}

	// UpdateMany: with no version (read, then conditional), the right one, a stale one,
	// and missing records (with and without a version).
	cur2, _ := r.Get(ctx, "t2")
	in = []things.Thing{thing("t3", "w"), thing("missing", "w"), thing("t2", "w"), thing("t1", "w"), thing("missing2", "w")}
	vers = []string{"", "", cur2.RecordVersion, stale, "1:1"}
	res = make([]repo.Result, len(in))
	if err := d.UpdateMany(ctx, in, vers, res); err != nil {
		t.Fatal(err)
	}
	wantResults(t, "UpdateMany", res, []error{nil, repo.ErrNotFound, nil, repo.ErrVersionConflict, repo.ErrNotFound}, false)
	if _, err := r.Get(ctx, "missing"); !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("UpdateMany created a record: %v", err)
	}
	if got, _ := r.Get(ctx, "t1"); got.Name != "changed" {
		t.Errorf("t1 after a refused update = %q", got.Name)
	}
	// Without versions at all.
	res = make([]repo.Result, 1)
	if err := d.UpdateMany(ctx, []things.Thing{thing("t3", "x")}, nil, res); err != nil || res[0].Err != nil {
		t.Errorf("UpdateMany without versions: %v, %v", err, res[0].Err)
	}

	// DeleteMany: found, missing, a stale and a foreign version, a version of a missing
	// record, and nothing.
	if err := d.DeleteMany(ctx, nil, nil, nil); err != nil {
		t.Errorf("DeleteMany of nothing: %v", err)
	}
	cur3, _ := r.Get(ctx, "t3")
	ids := []string{"t0", "nope", "t1", "t2", "t3", "nope2", "new1"}
	vers = []string{"", "", stale, "zz", cur3.RecordVersion, "3:1", ""}
	res = make([]repo.Result, len(ids))
	if err := d.DeleteMany(ctx, ids, vers, res); err != nil {
		t.Fatal(err)
	}
	wantResults(t, "DeleteMany", res, []error{nil, repo.ErrNotFound, repo.ErrVersionConflict, repo.ErrVersionConflict, nil, repo.ErrNotFound, nil}, true)
	for _, id := range []string{"t0", "t3", "new1"} {
		if _, err := r.Get(ctx, id); !errors.Is(err, repo.ErrNotFound) {
			t.Errorf("%s after DeleteMany: %v", id, err)
		}
	}
	for _, id := range []string{"t1", "t2"} {
		if _, err := r.Get(ctx, id); err != nil {
			t.Errorf("%s after a refused delete: %v", id, err)
		}
	}
}

// TestBatchUnique runs the batch writes on a record with unique fields: a value held by
// another record or by an earlier item fails that item alone; a value an earlier item of
// the call drops is free for a later one (as in a loop of single calls), not for an
// earlier one; deletes and updates release the values they drop.
func TestBatchUnique(t *testing.T) {
	e := mustOpenUnique(t, ukeySchema, elasticsearch.WithBatchSize(3, 1<<20))
	ctx, r, d := e.ctx, e.r, e.d
	rec := func(id, email string) ukey {
		c := customer(email, "n-"+id)
		c.ID = id
		return c
	}
	for _, c := range []ukey{rec("a", "a@x"), rec("b", "b@x"), rec("c", "c@x"), rec("d", "d@x")} {
		if _, err := r.Create(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	in := []ukey{
		rec("n1", "b@x"), // taken by b (which moves away later in the call: too late)
		rec("b", "b2@x"), // b drops b@x
		rec("n2", "b@x"), // free once b moved
		rec("n3", "new@x"),
		rec("n4", "new@x"), // taken by n3, earlier in the call
		rec("a", "a@x"),    // keeps its own value
		rec("c", "d@x"),    // held by d
		rec("n5", "c@x"),   // c failed to move: still held
	}
	res := make([]repo.Result, len(in))
	if err := d.UpsertMany(ctx, in, nil, res); err != nil {
		t.Fatal(err)
	}
	wantResults(t, "UpsertMany", res, []error{repo.ErrAlreadyExists, nil, nil, nil, repo.ErrAlreadyExists, nil, repo.ErrAlreadyExists, repo.ErrAlreadyExists}, false)
	var ue *repo.UniqueError
	if !errors.As(res[4].Err, &ue) || ue.Earlier != "n3" {
		t.Errorf("n4: %v, want the value taken by n3, earlier in the batch", res[4].Err)
	}
	for value, owner := range map[string]string{"b@x": "n2", "b2@x": "b", "new@x": "n3", "a@x": "a", "c@x": "c", "d@x": "d"} {
		if got, ok := e.reservation(t, "email", value); !ok || got != owner {
			t.Errorf("reservation of %s: owner %q (found %v), want %q", value, got, ok, owner)
		}
	}
	for _, id := range []string{"n1", "n4", "n5"} {
		if _, err := r.Get(ctx, id); !errors.Is(err, repo.ErrNotFound) {
			t.Errorf("%s was stored: %v", id, err)
		}
	}

	// UpdateMany: versions, a missing record, a value freed within the call.
	b, _ := r.Get(ctx, "b")
	in = []ukey{rec("n2", "n2@x"), rec("b", "b@x"), rec("c", "c2@x"), rec("zz", "zz@x"), rec("d", "c@x")}
	vers := []string{"", b.RecordVersion, "1:1", "", ""}
	res = make([]repo.Result, len(in))
	if err := d.UpdateMany(ctx, in, vers, res); err != nil {
		t.Fatal(err)
	}
	// c's version is stale: it keeps c@x, so d cannot take it.
	wantResults(t, "UpdateMany", res, []error{nil, nil, repo.ErrVersionConflict, repo.ErrNotFound, repo.ErrAlreadyExists}, false)
	for value, owner := range map[string]string{"n2@x": "n2", "b@x": "b", "c@x": "c", "d@x": "d"} {
		if got, ok := e.reservation(t, "email", value); !ok || got != owner {
			t.Errorf("after UpdateMany, reservation of %s: owner %q (found %v), want %q", value, got, ok, owner)
		}
	}
	for _, value := range []string{"b2@x", "c2@x", "zz@x"} {
		if owner, ok := e.reservation(t, "email", value); ok {
			t.Errorf("after UpdateMany, %s is still reserved (by %q)", value, owner)
		}
	}

	// DeleteMany releases the values of the records it deletes, not of the others.
	c, _ := r.Get(ctx, "c")
	ids := []string{"a", "c", "missing", "d"}
	res = make([]repo.Result, len(ids))
	if err := d.DeleteMany(ctx, ids, []string{"", "7:1", "", ""}, res); err != nil {
		t.Fatal(err)
	}
	wantResults(t, "DeleteMany", res, []error{nil, repo.ErrVersionConflict, repo.ErrNotFound, nil}, true)
	for _, v := range []string{"a@x", "d@x"} {
		if owner, ok := e.reservation(t, "email", v); ok {
			t.Errorf("after DeleteMany, %s is still reserved (by %q)", v, owner)
		}
	}
	if owner, ok := e.reservation(t, "email", "c@x"); !ok || owner != "c" {
		t.Errorf("c@x after a refused delete: %q, %v", owner, ok)
	}
	if _, err := r.Create(ctx, customer("a@x", "reuses a freed value")); err != nil {
		t.Errorf("Create with a value DeleteMany freed: %v", err)
	}
	res = make([]repo.Result, 1)
	if err := d.DeleteMany(ctx, []string{"c"}, []string{c.RecordVersion}, res); err != nil || res[0].Err != nil {
		t.Errorf("DeleteMany with the right version: %v, %v", err, res[0].Err)
	}
	if _, err := r.Create(ctx, customer("c@x", "reuses c's value")); err != nil {
		t.Errorf("Create with c's freed value: %v", err)
	}
	if err := d.UpsertMany(ctx, nil, nil, nil); err != nil {
		t.Errorf("UpsertMany of nothing: %v", err)
	}
}

// TestBatchDeleteMatching deletes by filter over several pages and _bulk chunks, returns
// the number deleted, keeps the others, and releases unique values.
func TestBatchDeleteMatching(t *testing.T) {
	ctx, r, _ := openThings(t, elasticsearch.WithBatchSize(100, 1<<20), elasticsearch.WithPageSize(70))
	d := r.Driver().(*elasticsearch.Driver[things.Thing])
	const n = 450
	batch := make([]things.Thing, n)
	for i := range batch {
		batch[i] = thing(fmt.Sprintf("r%04d", i), "x")
		batch[i].Count = int64(i % 3)
	}
	if res, err := r.CreateBatch(ctx, batch); err != nil || res[n-1].Err != nil {
		t.Fatalf("CreateBatch: %v", err)
	}
	F := things.ThingFields
	got, err := d.DeleteMatching(ctx, F.Count.EQ(1).Expr())
	if err != nil || got != n/3 {
		t.Fatalf("DeleteMatching count = 1: %d, %v; want %d", got, err, n/3)
	}
	if c, err := r.Count(ctx, things.ThingQuery()); err != nil || c != n-n/3 {
		t.Errorf("Count after = %d, %v; want %d", c, err, n-n/3)
	}
	if c, _ := r.Count(ctx, things.ThingQuery().Where(F.Count.EQ(1))); c != 0 {
		t.Errorf("%d matching records left", c)
	}
	if got, err := d.DeleteMatching(ctx, F.Count.EQ(1).Expr()); err != nil || got != 0 {
		t.Errorf("DeleteMatching of nothing left: %d, %v", got, err)
	}
	if _, err := d.DeleteMatching(ctx, query.Expr{Op: query.OpEQ, Field: "nope", Args: []any{int64(1)}}); !errors.Is(err, repo.ErrInvalidInput) {
		t.Errorf("DeleteMatching on an unknown field: %v, want ErrInvalidInput", err)
	}
	if got, err := d.DeleteMatching(ctx, query.Expr{}); err != nil || got != n-n/3 {
		t.Errorf("DeleteMatching of everything: %d, %v; want %d", got, err, n-n/3)
	}
	if c, _ := r.Count(ctx, things.ThingQuery()); c != 0 {
		t.Errorf("%d records left after deleting everything", c)
	}

	e := mustOpenUnique(t, ukeySchema, elasticsearch.WithBatchSize(2, 1<<20))
	for _, v := range []string{"p@x", "q@x", "r@x"} {
		if _, err := e.r.Create(e.ctx, customer(v, "del")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.r.Create(e.ctx, customer("s@x", "keep")); err != nil {
		t.Fatal(err)
	}
	if got, err := e.d.DeleteMatching(e.ctx, ukeyName.EQ("del").Expr()); err != nil || got != 3 {
		t.Fatalf("DeleteMatching with unique fields: %d, %v; want 3", got, err)
	}
	for _, v := range []string{"p@x", "q@x", "r@x"} {
		if owner, ok := e.reservation(t, "email", v); ok {
			t.Errorf("%s still reserved by %q", v, owner)
		}
		if _, err := e.r.Create(e.ctx, customer(v, "again")); err != nil {
			t.Errorf("Create with %s after DeleteMatching: %v", v, err)
		}
	}
	if _, ok := e.reservation(t, "email", "s@x"); !ok {
		t.Error("the kept record lost its reservation")
	}
}

var ukeyName = query.NewStringField[ukey]("name")

// TestBatchConcurrent runs UpdateMany without versions and DeleteMatching while another
// writer updates the same records: UpdateMany reads and sends again the items changed
// between its read and its write, so every item succeeds; DeleteMatching keeps the records
// changed after it read them and counts exactly the records it deleted.
func TestBatchConcurrent(t *testing.T) {
	ctx, r, index := openThings(t, elasticsearch.WithRefresh(elasticsearch.RefreshFalse), elasticsearch.WithBatchSize(50, 1<<20))
	d := r.Driver().(*elasticsearch.Driver[things.Thing])
	const n = 300
	batch := make([]things.Thing, n)
	for i := range batch {
		batch[i] = thing(fmt.Sprintf("c%03d", i), "v")
	}
	if res, err := r.CreateBatch(ctx, batch); err != nil || res[n-1].Err != nil {
		t.Fatalf("CreateBatch: %v", err)
	}
	stop := make(chan struct{})
	var updates atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for k := 0; ; k++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := r.Update(ctx, thing(fmt.Sprintf("c%03d", k%20), fmt.Sprintf("w%d", k))); err == nil {
				updates.Add(1)
			}
		}
	}()
	for updates.Load() < 20 {
		runtime.Gosched()
	}
	rounds := 0
	for ; rounds < 10 || updates.Load() < 300; rounds++ {
		in := make([]things.Thing, 20)
		for i := range in {
			in[i] = thing(fmt.Sprintf("c%03d", i), fmt.Sprintf("batch %d", rounds))
		}
		res := make([]repo.Result, len(in))
		if err := d.UpdateMany(ctx, in, nil, res); err != nil {
			t.Fatal(err)
		}
		for i := range res {
			if res[i].Err != nil {
				t.Errorf("UpdateMany round %d item %d under concurrent updates: %v", rounds, i, res[i].Err)
			}
		}
	}
	t.Logf("%d UpdateMany calls of 20 records during %d single updates of the same records", rounds, updates.Load())
	if _, err := d.Client().ES.Indices.Refresh(d.Client().ES.Indices.Refresh.WithIndex(index)); err != nil {
		t.Fatal(err)
	}
	deleted, err := d.DeleteMatching(ctx, query.All())
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Client().ES.Indices.Refresh(d.Client().ES.Indices.Refresh.WithIndex(index)); err != nil {
		t.Fatal(err)
	}
	left, err := r.Count(ctx, things.ThingQuery())
	if err != nil || deleted+left != n || deleted < n-20 {
		t.Errorf("DeleteMatching deleted %d, %d left (%v); want %d in all, at most 20 kept", deleted, left, err, n)
	}
}
