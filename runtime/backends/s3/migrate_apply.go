package s3

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// applier is one Apply under the lock: the state it read and the ETag to write it with.
type applier struct {
	m    *Migrator
	lock *migLock
	st   *migState
	etag string
	from int64 // the From of the rewrite this Apply records (see rewriteState)
}

// Apply implements migrate.Migrator. Under the package's lock object it applies every
// pending version in order: moves of renamed records' objects, deletion of dropped records,
// and for a new unique field a pass that reserves the value of every object (failing,
// without recording the version, when stored records share one: it names them); then it
// records the version. Last it rewrites the objects older than the newest version
// (conditional PUTs: an object written meanwhile is left as its writer wrote it), from the
// checkpoint of an earlier Apply that did not finish. It returns the versions it applied.
//
// Versions applied over a store that had one are followed by a wait of the grace
// (WithOlderCodeGrace, default migrate.DefaultOlderCodeGrace) from the first one recorded,
// so that drivers of the previous version still running read the new version before code
// started after Apply writes (see migrate.DefaultOlderCodeRecheck).
func (m *Migrator) Apply(ctx context.Context) ([]int64, error) {
	applied, recorded, err := m.apply(ctx)
	if err == nil {
		err = migrate.WaitGrace(ctx, recorded, m.o.grace)
	}
	return applied, err
}

// apply is Apply without the grace; recorded is when it recorded its first version over a
// store that had one (zero otherwise).
func (m *Migrator) apply(ctx context.Context) (applied []int64, recorded time.Time, err error) {
	lock, err := acquireLock(ctx, m.api, m.bucket, lockKey(m.prefix, m.pkg), m.o.lease, m.o.poll)
	if err != nil {
		return nil, recorded, m.mapErr(ctx, err)
	}
	defer lock.release()
	st, etag, err := m.state(ctx)
	if err != nil {
		return nil, recorded, err
	}
	if st.current() > m.h.Version() {
		return nil, recorded, repo.Errorf(repo.ErrInvalidInput, fmt.Sprintf("s3: package %s: the store is at version %d, newer than this program's history (%d)", m.pkg, st.current(), m.h.Version()))
	}
	if err := m.checkMoves(m.h.After(st.current())); err != nil {
		return nil, recorded, err
	}
	st.Package = m.pkg
	a := &applier{m: m, lock: lock, st: st, etag: etag, from: rewriteFrom(st, st.current())}
	if m.o.rewriteAll { // every record: objects of older code may be behind any record's last change
		a.from = 0
		if rw := st.Rewrite; rw != nil && rw.Before == 0 {
			rw.From = 0
		}
	}
	from := st.current()
	for _, mg := range m.h.After(st.current()) {
		if err := a.version(ctx, mg); err != nil {
			return applied, recorded, fmt.Errorf("s3: package %s: migration %s: %w", m.pkg, mg.BaseName(), err)
		}
		applied = append(applied, mg.Version)
		if from > 0 && recorded.IsZero() {
			recorded = time.Now()
		}
	}
	if v := m.h.Version(); a.st.Rewrite == nil && m.o.rewriteAll && v > 0 {
		a.st.Rewrite = &rewriteState{Version: v}
	}
	if a.st.Rewrite != nil && !m.o.noRewrite {
		if err := a.rewrite(ctx); err != nil {
			return applied, recorded, fmt.Errorf("s3: package %s: rewrite: %w", m.pkg, err)
		}
	}
	return applied, recorded, nil
}

