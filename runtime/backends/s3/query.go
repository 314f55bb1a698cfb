package s3

import (
	"context"
	"iter"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/repokit/repokit/runtime/eval"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// listPageSize is the MaxKeys of every ListObjectsV2 request (S3's maximum).
const listPageSize = 1000

// fetched is one object of a scan, in key order: done is closed once rec or err is set.
type fetched[T any] struct {
	key  string
	etag string // as listed
	rec  *T     // nil with err nil: the object was deleted after it was listed
	err  error
	done chan struct{}
}

// scan yields the records under the prefix whose ids are in r, in key (= id) order. One
// goroutine lists the
// prefix page by page; Concurrency goroutines read the objects; the consumer takes them in
// listing order. At most 2×Concurrency objects are listed ahead of the consumer, so memory
// is bounded by the concurrency (plus one listing page of keys), not by the number of
// objects. Stopping the iteration cancels every request and waits for the goroutines.
func (d *Driver[T]) scan(ctx context.Context, r idRange) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer func() {
			cancel()
			wg.Wait()
		}()
		jobs := make(chan *fetched[T])
		order := make(chan *fetched[T], 2*d.conc)
		wg.Add(1 + d.conc)
		go func() {
			defer wg.Done()
			defer close(order)
			defer close(jobs)
			d.listFrom(ctx, d.startAfter(r), func(key, etag string, err error) bool {
				if err == nil && d.past(r, key) {
					return false
				}
				f := &fetched[T]{key: key, etag: etag, err: err, done: make(chan struct{})}
				if err == nil {
					f.rec = d.cache.get(key, etag)
				}
				if err != nil || f.rec != nil {
					close(f.done)
				}
				select {
				case order <- f:
				case <-ctx.Done():
					return false
				}
				if err != nil {
					return false
				}
				if f.rec != nil {
					return true
				}
				select {
				case jobs <- f:
					return true
				case <-ctx.Done():
					return false
				}
			})
		}()
		for range d.conc {
			go func() {
				defer wg.Done()
				for f := range jobs {
					f.rec, f.err = d.get(ctx, f.key)
					if f.rec != nil {
						d.cache.put(f.key, d.desc.GetVersion(f.rec), f.rec)
					}
					close(f.done)
				}
			}()
		}
		for f := range order {
			select {
			case <-f.done:
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			}
			if f.err != nil {
				yield(nil, f.err)
				return
			}
			if f.rec == nil {
				continue
			}
			if !yield(f.rec, nil) {
				return
			}
		}
		if err := ctx.Err(); err != nil {
			yield(nil, err)
		}
	}
}

// list calls fn with every key under the prefix, in order, until fn returns false. A
// listing error is passed to fn as the last call. Keys that are not escaped ids (an empty
// "folder" object, anything in a sub-"directory") are not records and are skipped.
//
// The listing stops at "/" (it does not descend into other records' prefixes nested in this
// one), so the keys of long ids, cut into segments (see EscapeID), come as common prefixes
// of one full segment each: in their place in key order, each is listed in full.
func (d *Driver[T]) list(ctx context.Context, fn func(key, etag string, err error) bool) {
	d.listFrom(ctx, "", fn)
}

// listFrom is list of the keys after key after ("": from the first key), each LIST
// resuming where the previous one ended (StartAfter, then the SDK's continuation tokens):
// walking a prefix from a cursor costs the LIST pages from that cursor, not from the start.
//
// A key inside a long-id "directory" (a first segment and its cut, see EscapeID) needs care:
// a listing with a delimiter and a StartAfter inside that directory does not return the
// directory at all (MinIO; a common prefix that sorts before StartAfter), so listFrom first
// lists the rest of that directory itself and then goes on after it.
func (d *Driver[T]) listFrom(ctx context.Context, after string, fn func(key, etag string, err error) bool) {
	in := &s3.ListObjectsV2Input{
		Bucket:    &d.bucket,
		Prefix:    aws.String(d.prefix),
		Delimiter: aws.String("/"),
		MaxKeys:   aws.Int32(listPageSize),
	}
	if after != "" {
		if dir, ok := d.longDir(after); ok {
			if !d.listDir(ctx, dir, after, fn) {
				return
			}
			// Just after every key under dir: "!0" sorts right after "!/", and no key has
			// a "!" that is not followed by "/".
			after = dir[:len(dir)-1] + "0"
		}
		in.StartAfter = aws.String(after)
	}
	p := s3.NewListObjectsV2Paginator(d.api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			fn("", "", d.mapErr(ctx, err))
			return
		}
		objs, dirs := page.Contents, page.CommonPrefixes
		for len(objs) > 0 || len(dirs) > 0 {
			if len(dirs) == 0 || (len(objs) > 0 && aws.ToString(objs[0].Key) < aws.ToString(dirs[0].Prefix)) {
				if !d.listed(objs[0], fn) {
					return
				}
				objs = objs[1:]
				continue
			}
			dir := aws.ToString(dirs[0].Prefix)
			dirs = dirs[1:]
			if len(dir) != len(d.prefix)+segmentBytes+len(cut) || !strings.HasSuffix(dir, cut) {
				continue // not the first segment of long ids
			}
			if !d.listDir(ctx, dir, "", fn) {
				return
			}
		}
	}
}

