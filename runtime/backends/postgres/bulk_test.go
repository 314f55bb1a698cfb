package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// Driver-level tests of the bulk fast paths (bulk.go, bulkwrite.go): the driver methods are
// called directly, with input prepared as Collection prepares it (distinct ids, records
// normalized with repo.Prepare).

func bulkDriver(t *testing.T, r *repo.Collection[item]) *postgres.Driver[item] {
	t.Helper()
	d, ok := r.Driver().(*postgres.Driver[item])
	if !ok {
		t.Fatalf("driver is %T", r.Driver())
	}
	return d
}

// seed creates the records and returns them with their versions.
func seed(t *testing.T, ctx context.Context, r repo.Repository[item], recs ...item) map[string]item {
	t.Helper()
	res, err := r.CreateBatch(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]item{}
	for i, x := range res {
		if x.Err != nil {
			t.Fatalf("seed %s: %v", x.ID, x.Err)
		}
		recs[i].RecordVersion = x.Version
		out[x.ID] = recs[i]
	}
	return out
}

func prepared(t *testing.T, recs ...item) []item {
	t.Helper()
	for i := range recs {
		if err := repo.Prepare(itemSchema, "UpdateBatch", &recs[i], false); err != nil {
			t.Fatal(err)
		}
	}
	return recs
}

// wantKinds checks each result against want (nil: success, with a version when write).
func wantKinds(t *testing.T, what string, res []repo.Result, want []error, write bool) {
	t.Helper()
	for i, x := range res {
		switch {
		case want[i] == nil && x.Err != nil:
			t.Errorf("%s: item %d (%s): %v, want success", what, i, x.ID, x.Err)
		case want[i] == nil && write && x.Version == "":
			t.Errorf("%s: item %d (%s): no version", what, i, x.ID)
		case want[i] != nil && !errors.Is(x.Err, want[i]):
			t.Errorf("%s: item %d (%s): %v, want %v", what, i, x.ID, x.Err, want[i])
		case want[i] != nil && x.Version != "":
			t.Errorf("%s: item %d (%s): failed with version %q", what, i, x.ID, x.Version)
		}
	}
}

// checkStored checks that each successful write is stored with its new version and kind.
func checkStored(t *testing.T, ctx context.Context, r repo.Repository[item], what string, recs []item, res []repo.Result) {
	t.Helper()
	for i, x := range res {
		if x.Err != nil {
			continue
		}
		got, err := r.Get(ctx, x.ID)
		if err != nil {
			t.Errorf("%s: item %d (%s): %v", what, i, x.ID, err)
			continue
		}
		if got.RecordVersion != x.Version || recs[i].RecordVersion != x.Version || got.Kind != recs[i].Kind {
			t.Errorf("%s: item %d: stored %+v, result version %q, record version %q, want kind %q",
				what, i, got, x.Version, recs[i].RecordVersion, recs[i].Kind)
		}
	}
}

