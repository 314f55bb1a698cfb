package memory

import (
	"context"

	"github.com/repokit/repokit/runtime/eval"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// The bulk driver interfaces (repo/bulkdriver.go): each call takes the lock once and
// handles its items in order, with the outcome of each exactly that of the single call.

var _ repo.BulkDriver[struct{}] = (*Driver[struct{}])(nil)

// GetMany implements repo.BatchGetter.
func (d *Driver[T]) GetMany(ctx context.Context, ids []string, recs []T, res []repo.Result) error {
	return d.byID(ctx, ids, res, false, func(k, i int) {
		recs[k] = d.desc.Clone(d.recs[i])
		res[k].Version = d.desc.GetVersion(&recs[k])
	})
}

// UpsertMany implements repo.BatchUpserter.
func (d *Driver[T]) UpsertMany(ctx context.Context, recs []T, ifVersion []string, res []repo.Result) error {
	return d.writeMany(ctx, recs, ifVersion, res, true)
}

// UpdateMany implements repo.BatchUpdater.
func (d *Driver[T]) UpdateMany(ctx context.Context, recs []T, ifVersion []string, res []repo.Result) error {
	return d.writeMany(ctx, recs, ifVersion, res, false)
}

// writeMany stores each record as Upsert (create set, unless the item has an expected
// version) or Update does. A unique value taken by a record written earlier in the call is
// named as an earlier record of the same batch.
func (d *Driver[T]) writeMany(ctx context.Context, recs []T, ifVersion []string, res []repo.Result, create bool) error {
	return d.locked(ctx, res, true, func() { d.writeLocked(recs, ifVersion, res, create) })
}

// writeLocked is writeMany under the write lock.
func (d *Driver[T]) writeLocked(recs []T, ifVersion []string, res []repo.Result, create bool) {
	var batch map[string]bool // ids written by this call, when a later record may meet their values
	if len(recs) > 1 && len(d.unique) > 0 {
		batch = make(map[string]bool, len(recs))
	}
	for k := range recs {
		rec := &recs[k]
		id := d.desc.GetID(rec)
		res[k].ID = id
		var v string
		if ifVersion != nil {
			v = ifVersion[k]
		}
		at, found := d.index[id]
		switch {
		case !found && (!create || v != ""):
			res[k].Err = repo.E(repo.ErrNotFound, nil)
			continue
		case !found:
			at = -1
		}
		if found {
			if err := d.checkVersion(at, v); err != nil {
				res[k].Err = err
				continue
			}
		}
		if err := d.uniqueConflict(rec, id, batch); err != nil {
			res[k].Err = err
			continue
		}
		res[k].Version = d.store(rec, at)
		if batch != nil {
			batch[id] = true
		}
	}
}

// DeleteMany implements repo.BatchDeleter.
func (d *Driver[T]) DeleteMany(ctx context.Context, ids []string, ifVersion []string, res []repo.Result) error {
	return d.byID(ctx, ids, res, true, func(k, i int) {
		if ifVersion != nil {
			if err := d.checkVersion(i, ifVersion[k]); err != nil {
				res[k].Err = err
				return
			}
		}
		d.remove(i)
	})
}

// locked runs fn under d's lock (the write lock when write is set) after the checks every
// bulk call starts with: a context that is done or a closed driver fails every item.
func (d *Driver[T]) locked(ctx context.Context, res []repo.Result, write bool, fn func()) error {
	if err := ctx.Err(); err != nil {
		return failAll(res, err)
	}
	if write {
		d.mu.Lock()
		defer d.mu.Unlock()
	} else {
		d.mu.RLock()
		defer d.mu.RUnlock()
	}
	if d.closed {
		return failAll(res, errClosed)
	}
	fn()
	return nil
}

// byID runs fn, under locked, on each item k of ids whose record is stored, with its
// position i in d.recs; an item whose record is not stored is ErrNotFound.
func (d *Driver[T]) byID(ctx context.Context, ids []string, res []repo.Result, write bool, fn func(k, i int)) error {
	return d.locked(ctx, res, write, func() {
		for k, id := range ids {
			res[k].ID = id
			i, ok := d.index[id]
			if !ok {
				res[k].Err = repo.E(repo.ErrNotFound, nil)
				continue
			}
			fn(k, i)
		}
	})
}

// DeleteMatching implements repo.QueryDeleter: under one lock, so no record is written
// while it runs.
func (d *Driver[T]) DeleteMatching(ctx context.Context, filter query.Expr) (int64, error) {
	f, err := eval.CompileFilter(d.desc, filter)
	if err != nil {
		return 0, repo.E(repo.ErrInvalidInput, err)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return 0, errClosed
	}
	var n int64
	kept := d.recs[:0]
	for _, r := range d.recs {
		if !f.Match(r) {
			d.index[d.desc.GetID(r)] = len(kept)
			kept = append(kept, r)
			continue
		}
		d.indexUnique(r, false)
		delete(d.index, d.desc.GetID(r))
		n++
	}
	clear(d.recs[len(kept):])
	d.recs = kept
	return n, nil
}

// failAll gives every item err (the call failed before any was handled) and returns it.
func failAll(res []repo.Result, err error) error {
	for k := range res {
		res[k].Err = err
	}
	return err
}