// version applies one migration and records it.
func (a *applier) version(ctx context.Context, mg *migrate.Migration) error {
	m := a.m
	before := m.h.State(mg.Version - 1)
	newest := &m.h.Last().Schema
	reserve := map[string]bool{}
	for _, c := range mg.Changes {
		switch c.Kind {
		case migrate.ChangePrefix:
			step := fmt.Sprintf("move %s objects from %s/ to %s/", c.Record, c.From, c.To)
			if err := m.move(ctx, mg.Version, step, joinPrefix(m.prefix, c.From)+"/", joinPrefix(m.prefix, c.To)+"/"); err != nil {
				return err
			}
			if r := newest.Record(c.Record); r != nil && len(uniqueNames(r)) > 0 {
				reserve[c.Record] = true // the reservations live under the record's prefix
			}
		case migrate.DropRecord:
			if r := before.Record(c.Record); r != nil {
				for _, p := range []string{m.recordPrefix(r), m.uniquePrefix(r)} {
					if err := m.deletePrefix(ctx, p); err != nil {
						return err
					}
				}
			}
		case migrate.AddUnique:
			reserve[c.Record] = true
		}
	}
	for i := range newest.Records {
		r := &newest.Records[i]
		if !reserve[r.Name] {
			continue
		}
		after := ""
		if rw := a.st.Rewrite; rw != nil && rw.Before == mg.Version && rw.Record == r.Name && rw.Version == m.h.Version() {
			after = rw.After // the checkpoint of an earlier apply
		}
		err := m.pass(ctx, mg.Version, r, after, false, func(last string) error {
			a.st.Rewrite = &rewriteState{Version: m.h.Version(), Before: mg.Version, Record: r.Name, After: last}
			return a.save(ctx)
		})
		if err != nil {
			return err
		}
	}
	a.st.Applied = append(a.st.Applied, appliedVersion{Version: mg.Version, Name: mg.Name, At: time.Now().UTC(), Changes: mg.Changes})
	a.st.Rewrite = &rewriteState{Version: m.h.Version(), From: a.from}
	return a.save(ctx)
}

// save writes the state, conditionally on the ETag it was read with.
func (a *applier) save(ctx context.Context) error {
	if err := a.lock.check(); err != nil {
		return err
	}
	etag, err := putJSON(ctx, a.m.api, a.m.bucket, stateKey(a.m.prefix, a.m.pkg), a.st, a.etag)
	if err != nil {
		if isPrecondition(err) || isConditionalConflict(err) {
			return errors.New("the migration state was changed by another applier while this one held the lock")
		}
		return a.m.mapErr(ctx, err)
	}
	a.etag = etag
	return nil
}

// rewrite rewrites every record's old objects, from the checkpoint, saving the checkpoint
// after every chunk.
func (a *applier) rewrite(ctx context.Context) error {
	m := a.m
	v := m.h.Version()
	recs := m.h.Last().Schema.Records
	if len(recs) == 0 {
		a.st.Rewrite = nil
		return a.save(ctx)
	}
	rw := *a.st.Rewrite
	if rw.Version != v {
		rw = rewriteState{Version: v} // a newer version since: from the start
	}
	start := 0
	for i := range recs {
		if recs[i].Name == rw.Record {
			start = i
		}
	}
	if start == 0 && rw.Record != recs[0].Name {
		rw.After = ""
	}
	for i := start; i < len(recs); i++ {
		r := &recs[i]
		if rw.From > 0 && m.formSince(r.Name, v) <= rw.From {
			continue // no migration since the store's version changed it: its objects are current
		}
		after := ""
		if i == start {
			after = rw.After
		}
		err := m.pass(ctx, v, r, after, true, func(last string) error {
			a.st.Rewrite = &rewriteState{Version: v, Record: r.Name, After: last, From: rw.From}
			return a.save(ctx)
		})
		if err != nil {
			return err
		}
	}
	a.st.Rewrite = nil
	return a.save(ctx)
}

// pass goes through the objects of r (under its newest prefix) from key after: with write,
// it rewrites those older than the newest version, reserving their unique values; without,
// it only reserves the unique values of every object. checkpoint, when set, is called with
// the last key of every chunk once the chunk is done.
func (m *Migrator) pass(ctx context.Context, version int64, r *migrate.Record, after string, write bool, checkpoint func(last string) error) error {
	up, err := m.h.Upgrader(r.Name)
	if err != nil {
		return err
	}
	prefix := m.recordPrefix(r)
	var dups dupList
	step := fmt.Sprintf("rewrite %s objects to version %d", r.Name, up.Version())
	if !write {
		step = fmt.Sprintf("reserve the unique values of %s objects", r.Name)
	}
	uniq := uniqueNames(r)
	since := m.formSince(r.Name, up.Version())
	err = m.forEachObject(ctx, prefix, after, func(ctx context.Context, key string) error {
		return m.rewriteOne(ctx, r, up, uniq, since, prefix, key, write, &dups)
	}, m.reporter(version, step, checkpoint))
	if err != nil {
		return err
	}
	return dups.err(r.Name)
}

