package elasticsearch

import (
	"context"
	"errors"
	"net/http"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/repo"
)

// insertUnique creates records with unique fields, with the result a sequence of single
// creates would give: a record whose value an earlier record of the call takes is
// ErrAlreadyExists, and gets its chance when that record fails. Each pass sends, in chunks,
// the records no earlier pending record shares a value with; a chunk reserves its records'
// values (one _bulk on the unique index, then real-time reads for the taken ones), sends
// the records whose values are all reserved, and releases the reservations it made for
// records that were certainly not written.
func (d *Driver[T]) insertUnique(ctx context.Context, recs []T, res []repo.Result) error {
	cl := make([][]*claim, len(recs))
	pending := make([]int, len(recs))
	for i := range recs {
		cl[i] = d.claims(&recs[i], i, nil)
		pending[i] = i
	}
	prep := func(ctx context.Context, idx []int) ([]int, context.Context, func()) {
		var cs []*claim
		for _, i := range idx {
			cs = append(cs, cl[i]...)
		}
		start := d.uq.now()
		wctx, cancel := d.uq.writeCtx(ctx, start)
		d.reserve(ctx, cs)
		keep := make([]int, 0, len(idx))
		var undo []*claim
		late := d.uq.late(start)
		for _, i := range idx {
			err := firstErr(cl[i])
			if err == nil && late {
				err = d.uq.lateErr()
			}
			if err != nil {
				res[i].Err = err
				undo = append(undo, madeBy(cl[i])...)
				continue
			}
			keep = append(keep, i)
		}
		d.release(ctx, undo)
		return keep, wctx, func() {
			cancel()
			var undo []*claim
			for _, i := range keep {
				if res[i].Version == "" && definite(res[i].Err) {
					undo = append(undo, madeBy(cl[i])...)
				}
			}
			d.release(ctx, undo)
		}
	}
	type blocker struct{ rec, field int }
	for len(pending) > 0 {
		first := map[string]int{}
		var send, deferred []int
		blocked := map[int][]blocker{}
		for _, i := range pending {
			for _, c := range cl[i] {
				if j, ok := first[c.key]; ok {
					blocked[i] = append(blocked[i], blocker{j, c.field})
				} else {
					first[c.key] = i
				}
			}
			if len(blocked[i]) > 0 {
				deferred = append(deferred, i)
			} else {
				send = append(send, i)
			}
		}
		var err error
		if len(send) == 1 {
			keep, wctx, done := prep(ctx, send)
			if len(keep) == 1 {
				r := &res[keep[0]]
				d.createOne(wctx, &recs[keep[0]], r)
				r.Err = d.uq.lateWriteErr(ctx, r.Err)
			}
			done()
		} else {
			err = d.bulkCreate(ctx, recs, send, res, prep)
		}
		if err != nil {
			for _, i := range deferred {
				if res[i].Err == nil {
					res[i].Err = err
				}
			}
			return err
		}
		var next []int
		for _, i := range deferred {
			var by *blocker
			for k, b := range blocked[i] {
				if res[b.rec].Version != "" {
					by = &blocked[i][k]
					break
				}
			}
			if by == nil { // every record it repeats a value of failed or waits: try again
				next = append(next, i)
				continue
			}
			res[i].Err = repo.UniqueTakenEarlier(d.desc.Fields[by.field].Name, res[by.rec].ID)
		}
		pending = next
	}
	return nil
}

