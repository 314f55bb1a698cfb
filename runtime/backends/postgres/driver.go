package postgres

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/query"
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
}

var _ repo.Driver[struct{}] = (*Driver[struct{}])(nil)

// Option configures New and NewWithDB.
type Option func(*options)

type options struct {
	table      string
	noEnsure   bool
	script     string
	cmdTimeout time.Duration
	stmts      any // a Statements[T] (WithStatements)
}

// WithTable stores the records in the named table (optionally "schema.table") instead of
// the record's own table name (record.Desc.Table).
func WithTable(name string) Option { return func(o *options) { o.table = name } }

// WithoutSchemaCheck skips EnsureSchema when the repository is made: the table must exist
// and match (see EnsureSchema), or calls fail.
func WithoutSchemaCheck() Option { return func(o *options) { o.noEnsure = true } }

// WithSchemaScript makes the schema check create a missing table with this SQL script (a
// generated postgres_schema.sql, which also carries the schema's defaults) instead of
// pgdialect.SchemaSQL. Generated constructors pass it.
func WithSchemaScript(script string) Option { return func(o *options) { o.script = script } }

// WithCommandTimeout bounds the server's work of every statement (NewWithDB; New takes it
// from PostgresPoolConfig.CommandTimeout, and this option overrides it): a write, Get,
// Exists or Count as a whole, and for Find and Stream the Query call and each wait for the
// next row, never the time the caller's loop body takes. A statement ended by it fails with
// repo.ErrUnavailable wrapping ErrCommandTimeout; the pool is not reported broken.
func WithCommandTimeout(d time.Duration) Option { return func(o *options) { o.cmdTimeout = d } }

// New returns a driver for desc on the pool the manager holds for cfg (a
// pool.PostgresPoolConfig or a *pool.Prepared made from one): repositories on the same
// config share one *pgxpool.Pool. The driver holds a lease on the pool until Close. Unless
// WithoutSchemaCheck is given, it creates the table when missing and fails with a
// *DriftError when the live table does not match desc. A server that cannot be reached
// fails it with repo.ErrUnavailable.
func New[T any](ctx context.Context, m *pool.Manager, cfg pool.Config, desc *record.Desc[T], opts ...Option) (*Driver[T], error) {
	pc, err := pool.ConfigAs[pool.PostgresPoolConfig](cfg)
	if err != nil {
		return nil, err
	}
	lease, err := pool.Get(ctx, m, cfg, Hooks())
	if err != nil {
		if pool.Unreachable(ctx, err) {
			err = repo.E(repo.ErrUnavailable, err)
		}
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
	if !o.noEnsure {
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
}

func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(from + i))
	}
	return b.String()
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

