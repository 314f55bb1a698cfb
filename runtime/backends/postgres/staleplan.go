package postgres

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// stalePlan reports the error of a statement that a connection prepared (pgx's statement
// cache) before a column it returns changed type, e.g. by a migration's ALTER COLUMN ...
// TYPE while this code runs: "cached plan must not change result type" (SQLSTATE 0A000).
// pgx drops the statement from that connection's cache on the error, so running the read
// again prepares it anew; nothing was read.
func stalePlan(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "0A000" && strings.Contains(pe.Message, "cached plan must not change result type")
}

// stalePlanRetries is how many times a read outside a transaction runs again after
// stalePlan errors: each error fixes the connection it came from, and a pool hands out each
// of its connections at most once before one of them is fixed twice.
func (d *Driver[T]) stalePlanRetries() int {
	if p, ok := d.db.(*pgxpool.Pool); ok && !d.bound {
		return int(p.Stat().MaxConns()) + 1
	}
	return 0 // a transaction is aborted by the error; a single connection is fixed by it, but the caller's statement order is its own
}
