package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// DB is what a Driver runs its statements on: a *pgxpool.Pool, a pgx.Tx or a *pgx.Conn.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Driver stores records of type T in one PostgreSQL table with a typed column per field and
// a version column. It implements repo.Driver and is safe for concurrent use (when its DB
// is a pool; a driver bound to a transaction is as safe as the transaction).
type Driver[T any] struct {
	desc       *record.Desc[T]
	db         DB
	lease      pool.Lease[*pgxpool.Pool] // zero unless the pool came from a pool.Manager
	table      string
	ident      pgx.Identifier
	cmdTimeout time.Duration
	bound      bool          // db is a transaction (WithTx, or NewWithDB on a pgx.Tx): batch steps run in savepoints
	pooled     bool          // db is a *pgxpool.Pool: a connection may be discarded (a stream broken off is cancelled)
	stmts      Statements[T] // generated static statements (WithStatements); nil: the SQL below
	uq         *uniqueInfo   // nil when the record has no unique field
	rs         *replicaSet   // the standbys reads may go to (New on a config with Replicas); nil otherwise

	cols        []string // unquoted column names: fields in order, then the version column
	allCols     string   // quoted, comma-separated, fields then version
	getSQL      string
	insertSQL   string // one row, ON CONFLICT DO NOTHING
	upsertSQL   string
	updateSQL   string // $1 id, then fields 1.., then the new version
	updateIfSQL string // updateSQL AND version = $n+1
	deleteSQL   string
	deleteIfSQL string // deleteSQL AND version = $2
	existsSQL   string
	countSQL    string
	copyDescSQL string // SELECT of the COPY columns, described before each COPY (copy.go)

	onCopyDeallocate func() // called before a COPY drops its connection's statements; tests only
}

var _ repo.Driver[struct{}] = (*Driver[struct{}])(nil)

// New returns a driver for desc on the pool the manager holds for cfg (a
// pool.PostgresPoolConfig or a *pool.Prepared made from one): repositories on the same
// config share one *pgxpool.Pool. The driver holds a lease on the pool until Close. Unless
// WithoutSchemaCheck is given, it creates the table when missing and fails with a
// *DriftError when the live table does not match desc. A server that cannot be reached
// fails it with repo.ErrUnavailable. With cfg's Replicas, reads outside a transaction go to
// a standby (see UsePrimary and docs/postgres.md, "Read replicas"); a standby that is down
// does not fail New.
func New[T any](ctx context.Context, m *pool.Manager, cfg pool.Config, desc *record.Desc[T], opts ...Option) (*Driver[T], error) {
	pc, err := pool.ConfigAs[pool.PostgresPoolConfig](cfg)
	if err != nil {
		return nil, err
	}
	lease, err := getPool(ctx, m, cfg)
	if err != nil {
		return nil, err
	}
	o := options{cmdTimeout: pc.CommandTimeout}
	for _, f := range opts {
		f(&o)
	}
	d, err := newDriver(ctx, lease.Pool(), desc, o)
	if err != nil {
		if repo.KindOf(err) == repo.ErrUnavailable {
			lease.ReportBroken(err)
		}
		lease.Release()
		return nil, err
	}
	d.lease = lease
	if len(pc.Replicas) > 0 {
		d.rs = newReplicaSet(m, pc, lease.Pool())
	}
	return d, nil
}

// NewWithDB returns a driver for desc on a pool, connection or transaction the caller owns
// (Close does not close it). On a pgx.Tx it behaves like a repository bound with WithTx
// (batch steps run in savepoints). A *pgx.Conn runs one statement at a time: do not call
// the driver from inside the loop of one of its streams.
func NewWithDB[T any](ctx context.Context, db DB, desc *record.Desc[T], opts ...Option) (*Driver[T], error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return newDriver(ctx, db, desc, o)
}

