package repo

import (
	"context"
	"errors"
	"fmt"
)

// The batch methods (GetBatch, UpsertBatch, UpdateBatch, DeleteBatch) without
// instrumentation. Each prepares its input as the single calls do (an invalid item gets its
// error in its Result and is not sent), then sends the valid items to the driver's bulk
// interface (bulkdriver.go) when it has one, and otherwise loops over the Driver's single
// calls: one meaning either way.

// BatchOption modifies UpsertBatch, UpdateBatch and DeleteBatch.
type BatchOption func(*batchOptions)

type batchOptions struct {
	recordVersions bool
	versions       []string
	versionsSet    bool
}

// IfRecordVersions makes each item of an UpsertBatch or UpdateBatch whose RecordVersion is
// not empty conditional on it, as Update with IfVersion(rec.RecordVersion) is: the item
// fails with ErrVersionConflict when the stored version differs, and with ErrNotFound when
// there is no such record (for UpsertBatch too: a conditional upsert never creates). Items
// without a version are unconditional. DeleteBatch, which has no records, takes IfVersions.
func IfRecordVersions() BatchOption {
	return func(o *batchOptions) { o.recordVersions = true }
}

// IfVersions makes item i of an UpsertBatch, UpdateBatch or DeleteBatch conditional on
// vs[i] when vs[i] is not empty (as IfVersion does for one call); an item whose vs[i] is
// empty is unconditional. vs must have one entry per item, or the call fails with
// ErrInvalidInput. vs is read during the call only.
func IfVersions(vs []string) BatchOption {
	return func(o *batchOptions) { o.versions, o.versionsSet = vs, true }
}

// batchKind is the write a batch makes.
type batchKind uint8

const (
	kindUpsert batchKind = iota
	kindUpdate
	kindDelete
)

// batch is the prepared input of one write batch.
type batch[T any] struct {
	op   string
	kind batchKind
	recs []T      // upsert, update: the caller's records, copied and prepared
	ids  []string // every item's id
	ifv  []string // the expected version of each item ("" none); nil when none has one
	res  []Result // an invalid item's Err is set before the batch runs
}

// batchVersions returns the expected versions opts give n items (nil when none): the
// versions of recs when IfRecordVersions is set (del: DeleteBatch, which has no records).
func (c *Collection[T]) batchVersions(op string, n int, recs []T, del bool, opts []BatchOption) ([]string, error) {
	var o batchOptions
	for _, f := range opts {
		f(&o)
	}
	switch {
	case o.recordVersions && o.versionsSet:
		return nil, c.invalid(op, "", "IfRecordVersions and IfVersions together")
	case o.versionsSet:
		if len(o.versions) != n {
			return nil, c.invalid(op, "", fmt.Sprintf("IfVersions has %d versions for %d items", len(o.versions), n))
		}
		for _, v := range o.versions {
			if v != "" {
				return append([]string(nil), o.versions...), nil
			}
		}
		return nil, nil
	case o.recordVersions:
		if del {
			return nil, c.invalid(op, "", "IfRecordVersions applies to UpsertBatch and UpdateBatch; use IfVersions")
		}
		var vs []string
		for i := range recs {
			if v := c.desc.GetVersion(&recs[i]); v != "" {
				if vs == nil {
					vs = make([]string, len(recs))
				}
				vs[i] = v
			}
		}
		return vs, nil
	}
	return nil, nil
}

