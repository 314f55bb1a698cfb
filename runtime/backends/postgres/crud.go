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
	var want int64
	if ifVersion != "" {
		var err error
		if want, err = strconv.ParseInt(ifVersion, 10, 64); err != nil {
			return repo.NotFoundOr(ctx, d.Exists, d.desc.GetID(rec), repo.VersionNotIssued(ifVersion))
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
		return repo.NotFoundOr(ctx, d.Exists, d.desc.GetID(rec), repo.VersionConflict(ifVersion))
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
	var want int64
	if ifVersion != "" {
		var err error
		if want, err = strconv.ParseInt(ifVersion, 10, 64); err != nil {
			return repo.NotFoundOr(ctx, d.Exists, id, repo.VersionNotIssued(ifVersion))
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
		return repo.NotFoundOr(ctx, d.Exists, id, repo.VersionConflict(ifVersion))
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
