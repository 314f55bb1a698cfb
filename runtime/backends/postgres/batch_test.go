package postgres_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/repo"
)

// badBatch returns n items (ids p0000...) with a record the server rejects at each index of
// bad: an out-of-range time (22008), a kind the table's extra CHECK refuses (23514), an
// email taken by the stored record "taken" (unique violation on a non-id column), or the
// id of an earlier record of the batch. want maps each bad index to the kind its result
// must have.
func badBatch(prefix string, n int, bad map[int]string) ([]item, map[int]error) {
	recs := make([]item, n)
	for i := range recs {
		recs[i] = item{ID: fmt.Sprintf("%s%04d", prefix, i), Kind: "a", Email: ptr(fmt.Sprintf("%s%04d@x", prefix, i))}
	}
	want := map[int]error{}
	for i, what := range bad {
		switch what {
		case "time":
			recs[i].At = &outOfRange
			want[i] = repo.ErrInvalidInput
		case "check":
			recs[i].Kind = "c"
			want[i] = repo.ErrInvalidInput
		case "email":
			recs[i].Email = ptr("taken@x")
			want[i] = repo.ErrAlreadyExists
		case "dup":
			recs[i].ID = recs[0].ID
			want[i] = repo.ErrAlreadyExists
		default:
			panic(what)
		}
	}
	return recs, want
}

// checkResults checks that exactly the records in want failed, each with its kind, and that
// every other record got a version and is stored.
func checkResults(t *testing.T, what string, recs []item, res []repo.Result, want map[int]error, stored map[string]bool) {
	t.Helper()
	if len(res) != len(recs) {
		t.Fatalf("%s: %d results for %d records", what, len(res), len(recs))
	}
	for i, x := range res {
		if k, bad := want[i]; bad {
			if !errors.Is(x.Err, k) {
				t.Errorf("%s: item %d: %v, want %v", what, i, x.Err, k)
			}
			continue
		}
		if x.Err != nil || x.Version == "" {
			t.Errorf("%s: item %d: err %v, version %q", what, i, x.Err, x.Version)
		}
		if stored != nil && !stored[recs[i].ID] {
			t.Errorf("%s: item %d (%s) is not stored", what, i, recs[i].ID)
		}
	}
}

