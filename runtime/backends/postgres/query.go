package postgres

import (
	"context"
	"fmt"
	"iter"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

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
	if err := c.orderBy(spec); err != nil {
		return "", nil, nil, err
	}
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
	if err != nil {
		return repo.ErrorSeq[T](repo.E(repo.ErrInvalidInput, err))
	}
	limit := spec.Limit
	return func(yield func(T, error) bool) {
		var zero T
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
		if r := d.route(ctx); r != nil {
			if conn := d.rs.acquire(ctx, r); conn != nil {
				wd.begin()
				rows, err := conn.Query(qctx, sql, args...)
				wd.end()
				if err == nil {
					err = d.readRows(ctx, rows, true, limit, fields, cancel, wd, r, yield)
				}
				conn.Release()
				if err == nil {
					return
				}
				if wd.fired() || !d.rs.retryOnPrimary(ctx, r, err) {
					// A statement the watchdog ended is not tried again: its context is gone.
					if !wd.fired() {
						err = d.failOn(ctx, err, r.currentLease())
					}
					yield(zero, fail(err))
					return
				}
			}
		}
		for attempt := 0; ; attempt++ {
			wd.begin()
			rows, err := d.db.Query(qctx, sql, args...)
			wd.end()
			if err == nil {
				if err = d.readRows(ctx, rows, d.pooled, limit, fields, cancel, wd, nil, yield); err == nil {
					return
				}
			}
			if !stalePlan(err) || attempt >= d.stalePlanRetries() || ctx.Err() != nil || wd.fired() {
				yield(zero, fail(err))
				return
			}
		}
	}
}

// replicaHoldRows is how many rows a read on a standby holds back before yielding the first:
// a result that ends (or fails) within them is retried whole on the primary when the standby
// dies part-way (see readRows); a longer one is streamed from then on, and a failure after
// that is the caller's error.
const replicaHoldRows = 256

// readRows yields the rows of a Query (see there). r is the standby they come from (nil: the
// primary). On a standby the first replicaHoldRows rows are held back, and a failure before
// any row was yielded is returned (raw, from pgx) for the caller to try the primary, as is a
// stalePlan error before any row on either; every other failure is yielded, and nil returned.
func (d *Driver[T]) readRows(ctx context.Context, rows pgx.Rows, pooled bool, limit int, fields []int,
	cancel context.CancelCauseFunc, wd *watchdog, r *replica, yield func(T, error) bool) error {
	var zero T
	lease := d.lease
	if r != nil {
		lease = r.currentLease()
	}
	yielded := false
	// fail returns err for the caller to retry (see above and stalePlan) or yields it mapped.
	fail := func(err error) error {
		if (r != nil || stalePlan(err)) && !yielded && !wd.fired() {
			return err
		}
		switch {
		case wd.fired() && ctx.Err() == nil:
			err = commandTimeout(d.cmdTimeout)
		case r != nil && ctx.Err() == nil && (isConnErr(err) || serverGone(err)):
			r.failed(err)
			err = d.failOn(ctx, err, lease)
		default:
			err = d.failOn(ctx, err, lease)
		}
		yield(zero, err)
		return nil
	}
	// stopEarly closes rows that are not read to the end (the loop was broken off, or the
	// loop body panicked): on a pool the statement is cancelled first unless the rest is
	// small, so that closing does not drain a large result; the connection goes back to
	// the pool either way.
	stopEarly := func() {
		if (limit == 0 || limit > drainLimit) && pooled {
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
	// held are the rows of a standby not yet yielded (nil on the primary, or once flushed).
	var held []T
	if r != nil {
		held = make([]T, 0, min(replicaHoldRows, max(limit, 16)))
	}
	// flush yields the held rows; false when the loop was broken off.
	flush := func() bool {
		recs := held
		held = nil
		for _, rec := range recs {
			yielded = true
			if !yield(rec, nil) {
				return false
			}
		}
		return true
	}
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
			return nil
		}
		rec, err := s.scan(rows)
		if err != nil {
			closed = true
			rows.Close()
			if !flush() {
				return nil
			}
			yielded = true // a row that does not scan fails the same way on the primary
			return fail(err)
		}
		if held != nil {
			if held = append(held, rec); len(held) < replicaHoldRows {
				continue
			}
			if !flush() {
				closed = true
				stopEarly()
				return nil
			}
			continue
		}
		yielded = true
		if !yield(rec, nil) {
			closed = true
			stopEarly()
			return nil
		}
	}
	closed = true
	wd.begin()
	rows.Close()
	wd.end()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	flush()
	return nil
}

// Count implements repo.Driver. With replicas it may read from a standby (see readOn).
func (d *Driver[T]) Count(ctx context.Context, filter query.Expr) (int64, error) {
	c := compiler[T]{desc: d.desc}
	c.b.WriteString(d.countSQL)
	if !filter.IsAll() {
		c.b.WriteString(" WHERE ")
		if err := c.expr(filter); err != nil {
			return 0, repo.E(repo.ErrInvalidInput, err)
		}
	}
	return readOn(d, ctx, func(db DB) (int64, error) {
		cctx, cancel := d.callCtx(ctx)
		defer cancel()
		var n int64
		err := db.QueryRow(cctx, c.b.String(), c.args...).Scan(&n)
		return n, err
	})
}
