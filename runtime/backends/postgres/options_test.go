package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// exercise runs the repository calls NewWithDB tests need on r (whose table is empty): CRUD,
// a COPY batch with a record the server rejects, and a stream of more than drainLimit rows
// broken off after its first row. It returns the ids it leaves stored.
func exercise(t *testing.T, ctx context.Context, r repo.Repository[item], prefix string) int {
	t.Helper()
	x, err := r.Create(ctx, item{ID: prefix + "x", Kind: "a"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if x, err = r.Update(ctx, item{ID: prefix + "x", Kind: "b"}, repo.IfVersion(x.RecordVersion)); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got, err := r.Get(ctx, prefix+"x"); err != nil || got.Kind != "b" || got.RecordVersion != x.RecordVersion {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if err := r.Delete(ctx, prefix+"x"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	recs, want := badBatch(prefix+"c", 40, map[int]string{17: "time"})
	res, err := r.CreateBatch(ctx, recs)
	if err != nil {
		t.Fatalf("CreateBatch: %v", err)
	}
	checkResults(t, "CreateBatch", recs, res, want, nil)
	big := make([]item, 1500) // more than drainLimit: breaking off a pool's stream cancels it
	for i := range big {
		big[i] = item{ID: fmt.Sprintf("%sd%04d", prefix, i), Kind: "a"}
	}
	if _, err := r.CreateBatch(ctx, big); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		for _, err := range r.Stream(ctx, itemQuery()) {
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			break
		}
		// The connection (or transaction) the caller owns is still usable.
		if n, err := r.Count(ctx, itemQuery()); err != nil || n != 39+1500 {
			t.Fatalf("Count after breaking off a stream = %d, %v; want %d", n, err, 39+1500)
		}
	}
	return 39 + 1500
}

// TestNewWithDBConn: a driver on a *pgx.Conn the caller owns creates its table, runs every
// kind of call, and breaking off a stream leaves the connection open (the rest is read
// rather than the statement cancelled, which would close the caller's connection).
func TestNewWithDBConn(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	table := tableName(t, h.m, h.cfg, "conn")
	conn := otherConn(t)
	d, err := postgres.NewWithDB(ctx, conn, itemSchema, postgres.WithTable(table))
	if err != nil {
		t.Fatal(err)
	}
	r := repo.New(itemSchema, d)
	exercise(t, ctx, r, "")
	if conn.IsClosed() {
		t.Errorf("the caller's connection was closed")
	}
	if err := r.Close(); err != nil || conn.IsClosed() {
		t.Errorf("Close: %v; closed the caller's connection: %v", err, conn.IsClosed())
	}
}

// TestNewWithDBTx: a driver made with NewWithDB on a pgx.Tx behaves like one bound with
// WithTx: batches with rejected values and a stream broken off leave the transaction usable,
// and its writes become visible on commit only.
func TestNewWithDBTx(t *testing.T) {
	h := newHarness(t)
	ctx, outside, table := itemRepo(t, h)
	lease, err := pool.Get(ctx, h.m, h.cfg, postgres.Hooks())
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	tx, err := lease.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	d, err := postgres.NewWithDB(ctx, tx, itemSchema, postgres.WithTable(table))
	if err != nil {
		t.Fatal(err)
	}
	n := exercise(t, ctx, repo.New(itemSchema, d), "")
	if c, err := outside.Count(ctx, itemQuery()); err != nil || c != 0 {
		t.Errorf("visible outside before commit: %d, %v", c, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if c, err := outside.Count(ctx, itemQuery()); err != nil || c != int64(n) {
		t.Errorf("after commit: %d, %v; want %d", c, err, n)
	}
}

// TestWithoutSchemaCheck: a repository made WithoutSchemaCheck on a missing table, or on a
// table that lacks a column, is made without a round trip to the table, and every call
// then fails at once with an error naming the table (errors.Is ErrSchemaDrift), not a hang.
func TestWithoutSchemaCheck(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	missing := tableName(t, h.m, h.cfg, "missing")
	partial := tableName(t, h.m, h.cfg, "partial")
	lease, err := pool.Get(ctx, h.m, h.cfg, postgres.Hooks())
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	if _, err := lease.Pool().Exec(ctx, `CREATE TABLE `+pgdialect.Quote(partial)+` (id text COLLATE "C" PRIMARY KEY, email text COLLATE "C", kind text COLLATE "C" NOT NULL, refs uuid[], repokit_version bigint NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{missing, partial} {
		d, err := postgres.New(ctx, h.m, h.cfg, itemSchema, postgres.WithTable(table), postgres.WithoutSchemaCheck())
		if err != nil {
			t.Fatalf("New WithoutSchemaCheck on %s: %v", table, err)
		}
		r := repo.New(itemSchema, d)
		defer r.Close()
		for _, c := range []struct {
			what    string
			allCols bool // the statement names every column (else it fails only on a missing table)
			call    func() error
		}{
			{"Get", true, func() error { _, err := r.Get(ctx, "x"); return err }},
			{"Exists", false, func() error { _, err := r.Exists(ctx, "x"); return err }},
			{"Count", false, func() error { _, err := r.Count(ctx, itemQuery()); return err }},
			{"Find", true, func() error { _, err := r.Find(ctx, itemQuery()); return err }},
			{"Stream", true, func() error {
				for _, err := range r.Stream(ctx, itemQuery()) {
					if err != nil {
						return err
					}
				}
				return nil
			}},
			{"Create", true, func() error { _, err := r.Create(ctx, item{ID: "x", Kind: "a"}); return err }},
			{"CreateBatch", true, func() error {
				recs, _ := badBatch("b", 20, nil)
				_, err := r.CreateBatch(ctx, recs)
				return err
			}},
			{"Update", true, func() error { _, err := r.Update(ctx, item{ID: "x", Kind: "a"}); return err }},
			{"Upsert", true, func() error { _, err := r.Upsert(ctx, item{ID: "x", Kind: "a"}); return err }},
			{"Delete", false, func() error { return r.Delete(ctx, "x") }},
		} {
			if table == partial && !c.allCols {
				continue
			}
			err := c.call()
			switch {
			case err == nil:
				t.Errorf("%s on %s: no error", c.what, table)
			case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
				t.Fatalf("%s on %s: %v: the call hung", c.what, table, err)
			case !errors.Is(err, postgres.ErrSchemaDrift) || !strings.Contains(err.Error(), table):
				t.Errorf("%s on %s: %v, want ErrSchemaDrift naming the table", c.what, table, err)
			}
		}
	}
	if err := postgres.EnsureSchema(ctx, lease.Pool(), itemSchema, missing); err != nil {
		t.Fatal(err)
	}
	d, err := postgres.New(ctx, h.m, h.cfg, itemSchema, postgres.WithTable(missing), postgres.WithoutSchemaCheck())
	if err != nil {
		t.Fatal(err)
	}
	r := repo.New(itemSchema, d)
	defer r.Close()
	if _, err := r.Create(ctx, item{ID: "x", Kind: "a"}); err != nil {
		t.Errorf("Create once the table exists: %v", err)
	}
}

var _ postgres.DB = (*pgx.Conn)(nil)
