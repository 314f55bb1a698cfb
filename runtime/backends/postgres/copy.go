package postgres

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// COPY after a column type changed under a running process. pgx encodes COPY rows in
// binary for the column types it looked up the first time a connection ran a COPY into the
// table, and keeps them in the connection's statement cache: after a migration widens a
// column (int to float, ALTER COLUMN ... TYPE), a connection that copied before would send
// an 8-byte integer where the server now reads an 8-byte float, and 15 would be stored as
// 7.4e-323 without an error. So every COPY first asks the server for the columns' types
// (one unnamed Describe on the same connection, a round trip per COPY chunk) and compares
// them with the types of the last COPY of those columns into the table on that connection
// (copyTypes): when they differ, or the connection has no record of such a COPY (another
// user of the pool may have copied into the table with pgx before), the connection's cached
// statements and descriptions are dropped (DeallocateAll) so that pgx looks the types up
// again and encodes for the column as it is now (int64 values into a float8 column are
// exact up to 2^53, as the migration's USING cast is); the types are recorded once that
// succeeded. They are kept per connection, since each has its own cache: a connection drops
// its cache at its first COPY of the columns and once per change after that, not at every
// COPY.

// copyTypesKey starts the key of a connection's CustomData under which it keeps the
// column type OIDs of its last COPY of some columns into a table; the key goes on with the
// SQL that describes those columns (Driver.copyDescSQL).
const copyTypesKey = "repokit/postgres: COPY column types of "

// copyTypes returns whether oids, the column types of a COPY on conn described by
// descSQL, are those of the connection's last such COPY (false when it has no record of
// one, or no CustomData to keep it in), and the function that records them.
func copyTypes(conn *pgconn.PgConn, descSQL string, oids []uint32) (same bool, record func()) {
	m := conn.CustomData()
	if m == nil {
		return false, func() {}
	}
	key := copyTypesKey + descSQL
	last, seen := m[key].([]uint32)
	return seen && slices.Equal(last, oids), func() { m[key] = oids }
}

// copyFrom runs COPY of src into the driver's table on one connection of d.db (see
// copyTypes), returning pgx's errors. The COPY runs in a transaction (the caller's, or one
// of its own) that first takes the lock COPY takes anyway (ROW EXCLUSIVE), so that an ALTER
// COLUMN ... TYPE (ACCESS EXCLUSIVE) cannot commit between the Describe and the COPY: the
// types the rows are encoded for are the types the server reads them as. (Without it,
// TestMigrateDay2 once stored a COPY batch's 1002 as 4.95e-321.)
func (d *Driver[T]) copyFrom(ctx context.Context, src pgx.CopyFromSource) error {
	switch db := d.db.(type) {
	case *pgxpool.Pool:
		pc, err := db.Acquire(ctx)
		if err != nil {
			return err
		}
		defer pc.Release()
		return pgx.BeginFunc(ctx, pc.Conn(), func(tx pgx.Tx) error { return d.copyLocked(ctx, tx, src) })
	case *pgx.Conn:
		return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error { return d.copyLocked(ctx, tx, src) })
	case pgx.Tx:
		return d.copyLocked(ctx, db, src)
	default: // another DB: no connection to ask
		_, err := d.db.CopyFrom(ctx, d.ident, d.cols, src)
		return err
	}
}

// copyLocked is copyFrom in transaction tx.
func (d *Driver[T]) copyLocked(ctx context.Context, tx pgx.Tx, src pgx.CopyFromSource) error {
	if _, err := tx.Exec(ctx, "LOCK TABLE "+d.ident.Sanitize()+" IN ROW EXCLUSIVE MODE"); err != nil {
		return err
	}
	conn := tx.Conn()
	sd, err := conn.PgConn().Prepare(ctx, "", d.copyDescSQL, nil)
	if err != nil {
		return err
	}
	oids := make([]uint32, len(sd.Fields))
	for i, f := range sd.Fields {
		oids[i] = f.DataTypeOID
	}
	if same, record := copyTypes(conn.PgConn(), d.copyDescSQL, oids); !same {
		if d.onCopyDeallocate != nil {
			d.onCopyDeallocate()
		}
		if err := conn.DeallocateAll(ctx); err != nil {
			return err
		}
		record()
	}
	_, err = tx.CopyFrom(ctx, d.ident, d.cols, src)
	return err
}
