package repo

import (
	"context"

	"github.com/repokit/repokit/runtime/query"
)

// deletePageSize is how many records DeleteWhere reads and deletes at a time on a driver
// without QueryDeleter.
const deletePageSize = 1000

// bulkSpec checks q for op (DeleteWhere, StreamTransform), which visit every matching
// record: a limit or offset is ErrInvalidInput (it would choose records by an order these
// operations do not keep), the sort does not apply, and a projection is refused when
// noProjection is set (StreamTransform writes whole records back).
func (c *Collection[T]) bulkSpec(op string, q query.Query[T], noProjection bool) (query.Expr, error) {
	spec, err := c.spec(op, q)
	if err != nil {
		return query.Expr{}, err
	}
	if spec.Limit != 0 || spec.Offset != 0 {
		return query.Expr{}, c.invalid(op, "", op+" takes no limit or offset: it applies to every matching record")
	}
	if noProjection && spec.Fields != nil {
		return query.Expr{}, c.invalid(op, "", op+" takes no projection: it writes whole records back")
	}
	return spec.Filter, nil
}

// idPage returns the spec of the next page of at most size records matching filter, in id
// order, after the id last ("" for the first page), loading fields (nil: all).
func (c *Collection[T]) idPage(filter query.Expr, last string, size int, fields []string) query.Spec {
	id := c.desc.ID().Name
	if last != "" {
		filter = query.AndExpr(filter, query.Expr{Op: query.OpGT, Field: id, Args: []any{last}})
	}
	return query.Spec{Filter: filter, Sort: []query.SortKey{{Field: id}}, Limit: size, Fields: fields}
}

// deleteWhere is DeleteWhere without instrumentation. A driver with QueryDeleter removes the
// records at once. Otherwise the records are read in pages of ids, in id order, and each is
// deleted conditional on the version read: a record changed after it was read is left (it
// may no longer match), and one deleted meanwhile is not counted.
func (c *Collection[T]) deleteWhere(ctx context.Context, q query.Query[T]) (int64, error) {
	filter, err := c.bulkSpec("DeleteWhere", q, false)
	if err != nil {
		return 0, err
	}
	if qd, ok := c.drv.(QueryDeleter); ok {
		n, err := qd.DeleteMatching(ctx, filter)
		return n, c.fail("DeleteWhere", "", err)
	}
	var n int64
	idName := c.desc.ID().Name
	fields := []string{idName}
	ids := make([]string, 0, deletePageSize)
	vers := make([]string, 0, deletePageSize)
	res := make([]Result, deletePageSize)
	last := ""
	for {
		ids, vers = ids[:0], vers[:0]
		spec := c.idPage(filter, last, deletePageSize, fields)
		for rec, err := range c.drv.Query(ctx, &spec) {
			if err != nil {
				return n, c.fail("DeleteWhere", "", err)
			}
			ids = append(ids, c.desc.GetID(&rec))
			vers = append(vers, c.desc.GetVersion(&rec))
		}
		if len(ids) == 0 {
			return n, nil
		}
		r := res[:len(ids)]
		clear(r)
		for i, id := range ids {
			r[i].ID = id
		}
		if bd, ok := c.drv.(BatchDeleter[T]); ok {
			err = bd.DeleteMany(ctx, ids, vers, r)
		} else {
			err = c.loop(ctx, kindDelete, nil, ids, vers, r)
		}
		for i := range r {
			switch e := r[i].Err; {
			case e == nil:
				n++
			case err == nil && !itemError(e):
				err = e
			}
		}
		if err != nil {
			return n, c.fail("DeleteWhere", "", err)
		}
		if len(ids) < deletePageSize {
			return n, nil
		}
		last = ids[len(ids)-1]
	}
}
