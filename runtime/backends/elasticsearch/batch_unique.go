package elasticsearch

import (
	"context"
	"errors"

	"github.com/repokit/repokit/runtime/repo"
)

// putItem is one record of an UpsertMany or UpdateMany call with unique fields, as read in
// the current pass.
type putItem struct {
	i         int
	found     bool // the record is stored (else it is created: op_type=create)
	seq, term int  // its version, when found
	claim     []*claim
	gone      []*claim
}

// putManyUnique writes records with unique fields (UpsertMany when upsert, else
// UpdateMany) with the result a sequence of single Upsert or Update calls (writeUnique)
// would have. Each pass reads the pending records (real time, their unique fields) and
// sends the items that do not wait for an earlier pending item, in chunks of BatchDocs: a
// chunk reads the reservations of the values its records drop, reserves the values they
// add (one _bulk on the unique index), writes the records whose values are all reserved
// conditionally on the version read (op_type=create for a record an upsert creates; one
// _bulk), releases the dropped values of the records written and the new reservations of
// the records certainly not written. An item waits for the next pass when it adds a value
// an earlier pending item adds (it fails with ErrAlreadyExists, "earlier in the same
// batch", when that item is written) or drops (it is free once that item is written, as
// in a loop of single calls). An item another writer changed between the read and the
// write is read and sent again in the next pass, at most maxAttempts times, unless it has
// a version.
func (d *Driver[T]) putManyUnique(ctx context.Context, recs []T, ifVersion []string, res []repo.Result, upsert bool) error {
	pending, check := d.startPut(recs, ifVersion, res)
	attempts := make([]int, len(recs))
	var failed error
	for len(pending) > 0 {
		for _, i := range pending {
			res[i].Version, res[i].Err = "", nil
		}
		items, err := d.readPut(ctx, recs, ifVersion, res, pending, upsert)
		if err != nil {
			failAll(res, pending, err)
			failed = err
			break
		}
		// Which items wait for an earlier one.
		type blocker struct {
			rec, field int
			added      bool // the earlier item adds the value (else it drops it)
		}
		adds, drops := map[string]int{}, map[string]int{}
		blocked := map[int][]blocker{}
		var send, deferred []*putItem
		for _, it := range items {
			for _, c := range it.claim {
				if j, ok := adds[c.key]; ok {
					blocked[it.i] = append(blocked[it.i], blocker{j, c.field, true})
				} else {
					adds[c.key] = it.i
				}
				if j, ok := drops[c.key]; ok {
					blocked[it.i] = append(blocked[it.i], blocker{j, c.field, false})
				}
			}
			for _, c := range it.gone {
				if _, ok := drops[c.key]; !ok {
					drops[c.key] = it.i
				}
			}
			if len(blocked[it.i]) > 0 {
				deferred = append(deferred, it)
			} else {
				send = append(send, it)
			}
		}
		var next []int
		for start := 0; start < len(send) && failed == nil; start += d.o.BatchDocs {
			chunk := send[start:min(start+d.o.BatchDocs, len(send))]
			conflicts, err := d.putChunk(ctx, chunk, recs, res)
			for _, i := range conflicts {
				attempts[i]++
				if !again(ifVersion, i, attempts[i], err) {
					if upsert && at(ifVersion, i) == "" {
						continue // Upsert's 409 after its retries: ErrVersionConflict as it is
					}
					check = append(check, i)
					continue
				}
				next = append(next, i)
			}
			failed = err
		}
		if failed != nil {
			for _, it := range items {
				if r := &res[it.i]; r.Version == "" && r.Err == nil {
					r.Err = failed
				}
			}
			break
		}
		for _, it := range deferred {
			var by *blocker
			for k, b := range blocked[it.i] {
				if b.added && res[b.rec].Version != "" {
					by = &blocked[it.i][k]
					break
				}
			}
			if by == nil { // what it waited for is done or failed: try again
				next = append(next, it.i)
				continue
			}
			res[it.i].Err = repo.UniqueTakenEarlier(d.desc.Fields[by.field].Name, res[by.rec].ID)
		}
		pending = next
	}
	return errors.Join(failed, d.notFoundOr(ctx, check, res))
}

