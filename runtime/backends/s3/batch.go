package s3

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/repokit/repokit/runtime/repo"
)

// The batch methods below are S3-specific extensions, reached through
// Collection.Driver().(*s3.Driver[T]). The Collection does not see these calls, so each
// method runs the Collection's own input checks itself (repo.CheckID, repo.Prepare: the
// same ids and records are accepted, a uuid id must be canonical) and names the record and
// the operation in its errors (repo.Annotate), like the Collection does. Like Insert they
// run at most Concurrency requests at once, return one result per item and, when ctx ends,
// stop starting requests, give the items not done the context error and return it.

// deleteChunk is the most keys one DeleteObjects request takes (S3's limit).
const deleteChunk = 1000

// GetBatch reads the records with the given ids. recs[i] is the record of ids[i] when
// res[i].Err is nil; a missing record gets ErrNotFound, an invalid id ErrInvalidInput.
func (d *Driver[T]) GetBatch(ctx context.Context, ids []string) (recs []T, res []repo.Result, err error) {
	const op = "GetBatch"
	recs = make([]T, len(ids))
	res = make([]repo.Result, len(ids))
	err = d.each(ctx, len(ids), func(ctx context.Context, i int) {
		res[i].ID = ids[i]
		if res[i].Err = repo.CheckID(d.desc, op, ids[i]); res[i].Err != nil {
			return
		}
		recs[i], res[i].Err = d.Get(ctx, ids[i])
		if res[i].Err != nil {
			res[i].Err = repo.Annotate(d.desc, op, ids[i], res[i].Err)
			return
		}
		res[i].Version = d.desc.GetVersion(&recs[i])
	}, func(i int, err error) { res[i] = repo.Result{ID: ids[i], Err: repo.Annotate(d.desc, op, ids[i], err)} })
	return recs, res, repo.Annotate(d.desc, op, "", err)
}

// UpsertBatch creates or replaces every record, checked, validated and normalized like
// Collection.Upsert does (ids are generated when the schema allows it). A record repeating a
// unique value of an earlier record of the batch (with another id) waits for it and gets
// ErrAlreadyExists, without a request, when that record was stored. Records with the same id
// are written one after the other, in batch order: the last one is what is stored, as with a
// sequence of Upserts.
func (d *Driver[T]) UpsertBatch(ctx context.Context, recs []T) ([]repo.Result, error) {
	const op = "UpsertBatch"
	res := make([]repo.Result, len(recs))
	var b *uniqueBatch[T]
	var prepared []T
	if len(d.uniq) > 0 || d.repeatsID(recs) {
		// Ids and values must be known before any record is sent, to order the records that
		// share a value or an id.
		prepared = make([]T, len(recs))
		for i := range recs {
			prepared[i] = recs[i]
			res[i].Err = d.prepareUpsert(op, &prepared[i], &res[i])
		}
		b = d.newUniqueBatch(len(recs), func(i int) *T { return &prepared[i] })
	}
	err := d.each(ctx, len(recs), func(ctx context.Context, i int) {
		var r T
		if b == nil {
			r = recs[i]
			if res[i].Err = d.prepareUpsert(op, &r, &res[i]); res[i].Err != nil {
				return
			}
		} else {
			defer b.finish(i)
			if res[i].Err != nil {
				return
			}
			if err := b.wait(ctx, i, func(k int) bool { return res[k].Err == nil }); err != nil {
				res[i].Err = repo.Annotate(d.desc, op, res[i].ID, err)
				return
			}
			r = prepared[i]
		}
		if err := d.Upsert(ctx, &r); err != nil {
			res[i].Err = repo.Annotate(d.desc, op, res[i].ID, err)
			return
		}
		res[i].Version = d.desc.GetVersion(&r)
	}, func(i int, err error) {
		id := d.desc.GetID(&recs[i])
		if prepared != nil {
			id = d.desc.GetID(&prepared[i])
		}
		res[i] = repo.Result{ID: id, Err: repo.Annotate(d.desc, op, id, err)}
	})
	return res, repo.Annotate(d.desc, op, "", err)
}

// repeatsID reports whether two records of recs have the same id (records without one get a
// new id each).
func (d *Driver[T]) repeatsID(recs []T) bool {
	seen := make(map[string]struct{}, len(recs))
	for i := range recs {
		id := d.desc.GetID(&recs[i])
		if _, dup := seen[id]; dup && id != "" {
			return true
		}
		seen[id] = struct{}{}
	}
	return false
}

// prepareUpsert checks and prepares r for UpsertBatch like Collection.Upsert does, and sets
// res.ID to its id (generated when r has none and the schema allows it).
func (d *Driver[T]) prepareUpsert(op string, r *T, res *repo.Result) error {
	res.ID = d.desc.GetID(r)
	if res.ID != "" {
		if err := repo.CheckID(d.desc, op, res.ID); err != nil {
			return err
		}
	}
	if err := repo.Prepare(d.desc, op, r, true); err != nil {
		return err
	}
	res.ID = d.desc.GetID(r)
	return nil
}

// DeleteBatch deletes the records with the given ids with DeleteObjects, up to 1000 keys
// per request, several requests at once. Like S3 itself it does not report ids that have
// no record: deleting a missing record succeeds. An invalid id gets ErrInvalidInput and is
// not sent.
func (d *Driver[T]) DeleteBatch(ctx context.Context, ids []string) ([]repo.Result, error) {
	const op = "DeleteBatch"
	res := make([]repo.Result, len(ids))
	valid := make([]int, 0, len(ids))
	for i, id := range ids {
		res[i].ID = id
		if res[i].Err = repo.CheckID(d.desc, op, id); res[i].Err == nil {
			valid = append(valid, i)
		}
	}
	chunks := (len(valid) + deleteChunk - 1) / deleteChunk
	err := d.each(ctx, chunks, func(ctx context.Context, c int) {
		part := valid[c*deleteChunk : min((c+1)*deleteChunk, len(valid))]
		objs := make([]types.ObjectIdentifier, len(part))
		byKey := make(map[string]int, len(part))
		for j, i := range part {
			k := d.Key(ids[i])
			objs[j] = types.ObjectIdentifier{Key: aws.String(k)}
			byKey[k] = i
		}
		out, err := d.api.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: &d.bucket, Delete: &types.Delete{Objects: objs, Quiet: aws.Bool(true)},
		})
		if err != nil {
			err = d.mapErr(ctx, err)
			for _, i := range part {
				res[i].Err = repo.Annotate(d.desc, op, ids[i], err)
			}
			return
		}
		for _, e := range out.Errors {
			if i, ok := byKey[aws.ToString(e.Key)]; ok {
				res[i].Err = repo.Annotate(d.desc, op, ids[i], repo.E(repo.ErrUnavailable,
					fmt.Errorf("s3: DeleteObjects: %s: %s", aws.ToString(e.Code), aws.ToString(e.Message))))
			}
		}
	}, func(c int, err error) {
		for _, i := range valid[c*deleteChunk : min((c+1)*deleteChunk, len(valid))] {
			res[i].Err = repo.Annotate(d.desc, op, ids[i], err)
		}
	})
	return res, repo.Annotate(d.desc, op, "", err)
}