// reporter returns the per-chunk callback of a step: checkpoint, then progress.
func (m *Migrator) reporter(version int64, step string, checkpoint func(string) error) func(string, int64) error {
	start := time.Now()
	return func(last string, done int64) error {
		if checkpoint != nil {
			if err := checkpoint(last); err != nil {
				return err
			}
		}
		if m.o.progress != nil {
			m.o.progress(migrate.Progress{Version: version, Step: step, Done: done, Elapsed: time.Since(start)})
		}
		return nil
	}
}

// forEachObject calls fn for every record object under prefix after key after, at most
// the migrator's concurrency at once, a chunk of listed keys at a time; chunk is called with
// the last key of each chunk and the number of objects done so far, once the chunk is done.
// The first error stops it.
func (m *Migrator) forEachObject(ctx context.Context, prefix, after string, fn func(ctx context.Context, key string) error, chunk func(last string, done int64) error) error {
	ld := &Driver[struct{}]{lease: m.lease, api: m.api, bucket: m.bucket, prefix: prefix, conc: m.o.conc}
	var keys []string
	var done int64
	var ferr error
	flush := func() bool {
		errs := make([]error, len(keys))
		err := ld.each(ctx, len(keys), func(ctx context.Context, i int) { errs[i] = fn(ctx, keys[i]) }, func(int, error) {})
		for _, e := range append(errs, err) {
			if e != nil {
				ferr = e
				return false
			}
		}
		done += int64(len(keys))
		if chunk != nil {
			if ferr = chunk(keys[len(keys)-1], done); ferr != nil {
				return false
			}
		}
		keys = keys[:0]
		return true
	}
	ld.listFrom(ctx, after, func(key, _ string, err error) bool {
		if err != nil {
			ferr = err
			return false
		}
		keys = append(keys, key)
		return len(keys) < m.o.chunk || flush()
	})
	if ferr == nil && len(keys) > 0 {
		flush()
	}
	if ferr == nil {
		ferr = ctx.Err()
	}
	return ferr
}

// getObject reads the object at key (the byte range rng of it, "" for all): its body and
// ETag; errGone when there is none.
func (m *Migrator) getObject(ctx context.Context, key, rng string) ([]byte, string, error) {
	body, etag, found, err := readObject(ctx, m.api, m.bucket, key, rng)
	if err != nil {
		return nil, "", m.mapErr(ctx, err)
	}
	if !found {
		return nil, "", errGone
	}
	return body, etag, nil
}

// headVersion returns the schema version of the object at key from its first bytes; 0 when
// it is gone.
func (m *Migrator) headVersion(ctx context.Context, key string) (int64, error) {
	body, _, err := m.getObject(ctx, key, "bytes=0-"+strconv.Itoa(revPrefixLen+len(schemaOpen)+20))
	if errors.Is(err, errGone) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return objectVersion(body), nil
}

// putRaw writes body at key with the given conditions. Errors are the SDK's, unmapped.
func (m *Migrator) putRaw(ctx context.Context, key string, body []byte, ifMatch, ifNoneMatch *string) error {
	_, err := m.api.PutObject(ctx, &s3.PutObjectInput{Bucket: &m.bucket, Key: &key, Body: strings.NewReader(string(body)),
		ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String("application/json"), IfMatch: ifMatch, IfNoneMatch: ifNoneMatch})
	return err
}

// stamp returns doc (an upgraded JSON object) as an object body of version v: a fresh
// "@rev", then "@schema", like Driver.encode writes.
func stamp(doc []byte, v int64) []byte {
	out := make([]byte, 0, len(doc)+64)
	out = append(out, revOpen...)
	out = append(out, record.NewID()...)
	out = append(out, '"')
	out = append(out, schemaOpen...)
	out = strconv.AppendInt(out, v, 10)
	if len(doc) > 2 {
		out = append(out, ',')
	}
	return append(out, doc[1:]...)
}

