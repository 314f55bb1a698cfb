package s3

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/repokit/repokit/runtime/eval"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// The bulk driver interfaces of package repo (bulkdriver.go): the Collection's GetBatch,
// UpsertBatch, UpdateBatch, DeleteBatch and DeleteWhere come here with prepared input
// (valid records, distinct ids). Like Insert they run at most Concurrency requests at once,
// fill a result per item and, when ctx ends, stop starting requests, give the items not done
// the context error and return it. Each item is written exactly as the single call would
// write it (unique values, conditions, a lost answer read back: see put and unique.go).
var _ repo.BulkDriver[struct{}] = (*Driver[struct{}])(nil)

// deleteChunk is the most keys one DeleteObjects request takes (S3's limit).
const deleteChunk = 1000

// GetMany implements repo.BatchGetter with concurrent GetObjects.
func (d *Driver[T]) GetMany(ctx context.Context, ids []string, recs []T, res []repo.Result) error {
	return d.each(ctx, len(ids), func(ctx context.Context, i int) {
		res[i].ID = ids[i]
		rec, err := d.get(ctx, d.Key(ids[i]))
		switch {
		case err != nil:
			res[i].Err = err
		case rec == nil:
			res[i].Err = repo.E(repo.ErrNotFound, nil)
		default:
			recs[i] = *rec
			res[i].Version = d.desc.GetVersion(rec)
		}
	}, func(i int, err error) { res[i] = repo.Result{ID: ids[i], Err: err} })
}

// UpsertMany implements repo.BatchUpserter: an item without a version is an Upsert (an
// unconditional PutObject), one with a version an Update with it (If-Match).
func (d *Driver[T]) UpsertMany(ctx context.Context, recs []T, ifVersion []string, res []repo.Result) error {
	return d.writeMany(ctx, recs, ifVersion, res, func(ctx context.Context, rec *T, v string) error {
		if v != "" {
			return d.Update(ctx, rec, v)
		}
		return d.Upsert(ctx, rec)
	})
}

// UpdateMany implements repo.BatchUpdater: each item is an Update (If-Match with its
// version, or If-Match: * without one).
func (d *Driver[T]) UpdateMany(ctx context.Context, recs []T, ifVersion []string, res []repo.Result) error {
	return d.writeMany(ctx, recs, ifVersion, res, d.Update)
}

// writeMany runs write(ctx, &recs[i], ifVersion[i]) for every item, Concurrency at once. With
// unique fields, an item repeating a value of an earlier item waits for it and gets
// ErrAlreadyExists without a request when that item was stored, as in Insert.
func (d *Driver[T]) writeMany(ctx context.Context, recs []T, ifVersion []string, res []repo.Result, write func(context.Context, *T, string) error) error {
	for i := range recs {
		res[i].ID = d.desc.GetID(&recs[i])
	}
	do := func(ctx context.Context, i int) {
		v := ""
		if ifVersion != nil {
			v = ifVersion[i]
		}
		if res[i].Err = write(ctx, &recs[i], v); res[i].Err == nil {
			res[i].Version = d.desc.GetVersion(&recs[i])
		}
	}
	skip := func(i int, err error) { res[i].Err = err }
	if len(d.uniq) == 0 {
		return d.each(ctx, len(recs), do, skip)
	}
	b := d.newUniqueBatch(len(recs), func(i int) *T { return &recs[i] })
	return d.each(ctx, len(recs), func(ctx context.Context, i int) {
		defer b.finish(i)
		if res[i].Err = b.wait(ctx, i, func(k int) bool { return res[k].Err == nil }); res[i].Err != nil {
			return
		}
		do(ctx, i)
	}, skip)
}

// DeleteMany implements repo.BatchDeleter. DeleteObjects does not tell a missing key from a
// deleted one, so DeleteMany first reads each object's ETag (concurrent HeadObjects):
// ErrNotFound when there is none, ErrVersionConflict when the item has a version and it
// differs. It then deletes the others with DeleteObjects, up to 1000 keys a request, each
// key conditional on the ETag read (honoured where the server supports it, as AWS S3 does;
// MinIO ignores it, as it ignores If-Match on a single DELETE: see Delete). A key whose
// condition failed is, for an item with a version, ErrVersionConflict, and otherwise deleted
// again with Delete (what is there now). As with Delete, unique values the records held are
// released lazily: see docs/s3.md, "Unique fields".
func (d *Driver[T]) DeleteMany(ctx context.Context, ids []string, ifVersion []string, res []repo.Result) error {
	version := func(i int) string {
		if ifVersion == nil {
			return ""
		}
		return ifVersion[i]
	}
	etags := make([]string, len(ids))
	err := d.each(ctx, len(ids), func(ctx context.Context, i int) {
		res[i].ID = ids[i]
		etag, err := d.head(ctx, d.Key(ids[i]))
		switch v := version(i); {
		case err != nil:
			res[i].Err = err
		case etag == "":
			res[i].Err = repo.E(repo.ErrNotFound, nil)
		case v != "" && etag != v:
			res[i].Err = repo.VersionConflict(v)
		default:
			etags[i] = etag
		}
	}, func(i int, err error) { res[i] = repo.Result{ID: ids[i], Err: err} })
	var todo []int
	for i := range ids {
		if etags[i] != "" {
			if err != nil {
				res[i].Err = err // read, not deleted
				continue
			}
			todo = append(todo, i)
		}
	}
	if err != nil {
		return err
	}
	chunk := func(c int) []int { return todo[c*deleteChunk : min((c+1)*deleteChunk, len(todo))] }
	return d.each(ctx, (len(todo)+deleteChunk-1)/deleteChunk, func(ctx context.Context, c int) {
		part := chunk(c)
		objs := make([]types.ObjectIdentifier, len(part))
		for j, i := range part {
			objs[j] = types.ObjectIdentifier{Key: aws.String(d.Key(ids[i])), ETag: aws.String(etags[i])}
		}
		failed, err := d.deleteObjects(ctx, objs)
		if err != nil {
			for _, i := range part {
				res[i].Err = err
			}
			return
		}
		for j, i := range part {
			e, ok := failed[aws.ToString(objs[j].Key)]
			switch {
			case !ok:
			case e.code == "NoSuchKey":
				res[i].Err = repo.E(repo.ErrNotFound, nil)
			case e.condition() && version(i) != "":
				res[i].Err = repo.VersionConflict(version(i))
			case e.condition():
				res[i].Err = d.deleteAttempt(ctx, ids[i], "", 1) // changed since the HEAD
			default:
				res[i].Err = e.err()
			}
		}
	}, func(c int, err error) {
		for _, i := range chunk(c) {
			res[i].Err = err
		}
	})
}

