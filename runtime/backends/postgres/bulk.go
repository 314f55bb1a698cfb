package postgres

import (
	"context"
	"strconv"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// The bulk fast paths (repo.BatchGetter, BatchUpserter, BatchUpdater, BatchDeleter,
// QueryDeleter): GetMany and the existence checks read with one = ANY($1) statement,
// DeleteMany deletes with one DELETE ... USING unnest(...) RETURNING id, DeleteMatching with
// one DELETE ... WHERE; UpdateMany and UpsertMany are in bulkwrite.go. On a transaction
// every batch write runs in a savepoint (see inSavepoint), as CreateBatch's steps do.

var _ repo.BulkDriver[struct{}] = (*Driver[struct{}])(nil)

// idArrayType returns the type of an array of ids (text[] or uuid[]).
func (d *Driver[T]) idArrayType() string {
	typ, _ := pgdialect.ColumnType(d.desc.ID().Kind, true)
	if typ == "" {
		typ = "text[]"
	}
	return typ
}

// startBatch sets the ID of every result and clears the rest; it returns ctx's error, set in
// every result, when ctx has ended.
func startBatch(ctx context.Context, ids func(i int) string, res []repo.Result) error {
	for i := range res {
		res[i] = repo.Result{ID: ids(i)}
	}
	if err := ctx.Err(); err != nil {
		failPending(res, nil, err)
		return err
	}
	return nil
}

// failPending sets err in every result that is neither done (done[i], or a Version for a
// write; done nil: by Version only) nor failed already: the items a call that failed as a
// whole did not get to, or whose answer it lost.
func failPending(res []repo.Result, done []bool, err error) {
	for i := range res {
		if res[i].Err == nil && res[i].Version == "" && (done == nil || !done[i]) {
			res[i].Err = err
		}
	}
}

// GetMany implements repo.BatchGetter with one SELECT ... WHERE id = ANY($1). With replicas it
// may read from a standby (see readOn).
func (d *Driver[T]) GetMany(ctx context.Context, ids []string, recs []T, res []repo.Result) error {
	if err := startBatch(ctx, func(i int) string { return ids[i] }, res); err != nil || len(ids) == 0 {
		return err
	}
	pos := make(map[string]int, len(ids))
	for i, id := range ids {
		pos[id] = i
	}
	done := make([]bool, len(ids))
	err := d.readMany(ctx, "SELECT "+d.allCols+" FROM "+d.ident.Sanitize()+" WHERE "+pgdialect.Quote(d.cols[0])+" = ANY($1)", ids, func(rec T) {
		if i, ok := pos[d.desc.GetID(&rec)]; ok {
			recs[i] = rec
			res[i].Version = d.desc.GetVersion(&rec)
			done[i] = true
		}
	})
	if err != nil {
		failPending(res, done, err)
		return err
	}
	for i := range res {
		if !done[i] {
			res[i].Err = repo.E(repo.ErrNotFound, nil)
		}
	}
	return nil
}

// readMany runs a query of whole rows with ids as its only argument and calls fn for each
// (on a standby when the call may go to one: the rows are collected first, so that a standby
// failing halfway leaves nothing to undo when the primary answers instead).
func (d *Driver[T]) readMany(ctx context.Context, sql string, ids []string, fn func(T)) error {
	recs, err := readOn(d, ctx, func(db DB) ([]T, error) {
		cctx, cancel := d.callCtx(ctx)
		defer cancel()
		rows, err := db.Query(cctx, sql, ids)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		recs := make([]T, 0, len(ids))
		s := newScanner(d.desc, d.allFields())
		for rows.Next() {
			rec, err := s.scan(rows)
			if err != nil {
				return nil, err
			}
			recs = append(recs, rec)
		}
		return recs, rows.Err()
	})
	if err != nil {
		return err
	}
	for _, rec := range recs {
		fn(rec)
	}
	return nil
}

// existing returns which of ids are stored, with one SELECT id ... WHERE id = ANY($1).
func (d *Driver[T]) existing(ctx context.Context, ids []string) (map[string]bool, error) {
	id := pgdialect.Quote(d.cols[0])
	return d.returningIDs(ctx, "SELECT "+id+" FROM "+d.ident.Sanitize()+" WHERE "+id+" = ANY($1)", []any{ids})
}

// explainMisses sets the error of the items at idx, whose conditional write or delete changed
// no row or whose expected version this backend cannot have issued, as Update and Delete do
// (see noRow and expected): ErrNotFound when the record is not stored, else
// ErrVersionConflict. One existence check serves them all.
func (d *Driver[T]) explainMisses(ctx context.Context, idx []int, ifVersion []string, res []repo.Result) error {
	if len(idx) == 0 {
		return nil
	}
	ids := make([]string, len(idx))
	for k, i := range idx {
		ids[k] = res[i].ID
	}
	stored, err := d.existing(ctx, ids)
	if err != nil {
		return err
	}
	for _, i := range idx {
		switch {
		case !stored[res[i].ID]:
			res[i].Err = repo.E(repo.ErrNotFound, nil)
		case issued(ifVersion[i]):
			res[i].Err = repo.VersionConflict(ifVersion[i])
		default:
			res[i].Err = repo.VersionNotIssued(ifVersion[i])
		}
	}
	return nil
}

// issued reports whether v has the form of a version this backend issues (see expected).
func issued(v string) bool {
	_, err := strconv.ParseInt(v, 10, 64)
	return err == nil
}

// DeleteMany implements repo.BatchDeleter with one DELETE ... USING unnest($1, $2) RETURNING
// id (the expected versions NULL where there is none); the ids it did not return are
// explained as Delete does (ErrNotFound, or ErrVersionConflict unless the record is gone).
func (d *Driver[T]) DeleteMany(ctx context.Context, ids []string, ifVersion []string, res []repo.Result) error {
	defer d.rs.markWrite()
	if err := startBatch(ctx, func(i int) string { return ids[i] }, res); err != nil || len(ids) == 0 {
		return err
	}
	want := make([]*int64, len(ids))
	var sendIDs []string
	var sendWant []*int64
	var misses []int // conditional items whose version is not one this backend issues
	for i, id := range ids {
		if ifVersion != nil && ifVersion[i] != "" {
			w, err := strconv.ParseInt(ifVersion[i], 10, 64)
			if err != nil {
				misses = append(misses, i)
				continue
			}
			want[i] = &w
		}
		sendIDs = append(sendIDs, id)
		sendWant = append(sendWant, want[i])
	}
	idCol, ver := pgdialect.Quote(d.cols[0]), pgdialect.Quote(pgdialect.VersionColumn)
	sql := "DELETE FROM " + d.ident.Sanitize() + " AS t USING unnest($1::" + d.idArrayType() + ", $2::bigint[]) AS n(id, want)" +
		" WHERE t." + idCol + " = n.id AND (n.want IS NULL OR t." + ver + " = n.want) RETURNING t." + idCol
	var deleted map[string]bool
	done := make([]bool, len(ids))
	if len(sendIDs) > 0 {
		err := d.inSavepoint(ctx, func() error {
			var err error
			deleted, err = d.returningIDs(ctx, sql, []any{sendIDs, sendWant})
			return err
		})
		if err != nil {
			failPending(res, done, err)
			return err
		}
	}
	for i := range ids {
		switch {
		case deleted[ids[i]]:
			done[i] = true
		case want[i] != nil:
			misses = append(misses, i)
		case ifVersion == nil || ifVersion[i] == "":
			res[i].Err = repo.E(repo.ErrNotFound, nil)
		}
	}
	if err := d.explainMisses(ctx, misses, ifVersion, res); err != nil {
		failPending(res, done, err)
		return err
	}
	return nil
}

// DeleteMatching implements repo.QueryDeleter with one DELETE ... WHERE filter (no WHERE for
// every record; the zero Expr means every record too). It deletes the records that match
// when the statement starts, as PostgreSQL's READ COMMITTED rules have it: a record
// committed by another transaction after that is kept, and one that another transaction
// changed meanwhile is deleted only when its new values still match. Unique values are
// released with the rows. On a transaction it runs like Delete, without a savepoint.
func (d *Driver[T]) DeleteMatching(ctx context.Context, filter query.Expr) (int64, error) {
	defer d.rs.markWrite()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	c := compiler[T]{desc: d.desc}
	c.b.WriteString("DELETE FROM ")
	c.b.WriteString(d.ident.Sanitize())
	if !filter.IsAll() && !isZeroExpr(filter) {
		c.b.WriteString(" WHERE ")
		if err := c.expr(filter); err != nil {
			return 0, repo.E(repo.ErrInvalidInput, err)
		}
	}
	cctx, cancel := d.callCtx(ctx)
	defer cancel()
	n, err := exec(cctx, d.db, c.b.String(), c.args...)
	if err != nil {
		return 0, d.fail(ctx, err)
	}
	return n, nil
}

// isZeroExpr reports the zero query.Expr, which DeleteMatching takes for "no filter".
func isZeroExpr(e query.Expr) bool {
	return e.Op == query.OpInvalid && e.Field == "" && len(e.Args) == 0 && len(e.Sub) == 0
}
