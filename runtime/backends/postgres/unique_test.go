package postgres_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/repo"
)

// wantUnique fails the test unless err is ErrAlreadyExists with a *repo.UniqueError about
// field, taken first by the record earlier of the same batch ("": by a stored record).
func wantUnique(t *testing.T, what string, err error, field, earlier string) {
	t.Helper()
	var ue *repo.UniqueError
	if !errors.Is(err, repo.ErrAlreadyExists) || !errors.As(err, &ue) || ue.Field != field || ue.Earlier != earlier {
		t.Errorf("%s: %v, want ErrAlreadyExists naming unique field %s (earlier record %q)", what, err, field, earlier)
	}
}

// TestUniqueInTx: in a transaction, a taken unique value is reported with its field on every
// insert path — Create (one INSERT ... ON CONFLICT DO NOTHING, no savepoint), a batch of one
// record, a multi-row INSERT, COPY — and the reads that find out which value was taken leave
// the transaction usable: it commits what the calls stored.
func TestUniqueInTx(t *testing.T) {
	h := newHarness(t)
	ctx, r, _ := itemRepo(t, h)
	if _, err := r.Create(ctx, item{ID: "taken", Kind: "a", Email: ptr("taken@x")}); err != nil {
		t.Fatal(err)
	}
	want := 1 // records stored at the end
	err := postgres.InTx(ctx, postgres.DBOf[item](r), func(tx *postgres.Tx) error {
		tr, err := postgres.WithTx[item](r, tx)
		if err != nil {
			return err
		}
		_, err = tr.Create(ctx, item{ID: "c1", Kind: "a", Email: ptr("taken@x")})
		wantUnique(t, "Create", err, "email", "")
		_, err = tr.Create(ctx, item{ID: "taken", Kind: "a", Email: ptr("free@x")})
		if !errors.Is(err, repo.ErrAlreadyExists) || errors.As(err, new(*repo.UniqueError)) {
			t.Errorf("Create of a taken id: %v, want ErrAlreadyExists without a unique field", err)
		}
		for _, n := range []int{1, 6, 40} {
			prefix := fmt.Sprintf("b%d-", n)
			recs, _ := badBatch(prefix, n, map[int]string{n - 1: "email"})
			if n > 1 {
				recs[n/2].Email = recs[0].Email // item n/2 meets item 0's email
				want += n - 2
			}
			res, err := tr.CreateBatch(ctx, recs)
			if err != nil {
				return fmt.Errorf("CreateBatch of %d: %w", n, err)
			}
			wantUnique(t, fmt.Sprintf("CreateBatch of %d, item with a stored record's email", n), res[n-1].Err, "email", "")
			if n > 1 {
				wantUnique(t, fmt.Sprintf("CreateBatch of %d, item with an earlier item's email", n), res[n/2].Err, "email", recs[0].ID)
			}
		}
		_, err = tr.Create(ctx, item{ID: "after", Kind: "b"})
		want++
		return err
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if n, err := r.Count(ctx, itemQuery()); err != nil || n != int64(want) {
		t.Errorf("%d records stored (%v), want %d", n, err, want)
	}
}

// TestUniqueIndexOtherName: on a table whose unique index has a name repokit did not give it
// (created by a hand-written migration), a unique violation still names the field (from the
// server's detail), and so does a Create.
func TestUniqueIndexOtherName(t *testing.T) {
	h := newHarness(t)
	ctx, r, table := itemRepo(t, h)
	h.exec(t,
		"DROP INDEX "+pgdialect.Quote(pgdialect.IndexName(table, "email", "key")),
		"CREATE UNIQUE INDEX "+pgdialect.Quote(table+"_mail_unique")+" ON "+pgdialect.Quote(table)+" (email)")
	if _, err := r.Create(ctx, item{ID: "a", Kind: "a", Email: ptr("a@x")}); err != nil {
		t.Fatal(err)
	}
	b, err := r.Create(ctx, item{ID: "b", Kind: "a", Email: ptr("b@x")})
	if err != nil {
		t.Fatal(err)
	}
	b.Email = ptr("a@x")
	_, err = r.Update(ctx, b)
	wantUnique(t, "Update", err, "email", "")
	_, err = r.Upsert(ctx, item{ID: "c", Kind: "a", Email: ptr("a@x")})
	wantUnique(t, "Upsert", err, "email", "")
	_, err = r.Create(ctx, item{ID: "c", Kind: "a", Email: ptr("a@x")})
	wantUnique(t, "Create", err, "email", "")
}
