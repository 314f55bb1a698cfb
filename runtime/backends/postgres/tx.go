package postgres

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/repokit/repokit/runtime/pool"

	"github.com/repokit/repokit/runtime/repo"
)

// Beginner starts transactions: a *pgxpool.Pool, a pgx.Tx (a nested transaction is a
// savepoint), a *Driver, or the DB returned by DBOf.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Tx is a transaction in progress. Bind repositories to it with WithTx; run hand-written
// SQL in it through Pgx.
type Tx struct {
	tx pgx.Tx

	mu   sync.Mutex
	sets []*replicaSet // of the repositories WithTx bound: marked written when InTx ends
}

// bind records a repository's replica set, whose write generation InTx advances when the
// transaction ends (its writes are visible on the primary only then).
func (t *Tx) bind(rs *replicaSet) {
	if rs == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !slices.Contains(t.sets, rs) {
		t.sets = append(t.sets, rs)
	}
}

// ended marks the bound repositories' replica sets written, whatever the outcome (a commit
// whose answer was lost may have committed).
func (t *Tx) ended() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, rs := range t.sets {
		rs.markWrite()
	}
}

// Pgx returns the underlying pgx transaction.
func (t *Tx) Pgx() pgx.Tx { return t.tx }

// InTx runs fn in a transaction begun on db and commits it when fn returns nil. When fn
// returns an error, or panics, the transaction is rolled back: the error is returned (with
// a failed rollback joined to it), and the panic continues after the rollback. A failed
// commit is returned as a repository error (repo.ErrUnavailable when the connection broke).
// Repositories used inside fn must be bound to the transaction with WithTx; the ones they
// came from keep working outside it.
//
//	err := postgres.InTx(ctx, postgres.DBOf(products), func(tx *postgres.Tx) error {
//		p, err := postgres.WithTx(products, tx)
//		...
//	})
func InTx(ctx context.Context, db Beginner, fn func(tx *Tx) error) (err error) {
	if db == nil {
		return errNotPostgres
	}
	ptx, err := db.Begin(ctx)
	if err != nil {
		return txErr(ctx, "InTx.Begin", err)
	}
	done := false
	t := &Tx{tx: ptx}
	defer t.ended()
	defer func() {
		if done {
			return
		}
		// fn panicked: roll back, then let the panic continue.
		_ = ptx.Rollback(context.WithoutCancel(ctx))
	}()
	if ferr := fn(t); ferr != nil {
		done = true
		// A transaction whose connection is closed (a context ended one of its statements)
		// is rolled back by the server: only other rollback failures are worth reporting.
		if rerr := ptx.Rollback(context.WithoutCancel(ctx)); rerr != nil && !errors.Is(rerr, pgx.ErrTxClosed) && !ptx.Conn().IsClosed() {
			return errors.Join(ferr, txErr(context.WithoutCancel(ctx), "InTx.Rollback", rerr))
		}
		return ferr
	}
	done = true
	if cerr := ptx.Commit(ctx); cerr != nil {
		return txErr(ctx, "InTx.Commit", cerr)
	}
	return nil
}

// txErr maps an error of a transaction step (see mapErr) and names the step as its op.
func txErr(ctx context.Context, op string, err error) error {
	err = mapErr(ctx, err)
	var e *repo.Error
	if errors.As(err, &e) && e.Op == "" {
		cp := *e
		cp.Op = op
		return &cp
	}
	return err
}

// DBOf returns the DB a PostgreSQL repository runs on (its shared pool, or its transaction
// when it is bound), for InTx; nil for a repository of another backend.
func DBOf[T any](r repo.Repository[T]) Beginner {
	d, err := driverOf(r)
	if err != nil {
		return nil
	}
	return d.db
}

func driverOf[T any](r repo.Repository[T]) (*Driver[T], error) {
	c, ok := r.(*repo.Collection[T])
	if !ok {
		return nil, errNotPostgres
	}
	d, ok := c.Driver().(*Driver[T])
	if !ok {
		return nil, errNotPostgres
	}
	return d, nil
}

// WithTx returns a repository for the same records and table as r whose every call runs in
// tx. It holds no pool lease: closing it does nothing, and it must not be used after the
// transaction ends (calls then fail with repo.ErrClosed). Every step of a batch insert (the
// COPY, each INSERT that reports records one by one, a batch of one record) runs in a
// savepoint, so that a taken id or a value the server rejects is reported for its record
// and the transaction survives it. A single write (Create, Update, Upsert, Delete) takes no
// savepoint: when the server rejects it, the transaction is aborted, as after any failed
// statement.
func WithTx[T any](r repo.Repository[T], tx *Tx) (*repo.Collection[T], error) {
	d, err := driverOf(r)
	if err != nil {
		return nil, err
	}
	b := *d
	b.db = tx.tx
	b.lease = pool.Lease[*pgxpool.Pool]{}
	b.bound = true
	b.pooled = false
	// Reads in the transaction go to it; its writes count for d's read-your-writes when
	// InTx ends (a Tx made otherwise does not know when it commits: see docs/postgres.md).
	tx.bind(d.rs)
	b.rs = nil
	return repo.New(d.desc, &b), nil
}
