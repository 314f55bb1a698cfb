package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func thingsRepo(t *testing.T, h harness) (context.Context, *repo.Collection[things.Thing]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	d, err := postgres.New(ctx, h.m, h.cfg, things.ThingSchema, postgres.WithTable(tableName(t, h.m, h.cfg, "thing")))
	if err != nil {
		t.Fatal(err)
	}
	r := repo.New(things.ThingSchema, d)
	t.Cleanup(func() { _ = r.Close() })
	return ctx, r
}

// TestCreateBatchCopy covers the COPY path: a batch above the COPY threshold with an id that
// is already stored and an id repeated inside the batch gets one result per record, and
// every other record is stored.
func TestCreateBatchCopy(t *testing.T) {
	h := newHarness(t)
	ctx, r := thingsRepo(t, h)
	if _, err := r.Create(ctx, things.Thing{ID: "b02500", Name: "taken", Created: t0}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{100, postgres.CopyChunk + 1234} {
		recs := make([]things.Thing, n)
		for i := range recs {
			recs[i] = things.Thing{ID: fmt.Sprintf("b%05d", i), Name: "n", Count: int64(i), Tags: []string{"t"}, Created: t0}
		}
		recs[n-1].ID = "b00007" // a duplicate inside the batch: the later record fails
		if n == 100 {
			recs[50].ID = "b02500" // stored before
		}
		res, err := r.CreateBatch(ctx, recs)
		if err != nil {
			t.Fatal(err)
		}
		failed := map[int]bool{}
		for i, x := range res {
			if x.Err != nil {
				if !errors.Is(x.Err, repo.ErrAlreadyExists) {
					t.Errorf("n=%d item %d: %v", n, i, x.Err)
				}
				failed[i] = true
			} else if x.Version == "" {
				t.Errorf("n=%d item %d: no version", n, i)
			}
		}
		want := map[int]bool{n - 1: true}

		if n == 100 {
			want[50] = true
		} else {
			// The first batch stored b00000..b00099 except b00050 and b00099 (their records
			// carried other ids); b02500 was stored before.
			for i := range 100 {
				want[i] = i != 50 && i != 99
			}
			want[2500] = true
		}
		for i, w := range want {
			if !w {
				delete(want, i)
			}
		}
		if len(failed) != len(want) {
			t.Errorf("n=%d: %d failed items, want %d", n, len(failed), len(want))
		}
		for i := range want {
			if !failed[i] {
				t.Errorf("n=%d: item %d (%s) did not fail", n, i, recs[i].ID)
			}
		}
	}
	if c, err := r.Count(ctx, things.ThingQuery()); err != nil || c != int64(postgres.CopyChunk+1234-1) {
		t.Errorf("Count = %d, %v; want %d", c, err, postgres.CopyChunk+1234-1)
	}
	got, err := r.Get(ctx, "b00007")
	if err != nil || got.Count != 7 {
		t.Errorf("b00007 = %+v, %v: the first record with the id must win", got, err)
	}
}

// TestInTx: commit makes writes visible, an error or a panic rolls everything back, and a
// repository bound to a finished transaction fails with ErrClosed.
func TestInTx(t *testing.T) {
	h := newHarness(t)
	ctx, r := thingsRepo(t, h)
	db := postgres.DBOf[things.Thing](r)
	rec := func(id string) things.Thing { return things.Thing{ID: id, Name: id, Created: t0} }

	var bound *repo.Collection[things.Thing]
	err := postgres.InTx(ctx, db, func(tx *postgres.Tx) error {
		tr, err := postgres.WithTx[things.Thing](r, tx)
		if err != nil {
			return err
		}
		bound = tr
		if _, err := tr.Create(ctx, rec("c1")); err != nil {
			return err
		}
		batch := make([]things.Thing, 40)
		for i := range batch {
			batch[i] = rec(fmt.Sprintf("c%02d", i+2))
		}
		batch[5].ID = "c1" // taken inside the transaction: reported, the transaction survives
		res, err := tr.CreateBatch(ctx, batch)
		if err != nil {
			return err
		}
		if !errors.Is(res[5].Err, repo.ErrAlreadyExists) {
			return fmt.Errorf("batch item 5: %v", res[5].Err)
		}
		// Not visible outside the transaction yet.
		if ok, err := r.Exists(ctx, "c1"); err != nil || ok {
			return fmt.Errorf("c1 visible outside the transaction before commit: %v %v", ok, err)
		}
		n, err := tr.Count(ctx, things.ThingQuery())
		if err != nil || n != 40 {
			return fmt.Errorf("count inside = %d, %v", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.Count(ctx, things.ThingQuery()); err != nil || n != 40 {
		t.Errorf("after commit: count = %d, %v; want 40", n, err)
	}
	if _, err := bound.Get(ctx, "c1"); !errors.Is(err, repo.ErrClosed) {
		t.Errorf("bound repository after commit: %v, want ErrClosed", err)
	}

	boom := errors.New("boom")
	err = postgres.InTx(ctx, db, func(tx *postgres.Tx) error {
		tr, _ := postgres.WithTx[things.Thing](r, tx)
		if _, err := tr.Create(ctx, rec("e1")); err != nil {
			return err
		}
		if err := tr.Delete(ctx, "c1"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("InTx returned %v, want boom", err)
	}
	if ok, _ := r.Exists(ctx, "e1"); ok {
		t.Errorf("e1 stored by a rolled-back transaction")
	}
	if ok, _ := r.Exists(ctx, "c1"); !ok {
		t.Errorf("c1 deleted by a rolled-back transaction")
	}

	func() {
		defer func() {
			if p := recover(); p != "kaboom" {
				t.Errorf("recovered %v, want the panic to continue", p)
			}
		}()
		_ = postgres.InTx(ctx, db, func(tx *postgres.Tx) error {
			tr, _ := postgres.WithTx[things.Thing](r, tx)
			if _, err := tr.Create(ctx, rec("p1")); err != nil {
				return err
			}
			panic("kaboom")
		})
	}()
	if ok, _ := r.Exists(ctx, "p1"); ok {
		t.Errorf("p1 stored by a transaction that panicked")
	}
	// The pool is healthy afterwards: no connection is left in a transaction.
	for i := range 20 {
		if _, err := r.Create(ctx, rec(fmt.Sprintf("after%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if postgres.DBOf[things.Thing](nil) != nil {
		t.Errorf("DBOf(nil) is not nil")
	}
}

// TestSchemaDrift: a table that does not match the schema is reported column by column and
// left unchanged.
func TestSchemaDrift(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	name := tableName(t, h.m, h.cfg, "drift")
	h.exec(t, `CREATE TABLE `+pgdialect.Quote(name)+` (id text COLLATE "C" PRIMARY KEY, label integer, extra text, repokit_version bigint NOT NULL)`)
	_, err := postgres.New(ctx, h.m, h.cfg, things.OtherSchema, postgres.WithTable(name))
	if !errors.Is(err, postgres.ErrSchemaDrift) {
		t.Fatalf("New on a drifted table: %v, want ErrSchemaDrift", err)
	}
	var de *postgres.DriftError
	if !errors.As(err, &de) {
		t.Fatalf("%T is not a *DriftError", err)
	}
	want := []string{
		`column "id" has type text COLLATE "C", want uuid`,
		`column "label" has type integer, want text COLLATE "C"`,
		`column "label" allows NULL, want NOT NULL`,
		`column "weight" is missing (want double precision)`,
		`column "state" is missing (want text COLLATE "C")`,
		`column "extra" (text) is not in the schema`,
	}
	if !slices.Equal(de.Problems, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(de.Problems, "\n"), strings.Join(want, "\n"))
	}
	// A matching table passes; creating it twice is fine.
	ok := tableName(t, h.m, h.cfg, "ok")
	for range 2 {
		d, err := postgres.New(ctx, h.m, h.cfg, things.KeywordSchema, postgres.WithTable(ok))
		if err != nil {
			t.Fatal(err)
		}
		_ = d.Close()
	}
}

// TestSharedPool: repositories on one config share one pool; the pool closes with the last.
func TestSharedPool(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a, err := postgres.New(ctx, h.m, h.cfg, things.ThingSchema, postgres.WithTable(tableName(t, h.m, h.cfg, "sa")))
	if err != nil {
		t.Fatal(err)
	}
	b, err := postgres.New(ctx, h.m, pool.Prepare(h.cfg), things.OtherSchema, postgres.WithTable(tableName(t, h.m, h.cfg, "sb")))
	if err != nil {
		t.Fatal(err)
	}
	if a.DB() != b.DB() {
		t.Errorf("two repositories on one config got different pools")
	}
	st := h.m.Stats()
	if len(st) != 1 || st[0].Holders != 2 {
		t.Errorf("stats: %+v", st)
	}
	if _, ok := st[0].PoolStats.(postgres.PoolStats); !ok {
		t.Errorf("PoolStats is %T", st[0].PoolStats)
	}
	if strings.Contains(fmt.Sprint(st), h.cfg.Password) && h.cfg.Password != "" {
		t.Errorf("stats contain the password")
	}
	_ = a.Close()
	_ = b.Close()
}

// TestLiteralIDsAndPatterns: ids, LIKE and STARTS_WITH operands that look like SQL or LIKE
// syntax match literally.
func TestLiteralIDsAndPatterns(t *testing.T) {
	h := newHarness(t)
	ctx, r := thingsRepo(t, h)
	F := things.ThingFields
	ids := []string{`a%`, `a_`, `ab`, `a\`, `a'b`, `a"b`, `a%b`, `a');DELETE FROM thing;--`}
	for _, id := range ids {
		if _, err := r.Create(ctx, things.Thing{ID: id, Name: id, Created: t0}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		what string
		q    func() ([]string, error)
		want []string
	}{
		{"LIKE a\\%", func() ([]string, error) { return findIDs(ctx, r, F.Name.Like(`a\%`)) }, []string{`a%`}},
		{"LIKE a\\_", func() ([]string, error) { return findIDs(ctx, r, F.Name.Like(`a\_`)) }, []string{`a_`}},
		{"LIKE a_", func() ([]string, error) { return findIDs(ctx, r, F.Name.Like(`a_`)) }, []string{`a%`, `a\`, `a_`, `ab`}},
		{"LIKE a\\\\", func() ([]string, error) { return findIDs(ctx, r, F.Name.Like(`a\\`)) }, []string{`a\`}},
		{"STARTS_WITH a%", func() ([]string, error) { return findIDs(ctx, r, F.ID.StartsWith(`a%`)) }, []string{`a%`, `a%b`}},
		{"STARTS_WITH a'", func() ([]string, error) { return findIDs(ctx, r, F.ID.StartsWith(`a'`)) }, []string{`a'b`, `a');DELETE FROM thing;--`}},
		{"EQ injection id", func() ([]string, error) { return findIDs(ctx, r, F.ID.EQ(`a');DELETE FROM thing;--`)) }, []string{`a');DELETE FROM thing;--`}},
	} {
		got, err := c.q()
		if err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		want := slices.Sorted(slices.Values(c.want))
		if !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", c.what, got, want)
		}
	}
	for _, id := range ids {
		if err := r.Delete(ctx, id); err != nil {
			t.Errorf("Delete(%q): %v", id, err)
		}
	}
}

func findIDs(ctx context.Context, r repo.Repository[things.Thing], c query.Cond[things.Thing]) ([]string, error) {
	recs, err := r.Find(ctx, things.ThingQuery().Where(c))
	ids := make([]string, len(recs))
	for i := range recs {
		ids[i] = recs[i].ID
	}
	return ids, err
}

// A commit the server refuses (here a deferred unique constraint) is returned mapped to its
// kind and names the step.
func TestInTxCommitError(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	lease, err := pool.Get(ctx, h.m, h.cfg, postgres.Hooks())
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	err = postgres.InTx(ctx, lease.Pool(), func(tx *postgres.Tx) error {
		_, err := tx.Pgx().Exec(ctx, `CREATE TEMP TABLE deferred_dup (a int UNIQUE DEFERRABLE INITIALLY DEFERRED) ON COMMIT DROP;
			INSERT INTO deferred_dup VALUES (1), (1)`)
		return err
	})
	var re *repo.Error
	if !errors.Is(err, repo.ErrAlreadyExists) || !errors.As(err, &re) || re.Op != "InTx.Commit" {
		t.Fatalf("got %v, want ErrAlreadyExists naming InTx.Commit", err)
	}
	if !strings.HasPrefix(err.Error(), "repokit: InTx.Commit: already exists: ") {
		t.Errorf("message %q", err.Error())
	}
}