// maxRewriteAttempts bounds how often rewriteOne reads an object again after a concurrent
// write of older code (which leaves it old) beat its conditional PUT.
const maxRewriteAttempts = 3

// rewriteOne upgrades the object at key to the newest version, reserving its unique values
// first, unless it was written at version since (formSince) or later; without write, it
// only reserves them (at any version). A concurrent write wins:
// when the conditional PUT fails, the object is read again and left alone if its writer
// wrote the newest version.
func (m *Migrator) rewriteOne(ctx context.Context, r *migrate.Record, up *migrate.Upgrader, uniq []string, since int64, prefix, key string, write bool, dups *dupList) error {
	id, ok := UnescapeID(key[len(prefix):])
	if !ok {
		return nil
	}
	target := up.Version()
	for range maxRewriteAttempts {
		body, etag, err := m.getObject(ctx, key, "")
		if errors.Is(err, errGone) {
			return nil
		}
		if err != nil {
			return err
		}
		v := objectVersion(body)
		if write && v >= since {
			return nil // written at a version with the newest stored form (formSince)
		}
		doc, err := up.UpgradeJSON(body, v, revMember, schemaMember)
		if err != nil {
			return fmt.Errorf("object %s: %w", key, err)
		}
		if len(uniq) > 0 {
			vals, err := migrate.DecodeDocument(doc)
			if err != nil {
				return fmt.Errorf("object %s: %w", key, err)
			}
			for _, f := range uniq {
				c, ok := canonJSON(r.Field(f).Type, vals[f])
				if !ok {
					continue
				}
				if err := m.reserve(ctx, r, up, f, c, id, write); err != nil {
					var d *dupValue
					if errors.As(err, &d) {
						dups.add(*d)
						return nil
					}
					return err
				}
			}
		}
		if !write {
			return nil
		}
		err = m.putRaw(ctx, key, stamp(doc, target), aws.String(etag), nil)
		switch {
		case err == nil, isNotFound(err):
			return nil
		case isPrecondition(err) || isConditionalConflict(err):
			continue // written meanwhile: look again
		}
		return m.mapErr(ctx, err)
	}
	return nil // older code keeps writing it: left for the next rewrite (Status: drift)
}

// move copies every object under from to the same key under to (an object already there,
// written by newer code, wins) and deletes the original.
func (m *Migrator) move(ctx context.Context, version int64, step, from, to string) error {
	return m.forEachObject(ctx, from, "", func(ctx context.Context, key string) error {
		body, _, err := m.getObject(ctx, key, "")
		if errors.Is(err, errGone) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := m.putRaw(ctx, to+key[len(from):], body, nil, aws.String("*")); err != nil && !isPrecondition(err) && !isConditionalConflict(err) {
			return m.mapErr(ctx, err)
		}
		if _, err := m.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &m.bucket, Key: &key}); err != nil && !isNotFound(err) {
			return m.mapErr(ctx, err)
		}
		return nil
	}, m.reporter(version, step, nil))
}

// deletePrefix deletes every object under prefix, sub-"directories" included.
func (m *Migrator) deletePrefix(ctx context.Context, prefix string) error {
	p := s3.NewListObjectsV2Paginator(m.api, &s3.ListObjectsV2Input{Bucket: &m.bucket, Prefix: &prefix, MaxKeys: aws.Int32(deleteChunk)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return m.mapErr(ctx, err)
		}
		if len(page.Contents) == 0 {
			continue
		}
		ids := make([]types.ObjectIdentifier, len(page.Contents))
		for i, o := range page.Contents {
			ids[i] = types.ObjectIdentifier{Key: o.Key}
		}
		out, err := m.api.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &m.bucket, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return m.mapErr(ctx, err)
		}
		if len(out.Errors) > 0 {
			return repo.E(repo.ErrUnavailable, fmt.Errorf("s3: DeleteObjects: %d objects under %s not deleted: %s", len(out.Errors), prefix, aws.ToString(out.Errors[0].Message)))
		}
	}
	return nil
}