// writeUnique updates (upsert false) or upserts a record with unique fields. It reads the
// stored record (real time), reserves the values that change, writes the record
// conditionally on the version read (op_type=create when upserting a missing record), then
// releases the reservations of the values it no longer holds. A concurrent change of the
// record makes it start over (at most 10 times) unless ifVersion is given.
func (d *Driver[T]) writeUnique(ctx context.Context, rec *T, ifVersion string, upsert bool) error {
	id := d.desc.GetID(rec)
	if ifVersion != "" {
		if _, _, ok := parseVersion(ifVersion); !ok {
			return repo.NotFoundOr(ctx, d.Exists, id, repo.VersionNotIssued(ifVersion))
		}
	}
	for attempt := 0; ; attempt++ {
		cur, src, err := d.getSource(ctx, id)
		var old *T
		switch {
		case err == nil:
			old = &cur
		case upsert && errors.Is(err, repo.ErrNotFound):
		default:
			return err
		}
		if ifVersion != "" && d.desc.GetVersion(&cur) != ifVersion {
			return repo.VersionConflict(ifVersion)
		}
		newCs := d.claims(rec, 0, nil)
		var oldCs []*claim
		if old != nil {
			oldCs = d.claims(old, 0, nil)
		}
		var claim, gone []*claim
		for _, c := range newCs {
			if !hasKey(oldCs, c.key) {
				claim = append(claim, c)
			}
		}
		for _, c := range oldCs {
			if !hasKey(newCs, c.key) {
				gone = append(gone, c)
			}
		}
		// The reservations to release are read before the write: any later write of them
		// (by a write that holds the value again) changes their version and keeps them.
		owned, err := d.owned(ctx, gone)
		if err != nil {
			return err
		}
		wctx, cancel := ctx, context.CancelFunc(func() {})
		if len(claim) > 0 {
			start := d.uq.now()
			d.reserve(ctx, claim)
			err := firstErr(claim)
			if err == nil && d.uq.late(start) {
				err = d.uq.lateErr()
			}
			if err != nil {
				d.release(ctx, madeBy(claim))
				return err
			}
			wctx, cancel = d.uq.writeCtx(ctx, start)
		}
		var r *esapi.Response
		tok := newToken()
		if old == nil {
			r, err = d.create(wctx, id, rec, tok)
		} else {
			seq, term, _ := parseVersion(d.desc.GetVersion(old))
			r, err = d.index(wctx, rec, seq, term, true, tok, src)
		}
		if ns := (*notSentError)(nil); errors.As(err, &ns) {
			// Not sent (a driver keeping unknown members could not read or merge the
			// document): nothing was written.
			cancel()
			d.release(ctx, madeBy(claim))
			if !errors.Is(ns.err, repo.ErrVersionConflict) {
				return ns.err
			}
			if ifVersion != "" || attempt >= 10 {
				if upsert {
					return ns.err
				}
				return repo.NotFoundOr(ctx, d.Exists, id, ns.err)
			}
			continue
		}
		if err != nil {
			cancel()
			return d.uq.lateWriteErr(ctx, err) // may have been written: the reservations stay
		}
		// A 409 is read back with ctx: an earlier attempt of this very write may have stored
		// it (see wtoken.go).
		nv, lost, err := d.finish(ctx, r, id, tok, repo.ErrVersionConflict)
		cancel()
		switch {
		case err == nil:
			d.desc.SetVersion(rec, nv)
			d.release(ctx, owned)
			return nil
		case lost:
			d.release(ctx, madeBy(claim))
			if ifVersion != "" || attempt >= 10 {
				if upsert {
					return err
				}
				return repo.NotFoundOr(ctx, d.Exists, id, err)
			}
			continue
		case r.StatusCode == http.StatusConflict:
			return err // may have been written: the reservations stay
		case r.IsError():
			if definite(err) {
				d.release(ctx, madeBy(claim))
			}
			return err
		}
		return d.uq.lateWriteErr(ctx, err)
	}
}

func hasKey(cs []*claim, key string) bool {
	for _, c := range cs {
		if c.key == key {
			return true
		}
	}
	return false
}

// deleteUnique deletes a record with unique fields: it reads it (real time) and the
// reservations it owns, deletes it conditionally on the version read, then releases them.
func (d *Driver[T]) deleteUnique(ctx context.Context, id, ifVersion string) error {
	if ifVersion != "" {
		if _, _, ok := parseVersion(ifVersion); !ok {
			return repo.NotFoundOr(ctx, d.Exists, id, repo.VersionNotIssued(ifVersion))
		}
	}
	for attempt := 0; ; attempt++ {
		cur, err := d.Get(ctx, id)
		if err != nil {
			return err
		}
		v := d.desc.GetVersion(&cur)
		if ifVersion != "" && v != ifVersion {
			return repo.VersionConflict(ifVersion)
		}
		owned, err := d.owned(ctx, d.claims(&cur, 0, nil))
		if err != nil {
			return err
		}
		seq, term, _ := parseVersion(v)
		r, err := d.do(ctx, esapi.DeleteRequest{Index: d.o.Index, DocumentID: docPath(id), Refresh: string(d.o.Refresh),
			WaitForActiveShards: d.o.WaitForActiveShards,
			IfSeqNo:             &seq, IfPrimaryTerm: &term})
		if err != nil {
			return err
		}
		if r.StatusCode == http.StatusConflict {
			cerr := d.respErr(r, repo.ErrVersionConflict)
			closeBody(r)
			if ifVersion != "" || attempt >= 10 {
				return repo.NotFoundOr(ctx, d.Exists, id, cerr)
			}
			continue
		}
		if r.IsError() {
			err := d.respErr(r, repo.ErrVersionConflict)
			closeBody(r)
			return err
		}
		closeBody(r)
		d.release(ctx, owned)
		return nil
	}
}