// longDir returns the long-id directory (the record prefix, a first segment of 254 bytes and
// its cut) that key is in, if it is in one. key starts with the record prefix.
func (d *Driver[T]) longDir(key string) (string, bool) {
	rel := key[len(d.prefix):]
	if len(rel) < segmentBytes+len(cut) || rel[segmentBytes:segmentBytes+len(cut)] != cut {
		return "", false
	}
	return key[:len(d.prefix)+segmentBytes+len(cut)], true
}

// listDir passes every key under the long-id directory dir after key after ("": all) to fn,
// without a delimiter (a key may have more than two segments), and reports whether to go on.
func (d *Driver[T]) listDir(ctx context.Context, dir, after string, fn func(key, etag string, err error) bool) bool {
	in := &s3.ListObjectsV2Input{Bucket: &d.bucket, Prefix: aws.String(dir), MaxKeys: aws.Int32(listPageSize)}
	if after != "" {
		in.StartAfter = aws.String(after)
	}
	sub := s3.NewListObjectsV2Paginator(d.api, in)
	for sub.HasMorePages() {
		page, err := sub.NextPage(ctx)
		if err != nil {
			fn("", "", d.mapErr(ctx, err))
			return false
		}
		for _, o := range page.Contents {
			if !d.listed(o, fn) {
				return false
			}
		}
	}
	return true
}

// listed passes o to fn if its key is a record's (see list) and reports whether to go on.
func (d *Driver[T]) listed(o types.Object, fn func(key, etag string, err error) bool) bool {
	key := aws.ToString(o.Key)
	if _, ok := UnescapeID(key[len(d.prefix):]); !ok {
		return true
	}
	return fn(key, aws.ToString(o.ETag), nil)
}

// idOrdered reports whether the spec's order is ascending id order (its first sort key is
// the id, ascending), the order in which S3 lists the keys.
func (d *Driver[T]) idOrdered(spec *query.Spec) bool {
	return len(spec.Sort) == 0 || (spec.Sort[0].Field == d.desc.ID().Name && !spec.Sort[0].Desc)
}

// Query implements repo.Driver. Queries in ascending id order (the default) stream in
// listing order: memory is bounded by the concurrency, and listing stops once offset+limit
// records matched. Other orders must see every match before yielding the first: with a
// limit they keep only the offset+limit smallest matches (eval.TopK, a bounded heap),
// without one they hold every match. In any order, the listing covers only the filter's id
// range (idRange: the keys after a Page cursor in id order, an id BETWEEN, ...).
func (d *Driver[T]) Query(ctx context.Context, spec *query.Spec) iter.Seq2[T, error] {
	plan, err := eval.NewPlan(d.desc, spec)
	if err != nil {
		return repo.ErrorSeq[T](repo.E(repo.ErrInvalidInput, err))
	}
	ids := d.idRangeOf(spec.Filter)
	return func(yield func(T, error) bool) {
		var zero T
		if d.idOrdered(spec) {
			skip, left := spec.Offset, spec.Limit
			for rec, err := range d.scan(ctx, ids) {
				if err != nil {
					yield(zero, err)
					return
				}
				if !plan.Match(rec) {
					continue
				}
				if skip > 0 {
					skip--
					continue
				}
				if !yield(plan.Output(rec), nil) {
					return
				}
				if left--; left == 0 {
					return
				}
			}
			return
		}
		top := plan.TopK()
		for rec, err := range d.scan(ctx, ids) {
			if err != nil {
				yield(zero, err)
				return
			}
			if plan.Match(rec) {
				top.Add(rec)
			}
		}
		plan.Yield(ctx, top.Window(), yield)
	}
}

// Count implements repo.Driver. Without a filter it only lists the keys; with one it reads
// every object (concurrently) and evaluates the filter.
func (d *Driver[T]) Count(ctx context.Context, filter query.Expr) (int64, error) {
	var n int64
	if filter.IsAll() {
		var lerr error
		d.list(ctx, func(_, _ string, err error) bool {
			if err != nil {
				lerr = err
				return false
			}
			n++
			return true
		})
		if lerr != nil {
			return 0, lerr
		}
		return n, ctx.Err()
	}
	pred, err := eval.Compile(d.desc, filter)
	if err != nil {
		return 0, repo.E(repo.ErrInvalidInput, err)
	}
	for rec, err := range d.scan(ctx, d.idRangeOf(filter)) {
		if err != nil {
			return 0, err
		}
		if pred(rec) {
			n++
		}
	}
	return n, nil
}