// writeBatch is UpsertBatch (kind kindUpsert) and UpdateBatch (kindUpdate) of recs, each
// conditional on ifv[i] when ifv is not nil and ifv[i] is not empty.
func (c *Collection[T]) writeBatch(ctx context.Context, op string, kind batchKind, recs []T, ifv []string) ([]Result, error) {
	b := &batch[T]{op: op, kind: kind, recs: make([]T, len(recs)), ids: make([]string, len(recs)), ifv: ifv,
		res: make([]Result, len(recs))}
	copy(b.recs, recs)
	for i := range b.recs {
		r := &b.recs[i]
		id := c.desc.GetID(r)
		var err error
		if id != "" || kind == kindUpdate {
			err = c.checkID(op, id)
		}
		if err == nil {
			err = c.prepare(op, r, kind == kindUpsert)
			id = c.desc.GetID(r)
		}
		b.ids[i], b.res[i] = id, Result{ID: id, Err: err}
	}
	err := c.runBatch(ctx, b)
	return b.res, c.fail(op, "", err)
}

// deleteBatch is DeleteBatch.
func (c *Collection[T]) deleteBatch(ctx context.Context, ids []string, opts []BatchOption) ([]Result, error) {
	if err := c.checkOpen("DeleteBatch"); err != nil {
		return nil, err
	}
	ifv, err := c.batchVersions("DeleteBatch", len(ids), nil, true, opts)
	if err != nil {
		return nil, err
	}
	b := &batch[T]{op: "DeleteBatch", kind: kindDelete, ids: ids, ifv: ifv, res: make([]Result, len(ids))}
	for i, id := range ids {
		b.res[i] = Result{ID: id, Err: c.checkID("DeleteBatch", id)}
	}
	err = c.runBatch(ctx, b)
	return b.res, c.fail("DeleteBatch", "", err)
}

// runBatch sends the valid items of b to the driver in calls of distinct ids, in order: a
// call ends before an item whose id is already in it, so that an item repeating an earlier
// item's id is written after that item's outcome is known. It then names the earlier item
// of the batch in unique-value errors and annotates every item's error. A call that fails
// as a whole stops the batch: its error is returned and given to every item not done.
func (c *Collection[T]) runBatch(ctx context.Context, b *batch[T]) error {
	pending := make([]int, 0, len(b.ids))
	for i := range b.res {
		if b.res[i].Err == nil {
			pending = append(pending, i)
		}
	}
	var err error
	var inCall map[string]struct{}
	for start := 0; start < len(pending); {
		end := start + 1
		if len(pending) > 1 {
			if inCall == nil {
				inCall = make(map[string]struct{}, len(pending))
			}
			clear(inCall)
			inCall[b.ids[pending[start]]] = struct{}{}
			for ; end < len(pending); end++ {
				id := b.ids[pending[end]]
				if _, dup := inCall[id]; dup {
					break
				}
				inCall[id] = struct{}{}
			}
		}
		if err = c.runCall(ctx, b, pending[start:end]); err != nil {
			for _, i := range pending[end:] {
				b.res[i].Err = err
			}
			break
		}
		start = end
	}
	if b.kind != kindDelete {
		c.nameEarlier(b)
	}
	for i := range b.res {
		if b.res[i].Err != nil {
			b.res[i].Version = ""
			b.res[i].Err = c.fail(b.op, b.ids[i], b.res[i].Err)
		}
	}
	return err
}