func storedIDs(t *testing.T, r repo.Repository[item], prefix string) map[string]bool {
	t.Helper()
	got, err := r.Find(t.Context(), itemQuery().Where(itemFields.ID.StartsWith(prefix)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, g := range got {
		out[g.ID] = true
	}
	return out
}

// TestBatchRejectedValues: a batch holding records the server rejects — not only taken ids —
// gets a result per record on every path (multi-row INSERT under copyMin records, COPY from
// copyMin on, several chunks' worth of bad records), and the other records are stored.
func TestBatchRejectedValues(t *testing.T) {
	h := newHarness(t)
	ctx, r, table := itemRepo(t, h)
	addNoCCheck(t, h, table)
	if _, err := r.Create(ctx, item{ID: "taken", Kind: "a", Email: ptr("taken@x")}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		n    int
		bad  map[int]string
	}{
		{"values", 8, map[int]string{2: "time", 5: "check", 6: "email"}},
		{"copy-time", 16, map[int]string{9: "time"}},
		{"copy-check", 40, map[int]string{0: "check"}},
		{"copy-all", 300, map[int]string{1: "time", 150: "check", 151: "email", 298: "dup", 299: "time"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			prefix := c.name + "-"
			recs, want := badBatch(prefix, c.n, c.bad)
			res, err := r.CreateBatch(ctx, recs)
			if err != nil {
				t.Fatalf("CreateBatch: %v (a rejected value must be reported for its record)", err)
			}
			stored := storedIDs(t, r, prefix)
			checkResults(t, c.name, recs, res, want, stored)
			if len(stored) != c.n-len(want) {
				t.Errorf("%d records stored, want %d", len(stored), c.n-len(want))
			}
		})
	}
}

// addNoCCheck adds a CHECK the schema does not know of (kind <> 'c'), as a table migrated
// ahead of (or behind) the schema may have: the server rejects such records with 23514.
func addNoCCheck(t *testing.T, h harness, table string) {
	t.Helper()
	h.exec(t, "ALTER TABLE "+pgdialect.Quote(table)+" ADD CONSTRAINT no_c CHECK (kind <> 'c')")
}

// TestBatchInTxRejectedValues: inside InTx, batches with records the server rejects get a
// result per record, the other records are stored, and the transaction survives and commits
// (every batch step runs in a savepoint).
func TestBatchInTxRejectedValues(t *testing.T) {
	h := newHarness(t)
	ctx, r, table := itemRepo(t, h)
	addNoCCheck(t, h, table)
	if _, err := r.Create(ctx, item{ID: "taken", Kind: "a", Email: ptr("taken@x")}); err != nil {
		t.Fatal(err)
	}
	type batch struct {
		prefix string
		recs   []item
		want   map[int]error
		res    []repo.Result
	}
	var batches []*batch
	for _, c := range []struct {
		n   int
		bad map[int]string
	}{
		{5, map[int]string{3: "check"}},
		{6, map[int]string{0: "time", 1: "email"}},
		{40, map[int]string{7: "time", 8: "email", 39: "dup"}},
		{40, map[int]string{20: "check"}},
		{1, map[int]string{0: "check"}}, // a batch of one record is a batch step too
		{1, map[int]string{0: "time"}},
		{1, map[int]string{0: "email"}},
		{1, nil},
	} {
		b := &batch{prefix: fmt.Sprintf("tx%d-", len(batches))}
		b.recs, b.want = badBatch(b.prefix, c.n, c.bad)
		batches = append(batches, b)
	}
	err := postgres.InTx(ctx, postgres.DBOf[item](r), func(tx *postgres.Tx) error {
		tr, err := postgres.WithTx[item](r, tx)
		if err != nil {
			return err
		}
		for _, b := range batches {
			if b.res, err = tr.CreateBatch(ctx, b.recs); err != nil {
				return fmt.Errorf("CreateBatch %s: %w", b.prefix, err)
			}
		}
		// The transaction is still usable.
		_, err = tr.Create(ctx, item{ID: "after", Kind: "b"})
		return err
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	for _, b := range batches {
		stored := storedIDs(t, r, b.prefix)
		checkResults(t, b.prefix, b.recs, b.res, b.want, stored)
		if len(stored) != len(b.recs)-len(b.want) {
			t.Errorf("%s: %d records stored, want %d", b.prefix, len(stored), len(b.recs)-len(b.want))
		}
	}
	if ok, err := r.Exists(ctx, "after"); err != nil || !ok {
		t.Errorf("record created after the batches: %v, %v", ok, err)
	}
}

// TestCreateInTxNoSavepoint: Create in a transaction is one plain INSERT, as hand-written code
// would send (no subtransaction per record): a value the server rejects is ErrInvalidInput
// and aborts the transaction, while a batch of that one record would not.
func TestCreateInTxNoSavepoint(t *testing.T) {
	h := newHarness(t)
	ctx, r, table := itemRepo(t, h)
	addNoCCheck(t, h, table)
	var createErr, afterErr error
	err := postgres.InTx(ctx, postgres.DBOf[item](r), func(tx *postgres.Tx) error {
		tr, err := postgres.WithTx[item](r, tx)
		if err != nil {
			return err
		}
		_, createErr = tr.Create(ctx, item{ID: "rejected", Kind: "c"})
		_, afterErr = tr.Exists(ctx, "x")
		return createErr
	})
	if !errors.Is(createErr, repo.ErrInvalidInput) || err != createErr {
		t.Fatalf("Create of a rejected record: %v (InTx: %v), want ErrInvalidInput returned by InTx", createErr, err)
	}
	if afterErr == nil || !strings.Contains(afterErr.Error(), "25P02") {
		t.Errorf("statement after the rejected Create: %v, want the aborted transaction's 25P02", afterErr)
	}
}

// TestBatchCallErrorInTx: a failure that is not about one record's values (here a foreign key
// the schema does not know of, 23503, which has no kind) is the call's error, for a batch of
// one record in a transaction as for larger batches and outside a transaction.
func TestBatchCallErrorInTx(t *testing.T) {
	h := newHarness(t)
	ctx, r, table := itemRepo(t, h)
	ref := table + "_kinds"
	h.exec(t,
		"CREATE TABLE "+pgdialect.Quote(ref)+" (k text COLLATE \"C\" PRIMARY KEY)",
		"ALTER TABLE "+pgdialect.Quote(table)+" ADD CONSTRAINT kind_fk FOREIGN KEY (kind) REFERENCES "+pgdialect.Quote(ref)+" (k)")
	t.Cleanup(func() { h.exec(t, "DROP TABLE IF EXISTS "+pgdialect.Quote(table)+", "+pgdialect.Quote(ref)) })
	for _, n := range []int{1, 2, 20} {
		recs, _ := badBatch(fmt.Sprintf("fk%d-", n), n, nil)
		if _, err := r.CreateBatch(ctx, recs); err == nil || !strings.Contains(err.Error(), "23503") {
			t.Errorf("CreateBatch(%d) outside a transaction: %v, want the call's error (23503)", n, err)
		}
		var batchErr error
		_ = postgres.InTx(ctx, postgres.DBOf[item](r), func(tx *postgres.Tx) error {
			tr, err := postgres.WithTx[item](r, tx)
			if err != nil {
				return err
			}
			_, batchErr = tr.CreateBatch(ctx, recs)
			return batchErr
		})
		if batchErr == nil || !strings.Contains(batchErr.Error(), "23503") {
			t.Errorf("CreateBatch(%d) in a transaction: %v, want the call's error (23503)", n, batchErr)
		}
	}
}