// fail maps err (see mapErr) and reports connection failures to the pool manager. ctx is
// the caller's context: a context error while it is alive comes from the command timeout,
// which fails with repo.ErrUnavailable (wrapping ErrCommandTimeout) without reporting the
// pool broken — a slow statement is not a dead server. pgx discards the connection the
// statement ran on (its context watcher closes it), so the pool stays sound.
func (d *Driver[T]) fail(ctx context.Context, err error) error {
	if d.cmdTimeout > 0 && ctx.Err() == nil && isCtxErr(err) && !isConnectErr(err) {
		return commandTimeout(d.cmdTimeout)
	}
	err = mapErr(ctx, err)
	var e *repo.Error
	if errors.As(err, &e) {
		switch {
		case e.Kind == repo.ErrUnavailable && brokenConn(e.Err):
			d.lease.ReportBroken(e.Err)
		case e.Kind == nil && isMissingRelation(e.Err):
			e.Err = fmt.Errorf("%w: table %s is missing or lacks a column (create or migrate it; see EnsureSchema): %w", ErrSchemaDrift, d.table, e.Err)
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

// newVersion returns a fresh version: a random positive 63-bit number, so that a version
// is never predictable and practically never repeats, also across deletes.
func newVersion() int64 { return rand.Int64N(1<<63-1) + 1 }

// args returns the column values of rec (fields in order, then version).
func (d *Driver[T]) args(rec *T, version int64, dst []any) []any {
	for i := range d.desc.Fields {
		dst = append(dst, fieldValue(&d.desc.Fields[i], rec))
	}
	return append(dst, version)
}

// fieldValue returns the value of f in r for pgx, nil when missing (an empty list or empty
// bytes are missing too).
func fieldValue[T any](f *record.Field[T], r *T) any {
	if f.List {
		switch {
		case f.Strs != nil:
			if v := f.Strs(r); len(v) > 0 {
				return v
			}
		case f.Ints != nil:
			if v := f.Ints(r); len(v) > 0 {
				return v
			}
		case f.Floats != nil:
			if v := f.Floats(r); len(v) > 0 {
				return v
			}
		case f.Bools != nil:
			if v := f.Bools(r); len(v) > 0 {
				return v
			}
		case f.Times != nil:
			if v := f.Times(r); len(v) > 0 {
				return v
			}
		}
		return nil
	}
	switch {
	case f.Str != nil:
		if v, ok := f.Str(r); ok {
			return v
		}
	case f.Int != nil:
		if v, ok := f.Int(r); ok {
			return v
		}
	case f.Float != nil:
		if v, ok := f.Float(r); ok {
			return v
		}
	case f.Bool != nil:
		if v, ok := f.Bool(r); ok {
			return v
		}
	case f.Time != nil:
		if v, ok := f.Time(r); ok {
			return v
		}
	case f.Bytes != nil:
		if v, ok := f.Bytes(r); ok && len(v) > 0 {
			return v
		}
	}
	return nil
}

// Insert implements repo.Driver. One record is an INSERT ... ON CONFLICT DO NOTHING; a batch
// (of distinct ids, see repo.Driver) is sent with COPY in chunks of CopyChunk records. COPY
// fails as a whole on the server when some id or unique value is already taken (a unique
// value also by an earlier record of the same chunk), or when the server rejects a value;
// the chunk is then inserted again with INSERT ... ON CONFLICT DO NOTHING RETURNING (see
// insertValues), which gives every record its own result.
// On a transaction every batch step runs in a savepoint, so that a failed step leaves the
// caller's transaction usable.
func (d *Driver[T]) Insert(ctx context.Context, recs []T, res []repo.Result) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(recs) == 1 {
		if d.bound {
			return d.insertOneInSavepoint(ctx, &recs[0], &res[0])
		}
		return d.insertOne(ctx, d.db, &recs[0], &res[0])
	}
	for start := 0; start < len(recs); start += CopyChunk {
		end := min(start+CopyChunk, len(recs))
		var err error
		if end-start < copyMin {
			err = d.insertValues(ctx, recs[start:end], res[start:end])
		} else {
			err = d.insertCopy(ctx, recs[start:end], res[start:end])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// InsertOne implements repo.SingleInserter: Create runs one INSERT ... ON CONFLICT DO
// NOTHING, also on a transaction, where it takes no savepoint (unlike a batch of one
// record): a value the server rejects aborts the transaction, as a hand-written INSERT
// does, and a loop of Creates does not open a subtransaction per record.
func (d *Driver[T]) InsertOne(ctx context.Context, rec *T, res *repo.Result) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.insertOne(ctx, d.db, rec, res)
}

// CopyChunk is the number of records one COPY of CreateBatch sends.
const CopyChunk = 10000

// copyMin is the smallest batch sent with COPY; smaller ones take one INSERT round trip.
const copyMin = 16

func (d *Driver[T]) insertOne(ctx context.Context, db DB, rec *T, res *repo.Result) error {
	res.ID = d.desc.GetID(rec)
	v := newVersion()
	var buf [32]any
	cctx, cancel := d.callCtx(ctx)
	defer cancel()
	var n int64
	var err error
	if d.stmts != nil {
		n, err = d.stmts.Insert(cctx, db, rec, v)
	} else {
		n, err = exec(cctx, db, d.insertSQL, d.args(rec, v, buf[:0])...)
	}
	if err != nil {
		res.Err = d.fail(ctx, err)
		if repo.KindOf(res.Err) == repo.ErrAlreadyExists || repo.KindOf(res.Err) == repo.ErrInvalidInput {
			return nil
		}
		return res.Err
	}
	if n == 0 {
		res.Err = repo.E(repo.ErrAlreadyExists, nil)
		return nil
	}
	res.Version = strconv.FormatInt(v, 10)
	return nil
}

// insertOneInSavepoint is insertOne as a batch step on a transaction: in a savepoint, rolled
// back when the record is rejected, so that a value the server rejects does not abort the
// caller's transaction (a CreateBatch of one record keeps the promise of WithTx). The
// statements are sent one after the other (not pipelined: pgx closes the connection when it
// cannot encode an argument of a pipelined statement, which would end the transaction).
func (d *Driver[T]) insertOneInSavepoint(ctx context.Context, rec *T, res *repo.Result) error {
	var callErr error
	err := d.inSavepoint(ctx, func() error {
		callErr = d.insertOne(ctx, d.db, rec, res)
		if callErr != nil {
			return callErr
		}
		return res.Err // the record's own error (or nil): roll back to the savepoint
	})
	if callErr == nil && err != nil && err == res.Err {
		return nil // the record was rejected, reported in res, and the savepoint rolled back
	}
	return err
}

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

// insertCopy sends the chunk with COPY (in a savepoint on a transaction). When the server
// rejects the COPY for a taken id or unique value, or for a value it does not accept, it
// falls back to insertValues, which reports each record.
func (d *Driver[T]) insertCopy(ctx context.Context, recs []T, res []repo.Result) error {
	versions := make([]int64, len(recs))
	row := make([]any, 0, len(d.cols))
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(recs) {
			return nil, nil
		}
		versions[i] = newVersion()
		row = d.args(&recs[i], versions[i], row[:0])
		i++
		return row, nil
	})
	err := d.inSavepoint(ctx, func() error {
		cctx, cancel := d.callCtx(ctx)
		defer cancel()
		if _, err := d.db.CopyFrom(cctx, d.ident, d.cols, src); err != nil {
			return d.fail(ctx, err)
		}
		return nil
	})
	if err != nil {
		if k := repo.KindOf(err); k == repo.ErrAlreadyExists || k == repo.ErrInvalidInput {
			return d.insertValues(ctx, recs, res)
		}
		return err
	}
	for j := range res {
		res[j].ID = d.desc.GetID(&recs[j])
		res[j].Version = strconv.FormatInt(versions[j], 10)
	}
	return nil
}

// maxParams is PostgreSQL's limit on the parameters of one statement.
const maxParams = 65535

// insertValues inserts the chunk with multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING
// id (see insertRows).
func (d *Driver[T]) insertValues(ctx context.Context, recs []T, res []repo.Result) error {
	todo := make([]int, len(recs))
	for i := range recs {
		res[i].ID = d.desc.GetID(&recs[i])
		todo[i] = i
	}
	per := maxParams / len(d.cols)
	for start := 0; start < len(todo); start += per {
		if err := d.insertRows(ctx, recs, res, todo[start:min(start+per, len(todo))]); err != nil {
			return err
		}
	}
	return nil
}

// insertRows inserts the records at the indexes in part (distinct ids, at most maxParams
// values) with one INSERT ... ON CONFLICT DO NOTHING RETURNING id, in a savepoint on a
// transaction: the ids returned were stored, the others were taken (ErrAlreadyExists). A
// value the server rejects fails the statement, which then stored nothing: the part is
// split in halves and each inserted again, down to the records whose values the server
// rejects, which get its error (ErrInvalidInput). k bad records in n cost O(k log n)
// statements.
func (d *Driver[T]) insertRows(ctx context.Context, recs []T, res []repo.Result, part []int) error {
	ncol := len(d.cols)
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", d.ident.Sanitize(), d.allCols)
	args := make([]any, 0, len(part)*ncol)
	versions := make(map[string]int64, len(part))
	for j, i := range part {
		if j > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		b.WriteString(placeholders(len(args)+1, ncol))
		b.WriteByte(')')
		v := newVersion()
		versions[res[i].ID] = v
		args = d.args(&recs[i], v, args)
	}
	fmt.Fprintf(&b, " ON CONFLICT DO NOTHING RETURNING %s", pgdialect.Quote(d.cols[0]))
	var stored map[string]bool
	err := d.inSavepoint(ctx, func() error {
		var err error
		stored, err = d.returningIDs(ctx, b.String(), args)
		return err
	})
	if err != nil {
		if repo.KindOf(err) != repo.ErrInvalidInput {
			return err
		}
		if len(part) == 1 {
			res[part[0]].Err = err
			return nil
		}
		h := len(part) / 2
		if err := d.insertRows(ctx, recs, res, part[:h]); err != nil {
			return err
		}
		return d.insertRows(ctx, recs, res, part[h:])
	}
	for _, i := range part {
		if stored[res[i].ID] {
			res[i].Version = strconv.FormatInt(versions[res[i].ID], 10)
		} else {
			res[i].Err = repo.E(repo.ErrAlreadyExists, nil)
		}
	}
	return nil
}

func (d *Driver[T]) returningIDs(ctx context.Context, sql string, args []any) (map[string]bool, error) {
	cctx, cancel := d.callCtx(ctx)
	defer cancel()
	rows, err := d.db.Query(cctx, sql, args...)
	if err != nil {
		return nil, d.fail(ctx, err)
	}
	defer rows.Close()
	stored := map[string]bool{}
	var id string
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			return nil, d.fail(ctx, err)
		}
		stored[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail(ctx, err)
	}
	return stored, nil
}

// scanner holds the scan targets of one row shape.
type scanner[T any] struct {
	desc    *record.Desc[T]
	fields  []int // descriptor indexes of the selected fields (the id first)
	times   []int // the time fields among them
	rec     T
	version int64
	targets []any
}

func newScanner[T any](desc *record.Desc[T], fields []int) *scanner[T] {
	s := &scanner[T]{desc: desc, fields: fields, targets: make([]any, 0, len(fields)+1)}
	for _, i := range fields {
		s.targets = append(s.targets, desc.Addr(&s.rec, i))
		if desc.Fields[i].Kind == query.KindTime {
			s.times = append(s.times, i)
		}
	}
	s.targets = append(s.targets, &s.version)
	return s
}

// scan reads one row into a new record.
func (s *scanner[T]) scan(row pgx.Row) (T, error) {
	var zero T
	s.rec = zero
	if err := row.Scan(s.targets...); err != nil {
		return zero, err
	}
	for _, i := range s.times {
		switch p := s.desc.Addr(&s.rec, i).(type) {
		case *time.Time:
			*p = p.UTC()
		case **time.Time:
			if *p != nil {
				**p = (*p).UTC()
			}
		case *[]time.Time:
			for j := range *p {
				(*p)[j] = (*p)[j].UTC()
			}
		}
	}
	s.desc.SetVersion(&s.rec, strconv.FormatInt(s.version, 10))
	return s.rec, nil
}

func (d *Driver[T]) allFields() []int {
	out := make([]int, len(d.desc.Fields))
	for i := range out {
		out[i] = i
	}
	return out
}

// exec runs a statement on db and returns the number of rows it changed.
func exec(ctx context.Context, db DB, sql string, args ...any) (int64, error) {
	tag, err := db.Exec(ctx, sql, args...)
	return tag.RowsAffected(), err
}

// Get implements repo.Driver.
func (d *Driver[T]) Get(ctx context.Context, id string) (T, error) {
	cctx, cancel := d.callCtx(ctx)
	defer cancel()
	if d.stmts != nil {
		rec, v, err := d.stmts.Get(cctx, d.db, id)
		if err != nil {
			return rec, d.fail(ctx, err)
		}
		d.desc.SetVersion(&rec, strconv.FormatInt(v, 10))
		return rec, nil
	}
	rec, err := newScanner(d.desc, d.allFields()).scan(d.db.QueryRow(cctx, d.getSQL, id))
	if err != nil {
		return rec, d.fail(ctx, err)
	}
	return rec, nil
}

func (d *Driver[T]) writeArgs(rec *T, v int64) []any {
	args := make([]any, 0, len(d.cols)+1)
	return d.args(rec, v, args)
}

// Update implements repo.Driver: one UPDATE ... WHERE id = $1 [AND version = $n]; when it
// changes no row, an existence check tells ErrNotFound from ErrVersionConflict.
func (d *Driver[T]) Update(ctx context.Context, rec *T, ifVersion string) error {
	v := newVersion()
	var want int64
	if ifVersion != "" {
		var err error
		if want, err = strconv.ParseInt(ifVersion, 10, 64); err != nil {
			return d.missingOr(ctx, d.desc.GetID(rec), repo.E(repo.ErrVersionConflict, fmt.Errorf("version %q is not one this backend issued", ifVersion)))
		}
	}
	cctx, cancel := d.callCtx(ctx)
	defer cancel()
	var n int64
	var err error
	switch {
	case d.stmts != nil && ifVersion != "":
		n, err = d.stmts.UpdateIfVersion(cctx, d.db, rec, v, want)
	case d.stmts != nil:
		n, err = d.stmts.Update(cctx, d.db, rec, v)
	case ifVersion != "":
		n, err = exec(cctx, d.db, d.updateIfSQL, append(d.writeArgs(rec, v), want)...)
	default:
		n, err = exec(cctx, d.db, d.updateSQL, d.writeArgs(rec, v)...)
	}
	if err != nil {
		return d.fail(ctx, err)
	}
	if n == 0 {
		if ifVersion == "" {
			return repo.E(repo.ErrNotFound, nil)
		}
		return d.missingOr(ctx, d.desc.GetID(rec), repo.E(repo.ErrVersionConflict, fmt.Errorf("stored version differs from %q", ifVersion)))
	}
	d.desc.SetVersion(rec, strconv.FormatInt(v, 10))
	return nil
}

// missingOr returns ErrNotFound when there is no record with the id, else err.
func (d *Driver[T]) missingOr(ctx context.Context, id string, err error) error {
	ok, xerr := d.Exists(ctx, id)
	if xerr != nil {
		return xerr
	}
	if !ok {
		return repo.E(repo.ErrNotFound, nil)
	}
	return err
}

// Upsert implements repo.Driver with INSERT ... ON CONFLICT (id) DO UPDATE.
func (d *Driver[T]) Upsert(ctx context.Context, rec *T) error {
	v := newVersion()
	cctx, cancel := d.callCtx(ctx)
	defer cancel()
	var err error
	if d.stmts != nil {
		err = d.stmts.Upsert(cctx, d.db, rec, v)
	} else {
		_, err = d.db.Exec(cctx, d.upsertSQL, d.writeArgs(rec, v)...)
	}
	if err != nil {
		return d.fail(ctx, err)
	}
	d.desc.SetVersion(rec, strconv.FormatInt(v, 10))
	return nil
}

// Delete implements repo.Driver.
func (d *Driver[T]) Delete(ctx context.Context, id, ifVersion string) error {
	var want int64
	if ifVersion != "" {
		var err error
		if want, err = strconv.ParseInt(ifVersion, 10, 64); err != nil {
			return d.missingOr(ctx, id, repo.E(repo.ErrVersionConflict, fmt.Errorf("version %q is not one this backend issued", ifVersion)))
		}
	}
	cctx, cancel := d.callCtx(ctx)
	defer cancel()
	var n int64
	var err error
	switch {
	case d.stmts != nil && ifVersion != "":
		n, err = d.stmts.DeleteIfVersion(cctx, d.db, id, want)
	case d.stmts != nil:
		n, err = d.stmts.Delete(cctx, d.db, id)
	case ifVersion != "":
		n, err = exec(cctx, d.db, d.deleteIfSQL, id, want)
	default:
		n, err = exec(cctx, d.db, d.deleteSQL, id)
	}
	if err != nil {
		return d.fail(ctx, err)
	}
	if n == 0 {
		if ifVersion == "" {
			return repo.E(repo.ErrNotFound, nil)
		}
		return d.missingOr(ctx, id, repo.E(repo.ErrVersionConflict, fmt.Errorf("stored version differs from %q", ifVersion)))
	}
	return nil
}

// Exists implements repo.Driver.
func (d *Driver[T]) Exists(ctx context.Context, id string) (bool, error) {
	cctx, cancel := d.callCtx(ctx)
	defer cancel()
	var ok bool
	var err error
	if d.stmts != nil {
		ok, err = d.stmts.Exists(cctx, d.db, id)
	} else {
		err = d.db.QueryRow(cctx, d.existsSQL, id).Scan(&ok)
	}
	if err != nil {
		return false, d.fail(ctx, err)
	}
	return ok, nil
}

// SelectSQL returns the statement and arguments Query runs for spec, and the descriptor
// indexes of the fields it selects (the id first); the version column comes last.
func (d *Driver[T]) SelectSQL(spec *query.Spec) (string, []any, []int, error) {
	fields := d.allFields()
	cols := d.allCols
	if spec.Fields != nil {
		fields = []int{0}
		var b strings.Builder
		b.WriteString(pgdialect.Quote(d.desc.ID().Column))
		for _, name := range spec.Fields {
			i, ok := d.desc.Field(name)
			if !ok {
				return "", nil, nil, fmt.Errorf("%w: record %s has no field %q", query.ErrBadQuery, d.desc.Name, name)
			}
			if i == 0 || containsInt(fields, i) {
				continue
			}
			fields = append(fields, i)
			b.WriteString(", ")
			b.WriteString(pgdialect.Quote(d.desc.Fields[i].Column))
		}
		b.WriteString(", ")
		b.WriteString(pgdialect.Quote(pgdialect.VersionColumn))
		cols = b.String()
	}
	c := compiler[T]{desc: d.desc}
	c.b.WriteString("SELECT ")
	c.b.WriteString(cols)
	c.b.WriteString(" FROM ")
	c.b.WriteString(d.ident.Sanitize())
	if !spec.Filter.IsAll() {
		c.b.WriteString(" WHERE ")
		if err := c.expr(spec.Filter); err != nil {
			return "", nil, nil, err
		}
	}
	ob, err := orderBy(d.desc, spec.Sort)
	if err != nil {
		return "", nil, nil, err
	}
	c.b.WriteString(ob)
	if spec.Limit > 0 {
		fmt.Fprintf(&c.b, " LIMIT %d", spec.Limit)
	}
	if spec.Offset > 0 {
		fmt.Fprintf(&c.b, " OFFSET %d", spec.Offset)
	}
	return c.b.String(), c.args, fields, nil
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// drainLimit is the largest LIMIT for which breaking off a stream reads the rest of the
// result to keep the connection; above it (and without a limit) the statement is cancelled
// and the connection discarded, so that breaking off never reads a large result. Only on a
// pool: on a connection or transaction the caller owns, the rest is always read.
const drainLimit = 1000

// Query implements repo.Driver. The rows are read one at a time from the server as the
// loop asks for them (nothing is loaded in advance beyond pgx's read buffer), and breaking
// the loop releases the connection. The command timeout bounds the Query call and each wait
// inside rows.Next, not the loop body (see watchdog).
func (d *Driver[T]) Query(ctx context.Context, spec *query.Spec) iter.Seq2[T, error] {
	sql, args, fields, err := d.SelectSQL(spec)
	limit := spec.Limit
	return func(yield func(T, error) bool) {
		var zero T
		if err != nil {
			yield(zero, repo.E(repo.ErrInvalidInput, err))
			return
		}
		qctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		wd := newWatchdog(d.cmdTimeout, cancel)
		defer wd.stop()
		fail := func(err error) error {
			if wd.fired() && ctx.Err() == nil {
				return commandTimeout(d.cmdTimeout)
			}
			return d.fail(ctx, err)
		}
		wd.begin()
		rows, err := d.db.Query(qctx, sql, args...)
		wd.end()
		if err != nil {
			yield(zero, fail(err))
			return
		}
		// stopEarly closes rows that are not read to the end (the loop was broken off, or the
		// loop body panicked): on a pool the statement is cancelled first unless the rest is
		// small, so that closing does not drain a large result; the connection goes back to
		// the pool either way.
		stopEarly := func() {
			if (limit == 0 || limit > drainLimit) && d.pooled {
				cancel(context.Canceled)
			}
			wd.begin()
			rows.Close()
			wd.end()
		}
		closed := false
		defer func() {
			if !closed { // the loop body panicked
				stopEarly()
			}
		}()
		s := newScanner(d.desc, fields)
		for {
			wd.begin()
			more := rows.Next()
			wd.end()
			if !more {
				break
			}
			if err := ctx.Err(); err != nil {
				// pgx may have the rows buffered already: stop at the caller's context.
				closed = true
				cancel(err)
				rows.Close()
				yield(zero, err)
				return
			}
			rec, err := s.scan(rows)
			if err != nil {
				closed = true
				rows.Close()
				yield(zero, fail(err))
				return
			}
			if !yield(rec, nil) {
				closed = true
				stopEarly()
				return
			}
		}
		closed = true
		wd.begin()
		rows.Close()
		wd.end()
		if err := rows.Err(); err != nil {
			yield(zero, fail(err))
		}
	}
}

// watchTicks is the number of watchdog periods a wait may last: the watchdog ticks every
// 1/watchTicks of the command timeout.
const watchTicks = 4

// watchdog ends a streamed statement (cancels its context) when one wait for the server —
// the Query call, one rows.Next, the final rows.Close — lasts longer than the command
// timeout; the time between waits, the caller's loop body, does not count. A wait costs two
// atomic additions (no timer is armed per row): a timer ticking every quarter of the timeout
// checks whether the same wait is still in progress, so a wait is ended after between 1 and
// 1.25 times the timeout. A nil *watchdog (no command timeout) does nothing.
type watchdog struct {
	seq    atomic.Uint64 // odd while a wait is in progress: +1 when one starts and when it ends
	hit    atomic.Bool   // the watchdog cancelled the statement
	cancel context.CancelCauseFunc
	period time.Duration

	mu    sync.Mutex // serializes tick and stop
	done  bool
	last  uint64 // seq at the previous tick
	ticks int    // consecutive ticks that saw the wait last still in progress
	t     *time.Timer
}

func newWatchdog(timeout time.Duration, cancel context.CancelCauseFunc) *watchdog {
	if timeout <= 0 {
		return nil
	}
	w := &watchdog{cancel: cancel, period: max(timeout/watchTicks, time.Millisecond)}
	w.mu.Lock()
	w.t = time.AfterFunc(w.period, w.tick)
	w.mu.Unlock()
	return w
}

func (w *watchdog) begin() {
	if w != nil {
		w.seq.Add(1)
	}
}

func (w *watchdog) end() {
	if w != nil {
		w.seq.Add(1)
	}
}

func (w *watchdog) fired() bool { return w != nil && w.hit.Load() }

func (w *watchdog) tick() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	if s := w.seq.Load(); s%2 == 1 && s == w.last {
		// The wait seen at the previous tick is still in progress: it began less than one
		// period before the first tick that saw it.
		if w.ticks++; w.ticks >= watchTicks {
			w.hit.Store(true)
			w.cancel(ErrCommandTimeout)
			return
		}
	} else {
		w.last, w.ticks = s, 0
	}
	w.t.Reset(w.period)
}

func (w *watchdog) stop() {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.done = true
	w.t.Stop()
	w.mu.Unlock()
}

// Count implements repo.Driver.
func (d *Driver[T]) Count(ctx context.Context, filter query.Expr) (int64, error) {
	c := compiler[T]{desc: d.desc}
	c.b.WriteString(d.countSQL)
	if !filter.IsAll() {
		c.b.WriteString(" WHERE ")
		if err := c.expr(filter); err != nil {
			return 0, repo.E(repo.ErrInvalidInput, err)
		}
	}
	cctx, cancel := d.callCtx(ctx)
	defer cancel()
	var n int64
	if err := d.db.QueryRow(cctx, c.b.String(), c.args...).Scan(&n); err != nil {
		return 0, d.fail(ctx, err)
	}
	return n, nil
}

// Close implements repo.Driver: it releases the pool lease (a driver bound to a transaction
// holds none).
func (d *Driver[T]) Close() error {
	d.lease.Release()
	return nil
}

// errNotPostgres is returned by WithTx and DBOf for a repository of another backend.
var errNotPostgres = errors.New("postgres: the repository is not a PostgreSQL repository")