// runCall sends the items at positions items (distinct ids) to the driver: through its bulk
// interface when it has one, else one single call after another.
func (c *Collection[T]) runCall(ctx context.Context, b *batch[T], items []int) error {
	recs, ids, ifv, res := b.recs, b.ids, b.ifv, b.res
	whole := len(items) == len(b.ids) // every item, in order: no copy needed
	if !whole {
		ids, res = make([]string, len(items)), make([]Result, len(items))
		if b.recs != nil {
			recs = make([]T, len(items))
		}
		if b.ifv != nil {
			ifv = make([]string, len(items))
		}
		for j, i := range items {
			ids[j], res[j] = b.ids[i], Result{ID: b.ids[i]}
			if recs != nil {
				recs[j] = b.recs[i]
			}
			if ifv != nil {
				ifv[j] = b.ifv[i]
			}
		}
	}
	var err error
	switch b.kind {
	case kindUpsert:
		if bu, ok := c.drv.(BatchUpserter[T]); ok {
			err = bu.UpsertMany(ctx, recs, ifv, res)
		} else {
			err = c.loop(ctx, b.kind, recs, ids, ifv, res)
		}
	case kindUpdate:
		if bu, ok := c.drv.(BatchUpdater[T]); ok {
			err = bu.UpdateMany(ctx, recs, ifv, res)
		} else {
			err = c.loop(ctx, b.kind, recs, ids, ifv, res)
		}
	case kindDelete:
		if bd, ok := c.drv.(BatchDeleter[T]); ok {
			err = bd.DeleteMany(ctx, ids, ifv, res)
		} else {
			err = c.loop(ctx, b.kind, recs, ids, ifv, res)
		}
	}
	for j := range res {
		res[j].ID = ids[j]
		// A write that fails as a whole may leave an item neither done nor failed: it is
		// not done.
		if err != nil && res[j].Err == nil && b.kind != kindDelete && res[j].Version == "" {
			res[j].Err = err
		}
	}
	if !whole {
		for j, i := range items {
			b.res[i] = res[j]
		}
	}
	return err
}

// loop runs a batch call as the Driver's single calls, in order. An item error (not found,
// already exists, version conflict, invalid input) is the item's; any other error (the
// context, the store unreachable) ends the call: the item and every later one get it.
func (c *Collection[T]) loop(ctx context.Context, kind batchKind, recs []T, ids, ifv []string, res []Result) error {
	for j := range ids {
		var v string
		if ifv != nil {
			v = ifv[j]
		}
		var err error
		switch {
		case kind == kindDelete:
			err = c.drv.Delete(ctx, ids[j], v)
		case kind == kindUpsert && v == "":
			err = c.drv.Upsert(ctx, &recs[j])
		default: // an update, or an upsert conditional on a version: Update
			err = c.drv.Update(ctx, &recs[j], v)
		}
		switch {
		case err == nil:
			if kind != kindDelete {
				res[j].Version = c.desc.GetVersion(&recs[j])
			}
		case itemError(err):
			res[j].Err = err
		default:
			for k := j; k < len(res); k++ {
				res[k].Err = err
			}
			return err
		}
	}
	return nil
}

// itemError reports whether err, from a Driver's single call, concerns the item only (so a
// batch goes on with the next one).
func itemError(err error) bool {
	switch KindOf(err) {
	case ErrNotFound, ErrAlreadyExists, ErrVersionConflict, ErrInvalidInput:
		return true
	}
	return false
}

// nameEarlier gives a unique-value error that names no holder the item of the same batch
// that holds the value: the last earlier item written successfully with the value and not
// rewritten since by a later item of its id. A driver called one item at a time (or in
// several calls) cannot tell; this makes the error read as the loop's on every backend.
func (c *Collection[T]) nameEarlier(b *batch[T]) {
	var newest map[string]bool
	for i := range b.res {
		var ue *UniqueError
		if b.res[i].Err == nil || !errors.As(b.res[i].Err, &ue) || ue.Earlier != "" || ue.Pending != 0 {
			continue
		}
		fi, ok := c.desc.Field(ue.Field)
		if !ok {
			continue
		}
		f := &c.desc.Fields[fi]
		v, ok := f.UniqueValue(&b.recs[i])
		if !ok {
			continue
		}
		if newest == nil {
			newest = make(map[string]bool)
		}
		clear(newest)
		for j := i - 1; j >= 0; j-- {
			id := b.ids[j]
			if b.res[j].Err != nil || id == b.ids[i] || newest[id] {
				continue
			}
			newest[id] = true
			if w, ok := f.UniqueValue(&b.recs[j]); ok && w == v {
				b.res[i].Err = E(ErrAlreadyExists, &UniqueError{Field: ue.Field, Earlier: id, Err: ue.Err})
				break
			}
		}
	}
}