// deleteError is a key's error in a DeleteObjects answer.
type deleteError struct{ code, msg string }

// condition reports whether the key's condition (its ETag) failed.
func (e deleteError) condition() bool {
	return e.code == "PreconditionFailed" || e.code == "ConditionalRequestConflict"
}

func (e deleteError) err() error {
	return repo.E(repo.ErrUnavailable, fmt.Errorf("s3: DeleteObjects: %s: %s", e.code, e.msg))
}

// deleteObjects deletes objs with one DeleteObjects request and returns the errors of the
// keys it did not delete, by key. A key that did not exist counts as deleted (S3's answer).
// err is the request's error: then nothing is known of any key.
func (d *Driver[T]) deleteObjects(ctx context.Context, objs []types.ObjectIdentifier) (map[string]deleteError, error) {
	out, err := d.api.DeleteObjects(ctx, &s3.DeleteObjectsInput{
		Bucket: &d.bucket, Delete: &types.Delete{Objects: objs, Quiet: aws.Bool(true)},
	})
	if err != nil {
		return nil, d.mapErr(ctx, err)
	}
	if len(out.Errors) == 0 {
		return nil, nil
	}
	failed := make(map[string]deleteError, len(out.Errors))
	for _, e := range out.Errors {
		failed[aws.ToString(e.Key)] = deleteError{code: aws.ToString(e.Code), msg: aws.ToString(e.Message)}
	}
	return failed, nil
}

// DeleteMatching implements repo.QueryDeleter: it lists the prefix (from the filter's id
// range, see idRange) and deletes with DeleteObjects, 1000 keys a request, up to Concurrency
// requests at once while the listing goes on. Without a filter it only lists; with one it
// reads the objects like a query and deletes each match conditionally on the ETag it read
// (where the server honours it, see DeleteMany: a record changed since is then kept). The
// count is of the keys DeleteObjects reported deleted: a record deleted by someone else
// between the listing and the request is counted too, one written after the listing passed
// its key is not deleted, one written before is. A failed request stops the call: the count
// then tells how many were deleted before.
func (d *Driver[T]) DeleteMatching(ctx context.Context, filter query.Expr) (int64, error) {
	all := filter.IsAll() || (filter.Op == query.OpInvalid && len(filter.Sub) == 0)
	var pred func(*T) bool
	if !all {
		var err error
		if pred, err = eval.Compile(d.desc, filter); err != nil {
			return 0, repo.E(repo.ErrInvalidInput, err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		deleted  atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, d.conc)
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
		mu.Unlock()
	}
	objs := make([]types.ObjectIdentifier, 0, deleteChunk)
	send := func() bool {
		if len(objs) == 0 {
			return true
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return false
		}
		part := objs
		objs = make([]types.ObjectIdentifier, 0, deleteChunk)
		wg.Go(func() {
			defer func() { <-sem }()
			failed, err := d.deleteObjects(ctx, part)
			if err != nil {
				fail(err)
				return
			}
			n := len(part)
			for _, e := range failed {
				if !e.condition() && e.code != "NoSuchKey" {
					fail(e.err())
				}
				n--
			}
			deleted.Add(int64(n))
		})
		return true
	}
	add := func(obj types.ObjectIdentifier) bool {
		objs = append(objs, obj)
		return len(objs) < deleteChunk || send()
	}
	if all {
		d.list(ctx, func(key, _ string, err error) bool {
			if err != nil {
				fail(err)
				return false
			}
			return add(types.ObjectIdentifier{Key: aws.String(key)})
		})
	} else {
		for rec, err := range d.scan(ctx, d.idRangeOf(filter)) {
			if err != nil {
				fail(err)
				break
			}
			if pred(rec) && !add(types.ObjectIdentifier{Key: aws.String(d.Key(d.desc.GetID(rec))), ETag: aws.String(d.desc.GetVersion(rec))}) {
				break
			}
		}
	}
	if ctx.Err() == nil {
		send()
	}
	wg.Wait()
	mu.Lock()
	err := firstErr
	mu.Unlock()
	if err == nil {
		err = ctx.Err()
	}
	return deleted.Load(), err
}
