package repo

import (
	"context"
	"iter"

	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/repokit/repokit/runtime/query"
)

// The batch and stream methods of Repository, each one span and one duration measurement
// around its uninstrumented method (bulk.go, bulkquery.go, stream.go), as in observe.go.
// Batch spans have db.operation.batch.size (the items given, or for the streams the records
// processed) and repokit.batch.failed (the items whose Result has an error).

// batchEnd sets the batch attributes of cl from res and ends it.
func batchEnd(ctx context.Context, cl *call, n int, res []Result, err error) {
	if cl.span != nil {
		failed := 0
		for i := range res {
			if res[i].Err != nil {
				failed++
			}
		}
		cl.set(semconv.DBOperationBatchSizeKey.Int(n), AttrBatchFailed.Int(failed))
	}
	cl.end(ctx, err)
}

// GetBatch implements Repository. A missing id is its item's ErrNotFound; an invalid one its
// ErrInvalidInput; each distinct valid id is read once, and an id given again gets a copy of
// the record. Its span also has db.response.returned_rows (the records found).
func (c *Collection[T]) GetBatch(ctx context.Context, ids []string) ([]T, []Result, error) {
	ctx, cl := c.begin(ctx, opGetBatch)
	out, res, err := c.getBatch(ctx, ids)
	if cl.span != nil {
		found := 0
		for i := range res {
			if res[i].Err == nil {
				found++
			}
		}
		cl.rows(found)
	}
	batchEnd(ctx, &cl, len(ids), res, err)
	return out, res, err
}

// UpsertBatch implements Repository. Each record is prepared as Upsert prepares it (an id
// assigned when the schema generates them); an invalid one gets its error in its Result and
// is not sent. The records are sent in calls of distinct ids, in order: an item repeating an
// earlier item's id is sent after that item's outcome is known. A unique value taken by an
// earlier item of the batch is that item's ErrAlreadyExists naming it
// (UniqueError.Earlier), whatever the backend.
func (c *Collection[T]) UpsertBatch(ctx context.Context, recs []T, opts ...BatchOption) ([]Result, error) {
	ctx, cl := c.begin(ctx, opUpsertBatch)
	res, err := c.upsertBatch(ctx, recs, opts)
	batchEnd(ctx, &cl, len(recs), res, err)
	return res, err
}

// UpdateBatch implements Repository, as UpsertBatch but with Update's meaning: the id is
// required and a missing record is its item's ErrNotFound.
func (c *Collection[T]) UpdateBatch(ctx context.Context, recs []T, opts ...BatchOption) ([]Result, error) {
	ctx, cl := c.begin(ctx, opUpdateBatch)
	res, err := c.updateBatch(ctx, recs, opts)
	batchEnd(ctx, &cl, len(recs), res, err)
	return res, err
}

// DeleteBatch implements Repository. An id given twice is deleted the first time and is
// ErrNotFound the second.
func (c *Collection[T]) DeleteBatch(ctx context.Context, ids []string, opts ...BatchOption) ([]Result, error) {
	ctx, cl := c.begin(ctx, opDeleteBatch)
	res, err := c.deleteBatch(ctx, ids, opts)
	batchEnd(ctx, &cl, len(ids), res, err)
	return res, err
}

// DeleteWhere implements Repository. On a driver without QueryDeleter it reads the matching
// records in pages in id order and deletes each conditional on the version read: a record
// changed after it was read is left, and one written meanwhile with an id after the page
// read may be removed. Its span has repokit.deleted.
func (c *Collection[T]) DeleteWhere(ctx context.Context, q query.Query[T]) (int64, error) {
	ctx, cl := c.begin(ctx, opDeleteWhere)
	n, err := c.deleteWhere(ctx, q)
	cl.set(AttrDeleted.Int64(n))
	cl.end(ctx, err)
	return n, err
}

// StreamWrite implements Repository. Each batch goes through the driver's Insert, as
// CreateBatch does (PostgreSQL COPY for large batches, Elasticsearch _bulk, S3 concurrent
// conditional PUTs); the buffer of one batch is reused from batch to batch. A record whose id
// an earlier record of the same batch has fails with ErrAlreadyExists, as in CreateBatch,
// and one whose id a record of an earlier batch took fails likewise (the store has it).
func (c *Collection[T]) StreamWrite(ctx context.Context, recs iter.Seq[T], opts ...StreamOption) (StreamResult, error) {
	ctx, cl := c.begin(ctx, opStreamWrite)
	r, err := c.streamWrite(ctx, recs, opts)
	cl.set(semconv.DBOperationBatchSizeKey.Int64(r.Processed), AttrBatchFailed.Int64(r.Failed))
	cl.end(ctx, err)
	return r, err
}

// StreamTransform implements Repository. It reads pages of StreamBatchSize records (default
// DefaultStreamBatchSize) matching q's filter in id order, each page after the last id of
// the one before, so a record written back is never read again and records created or
// deleted meanwhile shift nothing. q may have no limit, offset or projection
// (ErrInvalidInput); its sort does not apply. fn gets the caller's own copy of each record;
// it may call the repository (no page is being read while it runs). A record fn returns
// with another id is its item's ErrInvalidInput, and an Action other than ActionWrite,
// ActionSkip and ActionDelete stops the call as an error of fn does.
func (c *Collection[T]) StreamTransform(ctx context.Context, q query.Query[T], fn func(T) (T, Action, error), opts ...StreamOption) (StreamResult, error) {
	ctx, cl := c.begin(ctx, opStreamTransform)
	r, err := c.streamTransform(ctx, q, fn, opts)
	cl.rows(int(r.Processed))
	cl.set(semconv.DBOperationBatchSizeKey.Int64(r.Processed), AttrBatchFailed.Int64(r.Failed), AttrDeleted.Int64(r.Deleted))
	cl.end(ctx, err)
	return r, err
}