func newDriver[T any](ctx context.Context, db DB, desc *record.Desc[T], o options) (*Driver[T], error) {
	if err := checkColumns(desc); err != nil {
		return nil, err
	}
	table := o.table
	if table == "" {
		table = desc.Table
	}
	if table == "" {
		return nil, fmt.Errorf("postgres: record %s has no table name", desc.Name)
	}
	d := &Driver[T]{desc: desc, db: db, table: table, cmdTimeout: o.cmdTimeout}
	switch db.(type) {
	case *pgxpool.Pool:
		d.pooled = true
	case pgx.Tx:
		d.bound = true
	}
	if s, t, ok := strings.Cut(table, "."); ok {
		d.ident = pgx.Identifier{s, t}
	} else {
		d.ident = pgx.Identifier{table}
	}
	d.prepareSQL()
	if err := checkEncoding(ctx, db); err != nil {
		return nil, err
	}
	if o.stmts != nil && table == desc.Table {
		s, ok := o.stmts.(Statements[T])
		if !ok {
			return nil, fmt.Errorf("postgres: WithStatements: %T does not run the statements of record %s", o.stmts, desc.Name)
		}
		d.stmts = s
	}
	if o.mig != nil {
		if err := checkApplied(ctx, db, o.mig, desc.Name, table); err != nil {
			return nil, err
		}
	} else if !o.noEnsure {
		var err error
		if o.script != "" && table == desc.Table {
			err = EnsureSchemaSQL(ctx, db, desc, table, o.script)
		} else {
			err = EnsureSchema(ctx, db, desc, table)
		}
		if err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (d *Driver[T]) prepareSQL() {
	n := len(d.desc.Fields)
	d.cols = make([]string, 0, n+1)
	quoted := make([]string, 0, n+1)
	for i := range d.desc.Fields {
		d.cols = append(d.cols, d.desc.Fields[i].Column)
		quoted = append(quoted, pgdialect.Quote(d.desc.Fields[i].Column))
	}
	quoted = append(quoted, pgdialect.Quote(pgdialect.VersionColumn))
	d.allCols = strings.Join(quoted, ", ")
	d.copyDescSQL = "SELECT " + d.allCols + " FROM " + d.ident.Sanitize() + " LIMIT 0"
	for _, st := range pgdialect.StaticSQL(d.table, d.cols, nil) {
		switch st.Name {
		case pgdialect.StmtGet:
			d.getSQL = st.SQL
		case pgdialect.StmtInsert:
			d.insertSQL = st.SQL
		case pgdialect.StmtUpsert:
			d.upsertSQL = st.SQL
		case pgdialect.StmtUpdate:
			d.updateSQL = st.SQL
		case pgdialect.StmtUpdateIfVersion:
			d.updateIfSQL = st.SQL
		case pgdialect.StmtDelete:
			d.deleteSQL = st.SQL
		case pgdialect.StmtDeleteIfVersion:
			d.deleteIfSQL = st.SQL
		case pgdialect.StmtExists:
			d.existsSQL = st.SQL
		}
	}
	d.cols = append(d.cols, pgdialect.VersionColumn)
	d.countSQL = "SELECT count(*) FROM " + d.ident.Sanitize()
	d.prepareUnique()
}

// Table returns the table name.
func (d *Driver[T]) Table() string { return d.table }

// DB returns what the driver runs its statements on (the shared pool, or the transaction
// of a bound driver).
func (d *Driver[T]) DB() DB { return d.db }

// Begin starts a transaction (a savepoint on a bound driver); it makes a Driver a Beginner
// for InTx.
func (d *Driver[T]) Begin(ctx context.Context) (pgx.Tx, error) { return d.db.Begin(ctx) }

// callCtx applies the command timeout to one statement that no caller's code runs inside
// (a write, Get, Exists, Count, a batch step): the timeout bounds it as a whole, including
// the wait for a pool connection.
func (d *Driver[T]) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if d.cmdTimeout > 0 {
		return context.WithTimeoutCause(ctx, d.cmdTimeout, ErrCommandTimeout)
	}
	return ctx, func() {}
}

// fail maps err (see mapErr), names the field of a unique violation (repo.UniqueTaken, see
// takenField) and reports connection failures to the pool manager. ctx is
// the caller's context: a context error while it is alive comes from the command timeout,
// which fails with repo.ErrUnavailable (wrapping ErrCommandTimeout) without reporting the
// pool broken — a slow statement is not a dead server. pgx discards the connection the
// statement ran on (its context watcher closes it), so the pool stays sound.
func (d *Driver[T]) fail(ctx context.Context, err error) error {
	return d.failOn(ctx, err, d.lease)
}

// failOn is fail reporting connection failures on lease (the pool the statement ran on).
func (d *Driver[T]) failOn(ctx context.Context, err error, lease pool.Lease[*pgxpool.Pool]) error {
	if d.cmdTimeout > 0 && ctx.Err() == nil && isCtxErr(err) && !isConnectErr(err) {
		return commandTimeout(d.cmdTimeout)
	}
	err = mapErr(ctx, err)
	var e *repo.Error
	if errors.As(err, &e) {
		switch {
		case e.Kind == repo.ErrUnavailable && brokenConn(e.Err):
			lease.ReportBroken(e.Err)
		case e.Kind == nil && isMissingRelation(e.Err):
			e.Err = fmt.Errorf("%w: table %s is missing or lacks a column (create or migrate it; see EnsureSchema): %w", ErrSchemaDrift, d.table, e.Err)
		case e.Kind == repo.ErrAlreadyExists:
			if field, ok := d.takenField(e.Err); ok {
				return repo.UniqueTaken(field, e.Err)
			}
		}
	}
	return err
}

// isMissingRelation reports an undefined table (42P01) or column (42703): the table does not
// exist or does not match the schema (a repository made WithoutSchemaCheck, or a table
// dropped or altered since).
func isMissingRelation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "42703")
}

// Close implements repo.Driver: it releases the pool lease and the standbys' (a driver bound
// to a transaction holds none).
func (d *Driver[T]) Close() error {
	d.rs.close()
	d.lease.Release()
	return nil
}

// errNotPostgres is returned by WithTx and DBOf for a repository of another backend.
var errNotPostgres = errors.New("postgres: the repository is not a PostgreSQL repository")