func TestGetMany(t *testing.T) {
	h := newHarness(t)
	ctx, r, _ := itemRepo(t, h)
	d := bulkDriver(t, r)
	stored := seed(t, ctx, r, item{ID: "a", Kind: "a", Email: ptr("a@x")}, item{ID: "b", Kind: "b"}, item{ID: "c", Kind: "c"})
	ids := []string{"c", "missing", "a", "b", "gone"}
	recs := make([]item, len(ids))
	res := make([]repo.Result, len(ids))
	if err := d.GetMany(ctx, ids, recs, res); err != nil {
		t.Fatal(err)
	}
	wantKinds(t, "GetMany", res, []error{nil, repo.ErrNotFound, nil, nil, repo.ErrNotFound}, false)
	for i, id := range ids {
		want, ok := stored[id]
		if !ok {
			continue
		}
		if recs[i].ID != id || recs[i].Kind != want.Kind || recs[i].RecordVersion != want.RecordVersion || res[i].Version != want.RecordVersion || res[i].ID != id {
			t.Errorf("GetMany %s: %+v %+v, want %+v", id, recs[i], res[i], want)
		}
	}
	if *recs[2].Email != "a@x" {
		t.Errorf("email of a: %v", *recs[2].Email)
	}
	if err := d.GetMany(ctx, nil, nil, nil); err != nil {
		t.Errorf("GetMany of nothing: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	res = make([]repo.Result, 2)
	if err := d.GetMany(cctx, []string{"a", "b"}, make([]item, 2), res); !errors.Is(err, context.Canceled) || !errors.Is(res[0].Err, context.Canceled) || !errors.Is(res[1].Err, context.Canceled) {
		t.Errorf("GetMany with an ended context: %v, %+v", err, res)
	}
}

// TestUpdateMany: found, missing, right and stale expected versions, a version this backend
// cannot have issued; the results say what Update would have said for each item.
func TestUpdateMany(t *testing.T) {
	h := newHarness(t)
	ctx, r, _ := itemRepo(t, h)
	d := bulkDriver(t, r)
	s := seed(t, ctx, r, item{ID: "a", Kind: "a"}, item{ID: "b", Kind: "a"}, item{ID: "c", Kind: "a"}, item{ID: "d", Kind: "a"})
	recs := prepared(t,
		item{ID: "a", Kind: "b"}, item{ID: "b", Kind: "b"}, item{ID: "c", Kind: "b"},
		item{ID: "x", Kind: "b"}, item{ID: "y", Kind: "b"}, item{ID: "d", Kind: "b"})
	ifv := []string{"", s["b"].RecordVersion, s["b"].RecordVersion, "", "123", "abc"}
	res := make([]repo.Result, len(recs))
	if err := d.UpdateMany(ctx, recs, ifv, res); err != nil {
		t.Fatal(err)
	}
	wantKinds(t, "UpdateMany", res, []error{nil, nil, repo.ErrVersionConflict, repo.ErrNotFound, repo.ErrNotFound, repo.ErrVersionConflict}, true)
	checkStored(t, ctx, r, "UpdateMany", recs, res)
	if res[0].Version == s["a"].RecordVersion {
		t.Errorf("update kept the version %s", res[0].Version)
	}
	for _, id := range []string{"c", "d"} {
		if got, err := r.Get(ctx, id); err != nil || got.Kind != "a" || got.RecordVersion != s[id].RecordVersion {
			t.Errorf("%s after a failed update: %+v, %v", id, got, err)
		}
	}
	if n, _ := r.Count(ctx, itemQuery()); n != 4 {
		t.Errorf("%d records, want 4 (an update creates none)", n)
	}
	if err := d.UpdateMany(ctx, nil, nil, nil); err != nil {
		t.Errorf("UpdateMany of nothing: %v", err)
	}
}

// TestUpsertMany: new and existing records, conditional items (as Update with the version).
func TestUpsertMany(t *testing.T) {
	h := newHarness(t)
	ctx, r, _ := itemRepo(t, h)
	d := bulkDriver(t, r)
	s := seed(t, ctx, r, item{ID: "a", Kind: "a"}, item{ID: "b", Kind: "a"}, item{ID: "c", Kind: "a"})
	recs := prepared(t,
		item{ID: "new1", Kind: "b"}, item{ID: "a", Kind: "b"}, item{ID: "b", Kind: "b"},
		item{ID: "c", Kind: "b"}, item{ID: "new2", Kind: "c"}, item{ID: "new3", Kind: "c"})
	ifv := []string{"", "", s["b"].RecordVersion, "1", "", "7"}
	res := make([]repo.Result, len(recs))
	if err := d.UpsertMany(ctx, recs, ifv, res); err != nil {
		t.Fatal(err)
	}
	wantKinds(t, "UpsertMany", res, []error{nil, nil, nil, repo.ErrVersionConflict, nil, repo.ErrNotFound}, true)
	checkStored(t, ctx, r, "UpsertMany", recs, res)
	if ok, _ := r.Exists(ctx, "new3"); ok {
		t.Error("a conditional upsert of a missing record created it")
	}
	if err := d.UpsertMany(ctx, nil, nil, nil); err != nil {
		t.Errorf("UpsertMany of nothing: %v", err)
	}
}

// uniqueBatch returns n items a0000.. (stored by the caller) updated with fresh emails, item
// bad[k] given what: "email" a stored record's email (taken@x), "check" a kind the table
// refuses, "time" an out-of-range time.
func uniqueBatch(t *testing.T, n int, bad map[int]string) ([]item, []error) {
	recs := make([]item, n)
	want := make([]error, n)
	for i := range recs {
		recs[i] = item{ID: fmt.Sprintf("a%04d", i), Kind: "b", Email: ptr(fmt.Sprintf("new%04d@x", i))}
		switch bad[i] {
		case "email":
			recs[i].Email = ptr("taken@x")
			want[i] = repo.ErrAlreadyExists
		case "check":
			recs[i].Kind = "c"
			want[i] = repo.ErrInvalidInput
		case "time":
			want[i] = repo.ErrInvalidInput
		}
	}
	recs = prepared(t, recs...)
	for i := range recs {
		if bad[i] == "time" {
			// Set after Prepare, whose portable time range rejects it before any backend:
			// the driver must still fail this item alone when the server refuses the value.
			recs[i].At = &outOfRange
		}
	}
	return recs, want
}

func seedN(t *testing.T, ctx context.Context, r repo.Repository[item], n int) {
	t.Helper()
	recs := []item{{ID: "taken", Kind: "a", Email: ptr("taken@x")}}
	for i := range n {
		recs = append(recs, item{ID: fmt.Sprintf("a%04d", i), Kind: "a", Email: ptr(fmt.Sprintf("old%04d@x", i))})
	}
	seed(t, ctx, r, recs...)
}

// TestWriteManyRejected: in one batch, only the items with a taken unique value or a value
// the server rejects fail (each with Update's error), the others are written.
func TestWriteManyRejected(t *testing.T) {
	h := newHarness(t)
	ctx, r, table := itemRepo(t, h)
	addNoCCheck(t, h, table)
	d := bulkDriver(t, r)
	seedN(t, ctx, r, 60)
	bad := map[int]string{3: "email", 17: "check", 40: "time", 59: "email"}
	for _, upsert := range []bool{false, true} {
		recs, want := uniqueBatch(t, 60, bad)
		res := make([]repo.Result, len(recs))
		var err error
		if upsert {
			err = d.UpsertMany(ctx, recs, nil, res)
		} else {
			err = d.UpdateMany(ctx, recs, nil, res)
		}
		if err != nil {
			t.Fatal(err)
		}
		what := fmt.Sprintf("upsert=%v", upsert)
		wantKinds(t, what, res, want, true)
		checkStored(t, ctx, r, what, recs, res)
		wantUnique(t, what+" item 3", res[3].Err, "email", "")
		for i := range want {
			if want[i] != nil {
				got, _ := r.Get(ctx, recs[i].ID)
				if got.Kind != "a" {
					t.Errorf("%s: item %d was written: %+v", what, i, got)
				}
			}
		}
	}
}

// TestWriteManyUniqueOrder: items of one call depending on each other through a unique field
// mean what the loop of single writes means: a later item giving a value an earlier item
// took fails (UniqueTakenEarlier); an item taking a value a later item gives up fails, and
// one taking a value an earlier item gave up succeeds.
func TestWriteManyUniqueOrder(t *testing.T) {
	h := newHarness(t)
	ctx, r, _ := itemRepo(t, h)
	d := bulkDriver(t, r)
	seedN(t, ctx, r, 4)
	recs := prepared(t,
		item{ID: "a0000", Kind: "b", Email: ptr("old0001@x")}, // a0001 holds it until its turn
		item{ID: "a0001", Kind: "b", Email: ptr("z@x")},
		item{ID: "a0002", Kind: "b", Email: ptr("z@x")},       // a0001 took it
		item{ID: "a0003", Kind: "b", Email: ptr("old0000@x")}, // a0000 kept it: it failed
		item{ID: "n1", Kind: "b", Email: ptr("old0002@x")},    // a0002 kept it: it failed
	)
	res := make([]repo.Result, len(recs))
	if err := d.UpsertMany(ctx, recs, nil, res); err != nil {
		t.Fatal(err)
	}
	wantKinds(t, "ordered", res, []error{repo.ErrAlreadyExists, nil, repo.ErrAlreadyExists, repo.ErrAlreadyExists, repo.ErrAlreadyExists}, true)
	wantUnique(t, "item 0", res[0].Err, "email", "")
	wantUnique(t, "item 2", res[2].Err, "email", "a0001")
	checkStored(t, ctx, r, "ordered", recs, res)

	// An item takes the value an earlier item gave up: the loop succeeds, and so must the batch.
	recs = prepared(t,
		item{ID: "a0002", Kind: "c", Email: ptr("free@x")},
		item{ID: "a0003", Kind: "c", Email: ptr("old0002@x")},
	)
	res = make([]repo.Result, len(recs))
	if err := d.UpdateMany(ctx, recs, nil, res); err != nil {
		t.Fatal(err)
	}
	wantKinds(t, "given up earlier", res, []error{nil, nil}, true)
	checkStored(t, ctx, r, "given up earlier", recs, res)
}

// TestDeleteMany: found, missing, right and stale expected versions; the unique values of
// the deleted records are free again.
func TestDeleteMany(t *testing.T) {
	h := newHarness(t)
	ctx, r, _ := itemRepo(t, h)
	d := bulkDriver(t, r)
	s := seed(t, ctx, r, item{ID: "a", Kind: "a", Email: ptr("a@x")}, item{ID: "b", Kind: "a"}, item{ID: "c", Kind: "a"}, item{ID: "d", Kind: "a"})
	ids := []string{"a", "missing", "b", "c", "gone", "d"}
	ifv := []string{"", "", s["b"].RecordVersion, s["b"].RecordVersion, "5", "x"}
	res := make([]repo.Result, len(ids))
	if err := d.DeleteMany(ctx, ids, ifv, res); err != nil {
		t.Fatal(err)
	}
	wantKinds(t, "DeleteMany", res, []error{nil, repo.ErrNotFound, nil, repo.ErrVersionConflict, repo.ErrNotFound, repo.ErrVersionConflict}, false)
	for id, want := range map[string]bool{"a": false, "b": false, "c": true, "d": true} {
		if ok, err := r.Exists(ctx, id); err != nil || ok != want {
			t.Errorf("%s exists: %v, %v, want %v", id, ok, err, want)
		}
	}
	if _, err := r.Create(ctx, item{ID: "e", Kind: "a", Email: ptr("a@x")}); err != nil {
		t.Errorf("the email of a deleted record is not free: %v", err)
	}
	res = make([]repo.Result, 2)
	if err := d.DeleteMany(ctx, []string{"c", "d"}, nil, res); err != nil {
		t.Fatal(err)
	}
	wantKinds(t, "unconditional", res, []error{nil, nil}, false)
	if err := d.DeleteMany(ctx, nil, nil, nil); err != nil {
		t.Errorf("DeleteMany of nothing: %v", err)
	}
}

func TestDeleteMatching(t *testing.T) {
	h := newHarness(t)
	ctx, r, _ := itemRepo(t, h)
	d := bulkDriver(t, r)
	seed(t, ctx, r, item{ID: "a", Kind: "a", Email: ptr("a@x")}, item{ID: "b", Kind: "b"}, item{ID: "c", Kind: "a"}, item{ID: "d", Kind: "c"})
	n, err := d.DeleteMatching(ctx, itemFields.Kind.EQ("a").Expr())
	if err != nil || n != 2 {
		t.Fatalf("DeleteMatching kind = a: %d, %v, want 2", n, err)
	}
	if got, _ := findIDsOf(t, ctx, r); fmt.Sprint(got) != "[b d]" {
		t.Errorf("left %v, want [b d]", got)
	}
	if _, err := r.Create(ctx, item{ID: "e", Kind: "b", Email: ptr("a@x")}); err != nil {
		t.Errorf("the email of a deleted record is not free: %v", err)
	}
	if n, err := d.DeleteMatching(ctx, itemFields.Kind.EQ("a").Expr()); err != nil || n != 0 {
		t.Errorf("DeleteMatching of nothing: %d, %v", n, err)
	}
	if _, err := d.DeleteMatching(ctx, query.Expr{Op: query.OpEQ, Field: "nope", Args: []any{"x"}}); !errors.Is(err, repo.ErrInvalidInput) {
		t.Errorf("DeleteMatching on an unknown field: %v, want ErrInvalidInput", err)
	}
	for _, all := range []query.Expr{query.All(), {}} {
		if _, err := r.Create(ctx, item{ID: "f", Kind: "a"}); err != nil {
			t.Fatal(err)
		}
		want, _ := r.Count(ctx, itemQuery())
		if n, err := d.DeleteMatching(ctx, all); err != nil || n != want {
			t.Errorf("DeleteMatching(%v): %d, %v, want %d", all, n, err, want)
		}
	}
}

func findIDsOf(t *testing.T, ctx context.Context, r repo.Repository[item]) ([]string, error) {
	t.Helper()
	got, err := r.Find(ctx, itemQuery())
	return itemIDs(got), err
}

// TestBulkInTx: the bulk methods on a repository bound to a transaction: rejected items fail
// alone (their statements run in savepoints), the transaction stays usable and commits
// everything the calls reported done.
func TestBulkInTx(t *testing.T) {
	h := newHarness(t)
	ctx, r, table := itemRepo(t, h)
	addNoCCheck(t, h, table)
	seedN(t, ctx, r, 40)
	var upd, ups, del []repo.Result
	var updRecs, upsRecs []item
	var updWant, upsWant []error
	err := postgres.InTx(ctx, postgres.DBOf[item](r), func(tx *postgres.Tx) error {
		tr, err := postgres.WithTx[item](r, tx)
		if err != nil {
			return err
		}
		d := bulkDriver(t, tr)
		updRecs, updWant = uniqueBatch(t, 20, map[int]string{2: "email", 9: "check", 19: "time"})
		updRecs = append(updRecs, prepared(t, item{ID: "missing", Kind: "b"})...)
		updWant = append(updWant, repo.ErrNotFound)
		upd = make([]repo.Result, len(updRecs))
		if err := d.UpdateMany(ctx, updRecs, nil, upd); err != nil {
			return fmt.Errorf("UpdateMany: %w", err)
		}
		upsRecs = prepared(t, item{ID: "n1", Kind: "b"}, item{ID: "n2", Kind: "c"}, item{ID: "a0030", Kind: "b", Email: ptr("taken@x")}, item{ID: "a0031", Kind: "b"})
		upsWant = []error{nil, repo.ErrInvalidInput, repo.ErrAlreadyExists, nil}
		ups = make([]repo.Result, len(upsRecs))
		if err := d.UpsertMany(ctx, upsRecs, nil, ups); err != nil {
			return fmt.Errorf("UpsertMany: %w", err)
		}
		del = make([]repo.Result, 3)
		if err := d.DeleteMany(ctx, []string{"a0035", "nope", "a0036"}, []string{"", "", "1"}, del); err != nil {
			return fmt.Errorf("DeleteMany: %w", err)
		}
		recs := make([]item, 2)
		get := make([]repo.Result, 2)
		if err := d.GetMany(ctx, []string{"n1", "a0035"}, recs, get); err != nil || get[0].Err != nil || !errors.Is(get[1].Err, repo.ErrNotFound) {
			return fmt.Errorf("GetMany in the transaction: %v, %+v", err, get)
		}
		if n, err := d.DeleteMatching(ctx, itemFields.ID.EQ("a0039").Expr()); err != nil || n != 1 {
			return fmt.Errorf("DeleteMatching: %d, %w", n, err)
		}
		_, err = tr.Create(ctx, item{ID: "after", Kind: "b"})
		return err
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	wantKinds(t, "UpdateMany", upd, updWant, true)
	checkStored(t, ctx, r, "UpdateMany", updRecs, upd)
	wantKinds(t, "UpsertMany", ups, upsWant, true)
	checkStored(t, ctx, r, "UpsertMany", upsRecs, ups)
	wantKinds(t, "DeleteMany", del, []error{nil, repo.ErrNotFound, repo.ErrVersionConflict}, false)
	for id, want := range map[string]bool{"a0035": false, "a0036": true, "a0039": false, "after": true, "n2": false} {
		if ok, err := r.Exists(ctx, id); err != nil || ok != want {
			t.Errorf("%s exists after commit: %v, %v, want %v", id, ok, err, want)
		}
	}
}

// TestBulkCancelled: a call whose context has ended does nothing and gives every item the
// context's error.
func TestBulkCancelled(t *testing.T) {
	h := newHarness(t)
	ctx, r, _ := itemRepo(t, h)
	d := bulkDriver(t, r)
	seed(t, ctx, r, item{ID: "a", Kind: "a"})
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	for name, call := range map[string]func([]repo.Result) error{
		"UpdateMany": func(res []repo.Result) error {
			return d.UpdateMany(cctx, prepared(t, item{ID: "a", Kind: "b"}), nil, res)
		},
		"UpsertMany": func(res []repo.Result) error {
			return d.UpsertMany(cctx, prepared(t, item{ID: "a", Kind: "b"}), nil, res)
		},
		"DeleteMany": func(res []repo.Result) error { return d.DeleteMany(cctx, []string{"a"}, nil, res) },
	} {
		res := make([]repo.Result, 1)
		if err := call(res); !errors.Is(err, context.Canceled) || !errors.Is(res[0].Err, context.Canceled) || res[0].ID != "a" {
			t.Errorf("%s: %v, %+v", name, err, res)
		}
	}
	if _, err := d.DeleteMatching(cctx, query.All()); !errors.Is(err, context.Canceled) {
		t.Errorf("DeleteMatching: %v", err)
	}
	if got, err := r.Get(ctx, "a"); err != nil || got.Kind != "a" {
		t.Errorf("a after the cancelled calls: %+v, %v", got, err)
	}
}

// bulkThing returns a record with every field kind set (lists, bytes, json, times, a uuid),
// or only the required ones.
func bulkThing(id string, full bool) things.Thing {
	at := time.Date(2024, 2, 29, 12, 0, 0, 123456000, time.UTC)
	r := things.Thing{ID: id, Name: "min " + id, Created: at}
	if full {
		r = things.Thing{
			ID: id, Name: "name " + id, Title: ptr("title"), Body: ptr("body\nlines"),
			Code: ptr("0190a6c4-1b2c-7d3e-8f40-123456789abc"), Kind: ptr(things.ThingKindB),
			Rank: ptr[int64](-42), Count: 1 << 40, Score: ptr(-0.125), Ratio: 1e-9,
			Flag: ptr(false), Active: true, At: ptr(at), Created: at,
			Tags: []string{"x", "", "y"}, Nums: []int64{math.MinInt64, 0, math.MaxInt64},
			Levels: []things.ThingLevel{things.ThingLevelHigh, things.ThingLevelLow},
			Blob:   []byte{0, 1, 2, 255}, Meta: json.RawMessage(`{"k":[1,"two",null]}`),
		}
	}
	if err := repo.Prepare(things.ThingSchema, "UpsertBatch", &r, false); err != nil {
		panic(err)
	}
	return r
}

// TestWriteManyAllKinds: values of every field kind go through the typed VALUES rows of
// UpdateMany and the multi-row upsert unchanged (set, and set back to missing), on the
// driver's own SQL and on the sqlc-generated statements' repository; uuid ids (Other) work
// in GetMany, UpdateMany and DeleteMany.
func TestWriteManyAllKinds(t *testing.T) {
	for name, h := range map[string]drivertest.Harness{"plain": drivertest.On(newHarness(t)), "generated": drivertest.On(newGenHarness(t))} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			tr, err := h.MakeThings(ctx, t)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = tr.Close() })
			d := tr.(*repo.Collection[things.Thing]).Driver().(*postgres.Driver[things.Thing])
			recs := []things.Thing{bulkThing("t1", true), bulkThing("t2", false)}
			res := make([]repo.Result, 2)
			if err := d.UpsertMany(ctx, recs, nil, res); err != nil || res[0].Err != nil || res[1].Err != nil {
				t.Fatalf("UpsertMany: %v, %+v", err, res)
			}
			recs = []things.Thing{bulkThing("t1", false), bulkThing("t2", true)}
			if err := d.UpdateMany(ctx, recs, []string{res[0].Version, res[1].Version}, res); err != nil || res[0].Err != nil || res[1].Err != nil {
				t.Fatalf("UpdateMany: %v, %+v", err, res)
			}
			got := make([]things.Thing, 2)
			if err := d.GetMany(ctx, []string{"t1", "t2"}, got, make([]repo.Result, 2)); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, recs) {
				t.Errorf("read back\n%+v\nwant\n%+v", got, recs)
			}

			or, err := h.MakeOthers(ctx, t)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = or.Close() })
			od := or.(*repo.Collection[things.Other]).Driver().(*postgres.Driver[things.Other])
			created, err := or.CreateBatch(ctx, []things.Other{{Label: "a"}, {Label: "b"}})
			if err != nil {
				t.Fatal(err)
			}
			missing := record.NewID()
			ids := []string{created[0].ID, missing, created[1].ID}
			ogot := make([]things.Other, 3)
			ores := make([]repo.Result, 3)
			if err := od.GetMany(ctx, ids, ogot, ores); err != nil || ores[0].Err != nil || !errors.Is(ores[1].Err, repo.ErrNotFound) || ogot[2].Label != "b" {
				t.Errorf("GetMany of uuid ids: %v, %+v, %+v", err, ores, ogot)
			}
			upd := []things.Other{{ID: created[0].ID, Label: "a2"}, {ID: missing, Label: "m"}}
			if err := od.UpdateMany(ctx, upd, []string{created[0].Version, ""}, ores[:2]); err != nil || ores[0].Err != nil || !errors.Is(ores[1].Err, repo.ErrNotFound) {
				t.Errorf("UpdateMany of uuid ids: %v, %+v", err, ores[:2])
			}
			if err := od.DeleteMany(ctx, ids, []string{ores[0].Version, "", ""}, ores); err != nil || ores[0].Err != nil || !errors.Is(ores[1].Err, repo.ErrNotFound) || ores[2].Err != nil {
				t.Errorf("DeleteMany of uuid ids: %v, %+v", err, ores)
			}
			if n, err := or.Count(ctx, query.New[things.Other]()); err != nil || n != 0 {
				t.Errorf("%d others left (%v), want 0", n, err)
			}
		})
	}
}
