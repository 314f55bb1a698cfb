package postgres

import (
	"context"
	"strconv"

	"github.com/repokit/repokit/runtime/repo"
)

// exec runs a statement on db and returns the number of rows it changed.
func exec(ctx context.Context, db DB, sql string, args ...any) (int64, error) {
	tag, err := db.Exec(ctx, sql, args...)
	return tag.RowsAffected(), err
}

// Get implements repo.Driver. With replicas it may read from a standby (see readOn).
func (d *Driver[T]) Get(ctx context.Context, id string) (T, error) {
	return readOn(d, ctx, func(db DB) (T, error) {
		cctx, cancel := d.callCtx(ctx)
		defer cancel()
		if d.stmts != nil {
			rec, v, err := d.stmts.Get(cctx, db, id)
			if err == nil {
				d.desc.SetVersion(&rec, strconv.FormatInt(v, 10))
			}
			return rec, err
		}
		return newScanner(d.desc, d.allFields()).scan(db.QueryRow(cctx, d.getSQL, id))
	})
}

// Update implements repo.Driver: one UPDATE ... WHERE id = $1 [AND version = $n]; when it
// changes no row, an existence check tells ErrNotFound from ErrVersionConflict.
func (d *Driver[T]) Update(ctx context.Context, rec *T, ifVersion string) error {
	defer d.rs.markWrite()
	v := newVersion()
	want, err := d.expected(ctx, d.desc.GetID(rec), ifVersion)
	if err != nil {
		return err
	}
	cctx, cancel := d.callCtx(ctx)
	defer cancel()
	var n int64
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
		return d.noRow(ctx, d.desc.GetID(rec), ifVersion)
	}
	d.desc.SetVersion(rec, strconv.FormatInt(v, 10))
	return nil
}

// Upsert implements repo.Driver with INSERT ... ON CONFLICT (id) DO UPDATE.
func (d *Driver[T]) Upsert(ctx context.Context, rec *T) error {
	defer d.rs.markWrite()
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
	defer d.rs.markWrite()
	want, err := d.expected(ctx, id, ifVersion)
	if err != nil {
		return err
	}
	cctx, cancel := d.callCtx(ctx)
	defer cancel()
	var n int64
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
		return d.noRow(ctx, id, ifVersion)
	}
	return nil
}

// expected returns the expected version of a conditional Update or Delete of the record id,
// 0 without one (ifVersion ""). A version this backend cannot have issued (not a number) is
// ErrVersionConflict, or ErrNotFound when there is no record with the id.
func (d *Driver[T]) expected(ctx context.Context, id, ifVersion string) (int64, error) {
	if ifVersion == "" {
		return 0, nil
	}
	want, err := strconv.ParseInt(ifVersion, 10, 64)
	if err != nil {
		return 0, repo.NotFoundOr(ctx, d.existsOnPrimary, id, repo.VersionNotIssued(ifVersion))
	}
	return want, nil
}

// noRow returns the error of an Update or Delete of the record id that changed no row:
// ErrNotFound, or, with an expected version, ErrVersionConflict unless the record is gone.
func (d *Driver[T]) noRow(ctx context.Context, id, ifVersion string) error {
	if ifVersion == "" {
		return repo.E(repo.ErrNotFound, nil)
	}
	return repo.NotFoundOr(ctx, d.existsOnPrimary, id, repo.VersionConflict(ifVersion))
}

// Exists implements repo.Driver. With replicas it may read from a standby (see readOn).
func (d *Driver[T]) Exists(ctx context.Context, id string) (bool, error) {
	return readOn(d, ctx, func(db DB) (bool, error) { return d.exists(ctx, db, id) })
}

// existsOnPrimary is Exists on the primary: the check of a write that changed no row.
func (d *Driver[T]) existsOnPrimary(ctx context.Context, id string) (bool, error) {
	ok, err := d.exists(ctx, d.db, id)
	if err != nil {
		return false, d.fail(ctx, err)
	}
	return ok, nil
}

// exists runs the existence check on db; the error is pgx's.
func (d *Driver[T]) exists(ctx context.Context, db DB, id string) (bool, error) {
	cctx, cancel := d.callCtx(ctx)
	defer cancel()
	var ok bool
	var err error
	if d.stmts != nil {
		ok, err = d.stmts.Exists(cctx, db, id)
	} else {
		err = db.QueryRow(cctx, d.existsSQL, id).Scan(&ok)
	}
	return ok, err
}

// readOn runs one read (fn, which returns pgx's errors) on a standby when the call may go to
// one (see replicaSet.choose), else on the primary. When the standby fails it in a way that
// says nothing about the query itself (see retryOnPrimary), fn runs again on the primary,
// within the call's context. A read that fails because a column changed type under a
// connection's cached statement runs again (see stalePlan). The error returned is mapped
// (see fail).
func readOn[T, R any](d *Driver[T], ctx context.Context, fn func(db DB) (R, error)) (R, error) {
	if r := d.route(ctx); r != nil {
		if conn := d.rs.acquire(ctx, r); conn != nil {
			v, err := fn(conn)
			conn.Release()
			if err == nil {
				return v, nil
			}
			if !d.rs.retryOnPrimary(ctx, r, err) {
				return v, d.failOn(ctx, err, r.currentLease())
			}
		}
	}
	v, err := fn(d.db)
	for i := 0; err != nil && stalePlan(err) && i < d.stalePlanRetries() && ctx.Err() == nil; i++ {
		v, err = fn(d.db)
	}
	if err != nil {
		return v, d.fail(ctx, err)
	}
	return v, nil
}

// route returns the standby a read outside a transaction may go to now, or nil for the
// primary (no replicas, a bound driver, UsePrimary, or no standby usable and up to date
// with the driver's writes).
func (d *Driver[T]) route(ctx context.Context) *replica {
	if d.rs == nil || d.bound || usesPrimary(ctx) {
		return nil
	}
	return d.rs.choose()
}
