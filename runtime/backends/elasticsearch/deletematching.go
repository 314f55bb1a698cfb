package elasticsearch

import (
	"context"
	"errors"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// DeleteMatching implements repo.QueryDeleter with a search and _bulk deletes, not
// _delete_by_query (a module the embedded test node lacks, and it would not release the
// reservations of unique values): it reads the matching records in id order (search_after
// in a point in time, as Stream; only the id, the version and the unique fields) and
// deletes each page of Options.BatchDocs records with one _bulk request, every delete
// conditional on the version read; records with unique fields release their reservations
// as Delete does. It returns how many records it deleted.
//
// Records written while it runs: a record changed after the search read it is kept (its
// conditional delete is refused, and it is not counted), as is one deleted by someone else
// meanwhile; a record created while it runs is deleted only when the search sees it (it
// matches, is not behind the scan's position, and was created before the point in time was
// opened, which happens after the first page). What the search sees follows the refresh
// policy: with RefreshFalse, records written within the refresh interval may not be seen.
// A delete that fails otherwise stops the call with its error; the count then says how many
// were deleted before.
func (d *Driver[T]) DeleteMatching(ctx context.Context, filter query.Expr) (int64, error) {
	if filter.Op == query.OpInvalid { // the zero Expr: every record
		filter = query.All()
	}
	if _, err := d.comp.compile(filter); err != nil {
		return 0, repo.E(repo.ErrInvalidInput, err)
	}
	idField := d.desc.Fields[0].Name
	fields := []string{idField}
	if d.uq != nil {
		for _, i := range d.uq.fields {
			fields = append(fields, d.desc.Fields[i].Name)
		}
	}
	spec := &query.Spec{Filter: filter, Sort: []query.SortKey{{Field: idField}}, Fields: fields}
	var n int64
	dels := make([]delItem, 0, d.o.BatchDocs)
	res := make([]repo.Result, 0, d.o.BatchDocs)
	flush := func() error {
		if len(dels) == 0 {
			return nil
		}
		_, err := d.deleteKnown(ctx, dels, res)
		var first error
		for k := range dels {
			switch e := res[k].Err; {
			case e == nil:
				n++
			case errors.Is(e, repo.ErrVersionConflict), errors.Is(e, repo.ErrNotFound):
				// changed or deleted by another writer since it was read: not ours to delete
			case first == nil:
				first = e
			}
		}
		dels, res = dels[:0], res[:0]
		if err != nil {
			return err
		}
		return first
	}
	for rec, err := range d.Query(ctx, spec) {
		if err != nil {
			return n, err
		}
		seq, term, ok := parseVersion(d.desc.GetVersion(&rec))
		if !ok {
			return n, repo.Errorf(repo.ErrUnavailable, "elasticsearch: a search hit without a version")
		}
		it := delItem{i: len(res), seq: seq, term: term}
		if d.uq != nil {
			it.cs = d.claims(&rec, it.i, nil)
		}
		dels = append(dels, it)
		res = append(res, repo.Result{ID: d.desc.GetID(&rec)})
		if len(dels) >= d.o.BatchDocs {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	return n, flush()
}