// readPut reads the stored records of the items at pending (real time, unique fields only)
// and returns what each is to write; an item that cannot be written gets its error (no
// record to update: ErrNotFound; a different version: ErrVersionConflict, as in
// writeUnique).
func (d *Driver[T]) readPut(ctx context.Context, recs []T, ifVersion []string, res []repo.Result, pending []int, upsert bool) ([]*putItem, error) {
	docs, err := d.readDocs(ctx, idsOf(res, pending), d.uq.source, false)
	if err != nil {
		return nil, err
	}
	items := make([]*putItem, 0, len(pending))
	for k, i := range pending {
		doc := &docs[k]
		if err := doc.err(); err != nil {
			res[i].Err = err
			continue
		}
		v := at(ifVersion, i)
		it := &putItem{i: i, found: doc.Found}
		var oldCs []*claim
		switch {
		case !doc.Found && (!upsert || v != ""):
			res[i].Err = repo.E(repo.ErrNotFound, nil)
			continue
		case doc.Found && v != "" && version(doc.SeqNo, doc.Term) != v:
			res[i].Err = repo.VersionConflict(v)
			continue
		case doc.Found:
			var old T
			if err := d.codec.decode(doc.Source, &old); err != nil {
				res[i].Err = err
				continue
			}
			d.desc.SetID(&old, res[i].ID) // the _source read holds the unique fields only
			it.seq, it.term = int(doc.SeqNo), int(doc.Term)
			oldCs = d.claims(&old, i, nil)
		}
		newCs := d.claims(&recs[i], i, nil)
		for _, c := range newCs {
			if !hasKey(oldCs, c.key) {
				it.claim = append(it.claim, c)
			}
		}
		for _, c := range oldCs {
			if !hasKey(newCs, c.key) {
				it.gone = append(it.gone, c)
			}
		}
		items = append(items, it)
	}
	return items, nil
}

// putChunk writes the records of items (see putManyUnique) and returns those refused with
// a 409 (changed or created by another writer since they were read). A non-nil error is a
// failed request; the items it left undecided keep no result (the caller gives them the
// error).
func (d *Driver[T]) putChunk(ctx context.Context, items []*putItem, recs []T, res []repo.Result) ([]int, error) {
	// The reservations to release once the records no longer hold their values are read
	// before the writes: a later write holding a value again changes its reservation's
	// version, which keeps it.
	var gone, cs []*claim
	for _, it := range items {
		gone = append(gone, it.gone...)
		cs = append(cs, it.claim...)
	}
	owned, err := d.owned(ctx, gone)
	if err != nil {
		return nil, err
	}
	release := map[int][]*claim{}
	for _, c := range owned {
		release[c.rec] = append(release[c.rec], c)
	}
	wctx, cancel := ctx, context.CancelFunc(func() {})
	keep := items
	if len(cs) > 0 {
		start := d.uq.now()
		d.reserve(ctx, cs)
		late := d.uq.late(start)
		keep = make([]*putItem, 0, len(items))
		var undo []*claim
		for _, it := range items {
			err := firstErr(it.claim)
			if err == nil && late && len(it.claim) > 0 {
				err = d.uq.lateErr()
			}
			if err != nil {
				res[it.i].Err = err
				undo = append(undo, madeBy(it.claim)...)
				continue
			}
			keep = append(keep, it)
		}
		d.release(ctx, undo)
		if !late {
			wctx, cancel = d.uq.writeCtx(ctx, start)
		}
	}
	ops := make([]bulkOp, len(keep))
	for k, it := range keep {
		ops[k] = bulkOp{i: it.i, action: "create"}
		if it.found {
			ops[k] = bulkOp{i: it.i, action: "index", cond: true, seq: it.seq, term: it.term}
		}
	}
	err = d.writeBulk(wctx, ops, recs, res)
	if wctx != ctx {
		err = d.uq.lateWriteErr(ctx, err)
		for _, it := range keep {
			res[it.i].Err = d.uq.lateWriteErr(ctx, res[it.i].Err)
		}
	}
	cancel()
	var conflicts []int
	var rel []*claim
	for _, it := range keep {
		r := &res[it.i]
		switch {
		case r.Err == nil:
			d.desc.SetVersion(&recs[it.i], r.Version)
			rel = append(rel, release[it.i]...)
		case definite(r.Err): // refused (a 409, a rejected document): not written
			rel = append(rel, madeBy(it.claim)...)
			if errors.Is(r.Err, repo.ErrVersionConflict) {
				conflicts = append(conflicts, it.i)
			}
		}
		// Otherwise the record may have been written: its reservations stay.
	}
	d.release(ctx, rel)
	return conflicts, err
}

