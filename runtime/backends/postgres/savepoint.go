package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// savepointName names the savepoints of batch steps on a transaction. One is open at a time,
// and a savepoint of the caller's with the same name is only shadowed while it is.
const savepointName = "repokit_batch"

// inSavepoint runs fn, a batch step. On a driver bound to a transaction it runs in a
// savepoint, rolled back (and released) when fn fails, so that a statement the server
// rejects does not abort the caller's transaction. It returns fn's error, mapped, or the
// error of the savepoint statements themselves (then the transaction's state is unknown and
// the batch must stop).
func (d *Driver[T]) inSavepoint(ctx context.Context, fn func() error) error {
	if !d.bound {
		return fn()
	}
	if err := d.execStep(ctx, "SAVEPOINT "+savepointName); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if ctx.Err() != nil || d.connClosed() {
			// The connection is gone (pgx closes it when a context ends a statement), and
			// the transaction with it: nothing to roll back to.
			return err
		}
		if rerr := d.execStep(ctx, "ROLLBACK TO SAVEPOINT "+savepointName+"; RELEASE SAVEPOINT "+savepointName); rerr != nil {
			return rerr
		}
		return err
	}
	return d.execStep(ctx, "RELEASE SAVEPOINT "+savepointName)
}

// connClosed reports whether the connection of a bound driver (its DB is a pgx.Tx) is closed:
// asked of the connection, not guessed from an error (a statement cancelled on the server,
// 57014, is unavailable but leaves the connection open).
func (d *Driver[T]) connClosed() bool {
	tx, ok := d.db.(pgx.Tx)
	return !ok || tx.Conn() == nil || tx.Conn().IsClosed()
}

// execStep runs one parameterless statement (simple protocol: it may hold several).
func (d *Driver[T]) execStep(ctx context.Context, sql string) error {
	cctx, cancel := d.callCtx(ctx)
	defer cancel()
	if _, err := d.db.Exec(cctx, sql, pgx.QueryExecModeSimpleProtocol); err != nil {
		return d.fail(ctx, err)
	}
	return nil
}