// getBatch is GetBatch without instrumentation. The driver reads each distinct valid id
// once; an id given again gets a copy of the record.
func (c *Collection[T]) getBatch(ctx context.Context, ids []string) ([]T, []Result, error) {
	if err := c.checkOpen("GetBatch"); err != nil {
		return nil, nil, err
	}
	out, res := make([]T, len(ids)), make([]Result, len(ids))
	pos := make([]int, len(ids)) // item → index in uniq; -1 for an invalid id
	uniq := make([]string, 0, len(ids))
	var first map[string]int
	if len(ids) > 1 {
		first = make(map[string]int, len(ids))
	}
	for i, id := range ids {
		res[i].ID = id
		if err := c.checkID("GetBatch", id); err != nil {
			res[i].Err, pos[i] = err, -1
			continue
		}
		if k, seen := first[id]; seen {
			pos[i] = k
			continue
		}
		if first != nil {
			first[id] = len(uniq)
		}
		pos[i] = len(uniq)
		uniq = append(uniq, id)
	}
	if len(uniq) == 0 {
		return out, res, nil
	}
	urecs, ures := out, res
	whole := len(uniq) == len(ids)
	if !whole {
		urecs, ures = make([]T, len(uniq)), make([]Result, len(uniq))
		for k, id := range uniq {
			ures[k].ID = id
		}
	}
	var err error
	if bg, ok := c.drv.(BatchGetter[T]); ok {
		err = bg.GetMany(ctx, uniq, urecs, ures)
	} else {
		err = c.getLoop(ctx, uniq, urecs, ures)
	}
	for k := range ures {
		ures[k].ID = uniq[k]
		if err != nil && ures[k].Err == nil && ures[k].Version == "" {
			ures[k].Err = err
		}
	}
	if !whole {
		used := make([]bool, len(uniq))
		for i, k := range pos {
			if k < 0 {
				continue
			}
			res[i] = ures[k]
			if ures[k].Err != nil {
				continue
			}
			if used[k] {
				out[i] = c.desc.Clone(&urecs[k])
			} else {
				out[i], used[k] = urecs[k], true
			}
		}
	}
	for i := range res {
		if res[i].Err != nil {
			var zero T
			out[i], res[i].Version = zero, ""
			res[i].Err = c.fail("GetBatch", ids[i], res[i].Err)
		}
	}
	return out, res, c.fail("GetBatch", "", err)
}

// getLoop reads ids one Get after another, as BatchGetter.GetMany does at once.
func (c *Collection[T]) getLoop(ctx context.Context, ids []string, recs []T, res []Result) error {
	for k, id := range ids {
		rec, err := c.drv.Get(ctx, id)
		switch {
		case err == nil:
			recs[k], res[k].Version = rec, c.desc.GetVersion(&rec)
		case KindOf(err) == ErrNotFound:
			res[k].Err = err
		default:
			for j := k; j < len(res); j++ {
				res[j].Err = err
			}
			return err
		}
	}
	return nil
}

// upsertBatch is UpsertBatch without instrumentation.
func (c *Collection[T]) upsertBatch(ctx context.Context, recs []T, opts []BatchOption) ([]Result, error) {
	if err := c.checkOpen("UpsertBatch"); err != nil {
		return nil, err
	}
	ifv, err := c.batchVersions("UpsertBatch", len(recs), recs, false, opts)
	if err != nil {
		return nil, err
	}
	return c.writeBatch(ctx, "UpsertBatch", kindUpsert, recs, ifv)
}

// updateBatch is UpdateBatch without instrumentation.
func (c *Collection[T]) updateBatch(ctx context.Context, recs []T, opts []BatchOption) ([]Result, error) {
	if err := c.checkOpen("UpdateBatch"); err != nil {
		return nil, err
	}
	ifv, err := c.batchVersions("UpdateBatch", len(recs), recs, false, opts)
	if err != nil {
		return nil, err
	}
	return c.writeBatch(ctx, "UpdateBatch", kindUpdate, recs, ifv)
}
