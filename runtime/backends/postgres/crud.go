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

// Update implements repo.Driver: one UPDATE ... WHERE id = $1 [AND version = $n]; when it
// changes no row, an existence check tells ErrNotFound from ErrVersionConflict.
func (d *Driver[T]) Update(ctx context.Context, rec *T, ifVersion string) error {
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
		return 0, repo.NotFoundOr(ctx, d.Exists, id, repo.VersionNotIssued(ifVersion))
	}
	return want, nil
}

// noRow returns the error of an Update or Delete of the record id that changed no row:
// ErrNotFound, or, with an expected version, ErrVersionConflict unless the record is gone.
func (d *Driver[T]) noRow(ctx context.Context, id, ifVersion string) error {
	if ifVersion == "" {
		return repo.E(repo.ErrNotFound, nil)
	}
	return repo.NotFoundOr(ctx, d.Exists, id, repo.VersionConflict(ifVersion))
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
