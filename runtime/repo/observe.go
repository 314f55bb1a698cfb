package repo

import (
	"context"
	"iter"

	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/repokit/repokit/runtime/query"
)

// The Repository methods: each is one span and one duration measurement around the
// uninstrumented method of the same name (see telemetry.go), so every backend gets them once.

// Create implements Repository.
func (c *Collection[T]) Create(ctx context.Context, rec T) (T, error) {
	ctx, cl := c.begin(ctx, opCreate)
	out, err := c.create(ctx, rec)
	cl.end(ctx, err)
	return out, err
}

// CreateBatch implements Repository. Invalid records, and records whose id an earlier valid
// record of the batch has (ErrAlreadyExists: the first one wins), get their error in their
// Result and are not sent to the backend; the others are, with distinct ids. Its span has
// db.operation.batch.size and repokit.batch.failed (records whose Result has an error).
func (c *Collection[T]) CreateBatch(ctx context.Context, recs []T) ([]Result, error) {
	ctx, cl := c.begin(ctx, opCreateBatch)
	res, err := c.createBatch(ctx, recs)
	if cl.span != nil {
		failed := 0
		for i := range res {
			if res[i].Err != nil {
				failed++
			}
		}
		cl.set(semconv.DBOperationBatchSizeKey.Int(len(recs)), AttrBatchFailed.Int(failed))
	}
	cl.end(ctx, err)
	return res, err
}

// Get implements Repository.
func (c *Collection[T]) Get(ctx context.Context, id string) (T, error) {
	if c.obs.idle() { // the body of get, without one more copy of the record
		if err := c.checkID("Get", id); err != nil {
			var zero T
			return zero, err
		}
		rec, err := c.drv.Get(ctx, id)
		return rec, c.fail("Get", id, err)
	}
	ctx, cl := c.obs.begin(ctx, opGet)
	rec, err := c.get(ctx, id)
	if err == nil {
		cl.rows(1)
	}
	cl.end(ctx, err)
	return rec, err
}

// Update implements Repository.
func (c *Collection[T]) Update(ctx context.Context, rec T, opts ...WriteOption) (T, error) {
	ctx, cl := c.begin(ctx, opUpdate)
	out, err := c.update(ctx, rec, opts...)
	cl.end(ctx, err)
	return out, err
}

// Upsert implements Repository.
func (c *Collection[T]) Upsert(ctx context.Context, rec T) (T, error) {
	ctx, cl := c.begin(ctx, opUpsert)
	out, err := c.upsert(ctx, rec)
	cl.end(ctx, err)
	return out, err
}

// Delete implements Repository.
func (c *Collection[T]) Delete(ctx context.Context, id string, opts ...WriteOption) error {
	ctx, cl := c.begin(ctx, opDelete)
	err := c.delete(ctx, id, opts...)
	cl.end(ctx, err)
	return err
}

// Exists implements Repository.
func (c *Collection[T]) Exists(ctx context.Context, id string) (bool, error) {
	ctx, cl := c.begin(ctx, opExists)
	ok, err := c.exists(ctx, id)
	cl.end(ctx, err)
	return ok, err
}

// Find implements Repository.
func (c *Collection[T]) Find(ctx context.Context, q query.Query[T]) ([]T, error) {
	if c.obs.idle() {
		return c.find(ctx, &q)
	}
	ctx, cl := c.obs.begin(ctx, opFind)
	out, err := c.find(ctx, &q)
	if err == nil {
		cl.rows(len(out))
	}
	cl.end(ctx, err)
	return out, err
}

// Count implements Repository.
func (c *Collection[T]) Count(ctx context.Context, q query.Query[T]) (int64, error) {
	ctx, cl := c.begin(ctx, opCount)
	n, err := c.count(ctx, q)
	cl.end(ctx, err)
	return n, err
}

// Page implements Repository.
func (c *Collection[T]) Page(ctx context.Context, q query.Query[T], cursor string) (Page[T], error) {
	ctx, cl := c.begin(ctx, opPage)
	p, err := c.page(ctx, q, cursor)
	if err == nil {
		cl.rows(len(p.Items))
	}
	cl.end(ctx, err)
	return p, err
}

// Stream implements Repository. Each iteration of the sequence is one span, from the first
// read to the end of the records, an error or the caller's break (repokit.stream.broken).
func (c *Collection[T]) Stream(ctx context.Context, q query.Query[T]) iter.Seq2[T, error] {
	spec, err := c.spec("Stream", q)
	return func(yield func(T, error) bool) {
		ctx, cl := c.begin(ctx, opStream)
		n, broken := 0, false
		var ferr error
		defer func() {
			cl.rows(n)
			if broken {
				cl.set(AttrStreamBroken.Bool(true))
			}
			cl.end(ctx, ferr)
		}()
		if err != nil {
			var zero T
			ferr = err
			yield(zero, err)
			return
		}
		for rec, err := range c.drv.Query(ctx, &spec) {
			if err != nil {
				var zero T
				ferr = c.fail("Stream", "", err)
				yield(zero, ferr)
				return
			}
			n++
			if !yield(rec, nil) {
				broken = true
				return
			}
		}
	}
}
