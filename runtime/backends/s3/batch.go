package s3

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// The batch methods below are S3-specific extensions, reached through
// Collection.Driver().(*s3.Driver[T]). Like Insert they run at most Concurrency requests at
// once, return one result per item and, when ctx ends, stop starting requests, give the
// items not done the context error and return it.

// deleteChunk is the most keys one DeleteObjects request takes (S3's limit).
const deleteChunk = 1000

func (d *Driver[T]) checkID(id string) error {
	if id == "" {
		return repo.Errorf(repo.ErrInvalidInput, "empty id")
	}
	if err := record.CheckString(id); err != nil {
		return repo.E(repo.ErrInvalidInput, &record.FieldError{Record: d.desc.Name, Field: d.desc.ID().Name, Err: err})
	}
	return nil
}

// GetBatch reads the records with the given ids. recs[i] is the record of ids[i] when
// res[i].Err is nil; a missing record gets ErrNotFound.
func (d *Driver[T]) GetBatch(ctx context.Context, ids []string) (recs []T, res []repo.Result, err error) {
	recs = make([]T, len(ids))
	res = make([]repo.Result, len(ids))
	err = d.each(ctx, len(ids), func(ctx context.Context, i int) {
		res[i].ID = ids[i]
		if res[i].Err = d.checkID(ids[i]); res[i].Err != nil {
			return
		}
		recs[i], res[i].Err = d.Get(ctx, ids[i])
		if res[i].Err == nil {
			res[i].Version = d.desc.GetVersion(&recs[i])
		}
	}, func(i int, err error) { res[i] = repo.Result{ID: ids[i], Err: err} })
	return recs, res, err
}

// UpsertBatch creates or replaces every record (validated and normalized like Upsert; ids
// are generated when the schema allows it).
func (d *Driver[T]) UpsertBatch(ctx context.Context, recs []T) ([]repo.Result, error) {
	res := make([]repo.Result, len(recs))
	return res, d.each(ctx, len(recs), func(ctx context.Context, i int) {
		r := recs[i]
		if d.desc.GetID(&r) == "" {
			if !d.desc.IDGenerated {
				res[i].Err = repo.Errorf(repo.ErrInvalidInput, d.desc.Name+"."+d.desc.ID().Name+": id is required")
				return
			}
			d.desc.SetID(&r, record.NewID())
		}
		res[i].ID = d.desc.GetID(&r)
		if err := d.checkID(res[i].ID); err != nil {
			res[i].Err = err
			return
		}
		if err := d.desc.Prepare(&r); err != nil {
			res[i].Err = repo.E(repo.ErrInvalidInput, err)
			return
		}
		if res[i].Err = d.Upsert(ctx, &r); res[i].Err == nil {
			res[i].Version = d.desc.GetVersion(&r)
		}
	}, func(i int, err error) { res[i] = repo.Result{ID: d.desc.GetID(&recs[i]), Err: err} })
}

// DeleteBatch deletes the records with the given ids with DeleteObjects, up to 1000 keys
// per request, several requests at once. Like S3 itself it does not report ids that have
// no record: deleting a missing record succeeds.
func (d *Driver[T]) DeleteBatch(ctx context.Context, ids []string) ([]repo.Result, error) {
	res := make([]repo.Result, len(ids))
	valid := make([]int, 0, len(ids))
	for i, id := range ids {
		res[i].ID = id
		if res[i].Err = d.checkID(id); res[i].Err == nil {
			valid = append(valid, i)
		}
	}
	chunks := (len(valid) + deleteChunk - 1) / deleteChunk
	return res, d.each(ctx, chunks, func(ctx context.Context, c int) {
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
				res[i].Err = err
			}
			return
		}
		for _, e := range out.Errors {
			if i, ok := byKey[aws.ToString(e.Key)]; ok {
				res[i].Err = repo.E(repo.ErrUnavailable, fmt.Errorf("s3: DeleteObjects: %s: %s", aws.ToString(e.Code), aws.ToString(e.Message)))
			}
		}
	}, func(c int, err error) {
		for _, i := range valid[c*deleteChunk : min((c+1)*deleteChunk, len(valid))] {
			res[i].Err = err
		}
	})
}