// delItem is a record to delete conditionally on its version, with the claims of the unique
// values it holds.
type delItem struct {
	i         int
	seq, term int
	cs        []*claim
}

// deleteManyUnique deletes records with unique fields as a sequence of single Delete calls
// (deleteUnique) would: it reads them (real time, unique fields), checks the given
// versions, then deletes them conditionally on the version read and releases their
// reservations (deleteKnown). A record changed meanwhile is read and deleted again, at most
// maxAttempts times, unless a version was given.
func (d *Driver[T]) deleteManyUnique(ctx context.Context, ids, ifVersion []string, res []repo.Result) error {
	pending, check := splitIssued(ifVersion, len(ids), res)
	return d.passes(ctx, pending, check, res, func(attempt int, pending []int, check *[]int) ([]int, error) {
		docs, err := d.readDocs(ctx, idsOf(res, pending), d.uq.source, false)
		if err != nil {
			failAll(res, pending, err)
			return nil, err
		}
		dels := make([]delItem, 0, len(pending))
		for k, i := range pending {
			doc := &docs[k]
			res[i].Err = doc.err()
			v := at(ifVersion, i)
			switch {
			case res[i].Err != nil:
				continue
			case !doc.Found:
				res[i].Err = repo.E(repo.ErrNotFound, nil)
				continue
			case v != "" && version(doc.SeqNo, doc.Term) != v:
				res[i].Err = repo.VersionConflict(v)
				continue
			}
			var cur T
			if err := d.codec.decode(doc.Source, &cur); err != nil {
				res[i].Err = err
				continue
			}
			d.desc.SetID(&cur, res[i].ID) // the _source read holds the unique fields only
			dels = append(dels, delItem{i: i, seq: int(doc.SeqNo), term: int(doc.Term), cs: d.claims(&cur, i, nil)})
		}
		conflicts, err := d.deleteKnown(ctx, dels, res)
		var next []int
		for _, i := range conflicts {
			if again(ifVersion, i, attempt, err) {
				next = append(next, i)
			} else {
				*check = append(*check, i)
			}
		}
		return next, err
	})
}

// deleteKnown deletes the records of dels conditionally on their versions, in chunks of
// BatchDocs: for records with unique fields it first reads the reservations they own, and
// releases those of the records deleted. It fills res of every item (nothing for a record
// deleted) and returns the items refused with a 409 (changed since they were read). A
// failed request is returned; the items of its chunk and the later ones get its error.
func (d *Driver[T]) deleteKnown(ctx context.Context, dels []delItem, res []repo.Result) ([]int, error) {
	var conflicts []int
	for start := 0; start < len(dels); start += d.o.BatchDocs {
		chunk := dels[start:min(start+d.o.BatchDocs, len(dels))]
		release := map[int][]*claim{}
		if d.uq != nil {
			var cs []*claim
			for _, it := range chunk {
				cs = append(cs, it.cs...)
			}
			owned, err := d.owned(ctx, cs)
			if err != nil {
				for _, it := range dels[start:] {
					res[it.i].Version, res[it.i].Err = "", err
				}
				return conflicts, err
			}
			for _, c := range owned {
				release[c.rec] = append(release[c.rec], c)
			}
		}
		ops := make([]bulkOp, len(chunk))
		for k, it := range chunk {
			ops[k] = bulkOp{i: it.i, action: "delete", cond: true, seq: it.seq, term: it.term}
		}
		err := d.writeBulk(ctx, ops, nil, res)
		var rel []*claim
		for _, it := range chunk {
			switch r := &res[it.i]; {
			case r.Err == nil:
				rel = append(rel, release[it.i]...)
			case errors.Is(r.Err, repo.ErrVersionConflict):
				conflicts = append(conflicts, it.i)
			}
		}
		d.release(ctx, rel)
		if err != nil {
			for _, it := range dels[start+len(chunk):] {
				res[it.i].Version, res[it.i].Err = "", err
			}
			return conflicts, err
		}
	}
	return conflicts, nil
}
