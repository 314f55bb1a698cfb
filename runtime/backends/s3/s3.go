package s3

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// Driver stores records of type T as JSON objects in one S3 bucket under one key prefix.
// It implements repo.Driver and is safe for concurrent use.
type Driver[T any] struct {
	desc   *record.Desc[T]
	lease  pool.Lease[*Client]
	api    *s3.Client
	bucket string
	prefix string // ends with "/"
	conc   int
	cache  *recCache[T]

	// Unique fields (unique.go): none for most records, which then pay nothing.
	uniq       []uniqueField[T]
	uprefix    string        // key prefix of the reservations, ends with "/"
	staleAfter time.Duration // WithStaleReservationAfter
	ageOffset  time.Duration // added to every reservation's age; tests only

	// Schema versions (schema.go): nil without WithMigrations.
	schema *docSchema
	// Older code (older.go): older (nil without schema) rereads the store's applied
	// version and, once the store is found to have applied versions newer than schema's,
	// returns the names known to this driver; writes then keep the stored members of the
	// others. stateKey is the key of the package's migration state.
	older    *migrate.OlderCodeKeep
	stateKey string

	fromStart bool // queries list from the prefix's start, ignoring the id range; benchmarks only
}

var _ repo.Driver[struct{}] = (*Driver[struct{}])(nil)

// Option configures a Driver.
type Option func(*options)

type options struct {
	conc       int
	prefix     *string
	cache      int
	staleAfter time.Duration
	mig        *migrations // WithMigrations
	recheck    time.Duration
}

// WithOlderCodeRecheck sets how old the driver's last read of the store's applied version
// may be before a write reads it again (default migrate.DefaultOlderCodeRecheck), so that a
// process running when a newer version is applied starts keeping what it does not know
// (see docs/migrations.md, "Older code on a newer store"). Only with WithMigrations.
func WithOlderCodeRecheck(d time.Duration) Option { return func(o *options) { o.recheck = d } }

// WithConcurrency sets how many S3 requests one batch or query runs at once (at least 1).
// The default is the config's MaxConnections, so that every concurrent request reuses a
// pooled connection.
func WithConcurrency(n int) Option { return func(o *options) { o.conc = n } }

// WithCache sets how many decoded records the driver keeps to skip re-reading objects
// whose listed ETag has not changed (default DefaultCacheSize; 0 turns the cache off). A
// query still lists every key, so results stay exact; the cache only saves GETs, which
// makes repeated queries and page walks over one prefix much cheaper. Memory grows with
// the cache size, not with the number of objects.
func WithCache(records int) Option { return func(o *options) { o.cache = records } }

// WithStaleReservationAfter sets how old a pending reservation of a unique value must be
// before another record may take it over when the record that reserved it does not hold the
// value: the write that made it may still be in flight until then (default
// DefaultStaleReservationAfter, at least 2 s). A write that reserves values must finish its
// record write within half of it, or fails with ErrUnavailable. Until then, a value whose
// write failed without an answer from the server (or crashed) between its reservation and
// its record write stays taken. See docs/s3.md, "Unique fields".
func WithStaleReservationAfter(d time.Duration) Option { return func(o *options) { o.staleAfter = d } }

// WithPrefix replaces the record's own key prefix (record.Desc.Prefix, from the schema)
// with p. The config's Prefix, when set, still comes first.
func WithPrefix(p string) Option { return func(o *options) { o.prefix = &p } }

// New returns a driver for records described by desc, with its client from m for cfg (a
// pool.S3PoolConfig or a *pool.Prepared of one). Objects live under
// <cfg.Prefix>/<desc.Prefix>/. The driver holds a lease on the client until Close.
func New[T any](ctx context.Context, m *pool.Manager, cfg pool.Config, desc *record.Desc[T], opts ...Option) (*Driver[T], error) {
	sc, err := pool.ConfigAs[pool.S3PoolConfig](cfg)
	if err != nil {
		return nil, err
	}
	o := options{cache: DefaultCacheSize, staleAfter: DefaultStaleReservationAfter, recheck: migrate.DefaultOlderCodeRecheck}
	for _, f := range opts {
		f(&o)
	}
	if o.conc < 0 || (o.conc == 0 && sc.MaxConnections < 1) {
		return nil, repo.Errorf(repo.ErrInvalidInput, fmt.Sprintf("s3: concurrency must be at least 1, got %d", o.conc))
	}
	if o.conc == 0 {
		o.conc = sc.MaxConnections
	}
	rp := desc.Prefix
	if o.prefix != nil {
		rp = *o.prefix
	}
	if o.staleAfter < minStaleReservationAfter {
		return nil, repo.Errorf(repo.ErrInvalidInput, fmt.Sprintf("s3: stale reservation age must be at least %s, got %s", minStaleReservationAfter, o.staleAfter))
	}
	prefix := joinPrefix(sc.Prefix, rp)
	if prefix == "" {
		return nil, repo.Errorf(repo.ErrInvalidInput, "s3: "+desc.Name+": empty key prefix (set the config's prefix or the record's)")
	}
	for seg := range strings.SplitSeq(prefix, "/") {
		if seg == uniqueSegment || seg == migrationsSegment {
			return nil, repo.Errorf(repo.ErrInvalidInput, fmt.Sprintf("s3: %s: key prefix %q has a %s segment, reserved for repokit's own objects", desc.Name, prefix, seg))
		}
	}
	var schema *docSchema
	if o.mig != nil {
		if schema, err = o.mig.schema(desc.Name); err != nil {
			return nil, err
		}
	}
	l, err := pool.Get(ctx, m, cfg, Hooks())
	if err != nil {
		return nil, err
	}
	d := &Driver[T]{
		desc: desc, lease: l, api: l.Pool().API, bucket: sc.Bucket, prefix: prefix + "/", conc: o.conc,
		cache: newCache[T](o.cache),
		uniq:  uniqueFields(desc), uprefix: joinPrefix(sc.Prefix, uniqueSegment, rp) + "/", staleAfter: o.staleAfter,
		schema: schema,
	}
	if schema != nil {
		st, err := o.mig.checkApplied(ctx, l, sc, desc.Name)
		if err != nil {
			l.Release()
			return nil, err
		}
		d.stateKey = stateKey(sc.Prefix, o.mig.pkg)
		d.older = migrate.NewOlderCodeKeep(o.recheck, d.readKeep)
		d.older.Set(d.olderKeep(st, schema.version))
	}
	return d, nil
}

func joinPrefix(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.Trim(p, "/"); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "/")
}

// Prefix returns the key prefix of the driver's objects, ending with "/".
func (d *Driver[T]) Prefix() string { return d.prefix }

// Bucket returns the driver's bucket.
func (d *Driver[T]) Bucket() string { return d.bucket }

// Concurrency returns how many requests a batch or query runs at once.
func (d *Driver[T]) Concurrency() int { return d.conc }

// Key returns the object key of the record with the given id.
func (d *Driver[T]) Key(id string) string { return d.prefix + EscapeID(id) }

// encode returns the object body of rec: its JSON (struct tags) with a fresh "@rev" member
// first, so that every write, even of identical content, gets a new ETag and a version is
// never reused (no ABA on conditional writes), then, with WithMigrations, the schema
// version it is written at ("@schema", see schema.go), and a renamed field's value under
// its old name too while the schema keeps it (withOldNames). "@rev" and "@schema" are no valid
// field names, so they cannot collide with a field; decoding ignores them. HTML escaping is
// off: encoding/json would otherwise rewrite <, >, & and U+2028/U+2029 inside the bytes of
// JSON fields, which every other backend gives back as written (docs/semantics.md, "Round
// trip").
func (d *Driver[T]) encode(rec *T) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return nil, repo.E(repo.ErrInvalidInput, fmt.Errorf("encoding %s as JSON: %w", d.desc.Name, err))
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(b) < 2 || b[0] != '{' {
		return nil, fmt.Errorf("s3: %s does not encode as a JSON object", d.desc.Name)
	}
	if d.schema != nil && d.schema.up.OldNames() != nil {
		b = withOldNames(b, d.schema.up.OldNames())
	}
	out := make([]byte, 0, len(b)+64)
	out = append(out, revOpen...)
	out = append(out, record.NewID()...)
	out = append(out, '"')
	if d.schema != nil {
		out = append(out, schemaOpen...)
		out = strconv.AppendInt(out, d.schema.version, 10)
	}
	if len(b) > 2 {
		out = append(out, ',')
	}
	return append(out, b[1:]...), nil
}

// put writes rec, conditionally with ifMatch / ifNoneMatch. When a conditional write fails
// its condition, put reads the object's first bytes: if they carry this write's own "@rev",
// an earlier attempt of the same request was stored and only its answer was lost (the SDK
// resent the request after a reset connection or a timeout, and the resend found the
// object changed by the first attempt), so the write succeeded: put returns the stored ETag
// instead of a false ErrAlreadyExists / ErrVersionConflict.
func (d *Driver[T]) put(ctx context.Context, rec *T, ifMatch, ifNoneMatch *string) (string, error) {
	body, err := d.encode(rec)
	if err != nil {
		return "", err
	}
	return d.putBody(ctx, d.Key(d.desc.GetID(rec)), body, ifMatch, ifNoneMatch)
}

// putBody is put of an encoded body at key.
func (d *Driver[T]) putBody(ctx context.Context, key string, body []byte, ifMatch, ifNoneMatch *string) (string, error) {
	out, err := d.api.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &d.bucket,
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String("application/json"),
		IfMatch:       ifMatch,
		IfNoneMatch:   ifNoneMatch,
	})
	if err != nil {
		if (ifMatch != nil || ifNoneMatch != nil) && (isPrecondition(err) || isConditionalConflict(err)) {
			etag, ok, rerr := d.storedRev(ctx, key, body[:revPrefixLen])
			if ok {
				return etag, nil
			}
			if rerr != nil {
				// The condition failed, perhaps only because an earlier attempt of this
				// very write was stored, and the object could not be read to tell: the
				// outcome is unknown, never a false "already exists" or "conflict".
				return "", fmt.Errorf("s3: conditional write answered %q, and reading the object back to tell whether an earlier attempt was stored failed: %w", codeOf(err), rerr)
			}
		}
		return "", err
	}
	if out.ETag == nil || *out.ETag == "" {
		return "", errors.New("s3: PutObject returned no ETag")
	}
	return *out.ETag, nil
}

// revOpen starts every object body (encode); revPrefixLen is the length of the whole
// `{"@rev":"<id>"` prefix, which differs from write to write.
const revOpen = `{"@rev":"`

var revPrefixLen = len(revOpen) + len(record.NewID()) + 1

// storedRev reports whether the object at key starts with prefix (a write's own "@rev") and
// returns its ETag. It reads only those bytes. A missing object is not ours (ok false, err
// nil); any other failure to read is returned, since then it cannot tell.
func (d *Driver[T]) storedRev(ctx context.Context, key string, prefix []byte) (etag string, ok bool, err error) {
	out, err := d.api.GetObject(ctx, &s3.GetObjectInput{Bucket: &d.bucket, Key: &key,
		Range: aws.String("bytes=0-" + strconv.Itoa(len(prefix)-1))})
	if err != nil {
		if isNotFound(err) {
			return "", false, nil
		}
		return "", false, err
	}
	defer out.Body.Close()
	got, err := io.ReadAll(io.LimitReader(out.Body, int64(len(prefix))))
	if err != nil {
		return "", false, err
	}
	if !bytes.Equal(got, prefix) || out.ETag == nil || *out.ETag == "" {
		return "", false, nil
	}
	return *out.ETag, true, nil
}

// create stores rec only if no object has its key.
func (d *Driver[T]) create(ctx context.Context, rec *T) (string, error) {
	v, err := d.put(ctx, rec, nil, aws.String("*"))
	if err != nil {
		if isPrecondition(err) || isConditionalConflict(err) {
			return "", repo.E(repo.ErrAlreadyExists, nil)
		}
		return "", d.mapErr(ctx, err)
	}
	return v, nil
}

// Insert implements repo.Driver. Records (of distinct ids, see repo.Driver) are written
// concurrently (at most Concurrency at once), each with If-None-Match: *. A record repeating
// a unique value of an earlier record of the batch waits for that record: ErrAlreadyExists,
// without a request, when it was stored, else it is written as usual. When ctx ends, records
// not yet written get the context error and Insert returns it.
func (d *Driver[T]) Insert(ctx context.Context, recs []T, res []repo.Result) error {
	for i := range recs {
		res[i].ID = d.desc.GetID(&recs[i])
	}
	if len(d.uniq) == 0 {
		return d.each(ctx, len(recs), func(ctx context.Context, i int) {
			res[i].Version, res[i].Err = d.create(ctx, &recs[i])
		}, func(i int, err error) { res[i].Err = err })
	}
	b := d.newUniqueBatch(len(recs), func(i int) *T { return &recs[i] })
	return d.each(ctx, len(recs), func(ctx context.Context, i int) {
		defer b.finish(i)
		if res[i].Err = b.wait(ctx, i, func(k int) bool { return res[k].Err == nil }); res[i].Err != nil {
			return
		}
		res[i].Version, res[i].Err = d.createUnique(ctx, &recs[i], b.vals[i])
	}, func(i int, err error) { res[i].Err = err })
}

// createUnique is create for a record with unique values vals.
func (d *Driver[T]) createUnique(ctx context.Context, rec *T, vals []uval[T]) (string, error) {
	if len(vals) == 0 {
		return d.create(ctx, rec)
	}
	var v string
	id := d.desc.GetID(rec)
	err := d.writeUnique(ctx, id, vals, false, func(ctx context.Context) (err error) {
		v, err = d.create(ctx, rec)
		return err
	}, func(ctx context.Context) { d.undoCreate(ctx, id, v) })
	var ae *errAcquire
	if errors.As(err, &ae) {
		err = ae.err
	}
	if err != nil {
		return "", err
	}
	return v, nil
}

// each runs fn(ctx, i) for i in [0, n) on at most Concurrency goroutines. When ctx ends,
// it stops starting new items, calls skip for each item it did not start, waits for the
// running ones and returns ctx's error.
func (d *Driver[T]) each(ctx context.Context, n int, fn func(context.Context, int), skip func(int, error)) error {
	if n == 0 {
		return ctx.Err()
	}
	workers := min(d.conc, n)
	next := make(chan int)
	var wg sync.WaitGroup
	wg.Add(workers)
	for range workers {
		go func() {
			defer wg.Done()
			for i := range next {
				fn(ctx, i)
			}
		}()
	}
	i := 0
feed:
	for ; i < n; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if i < n {
		err := ctx.Err()
		for ; i < n; i++ {
			skip(i, err)
		}
		return err
	}
	return nil
}

// get reads the object at key. It returns nil, nil when there is none.
func (d *Driver[T]) get(ctx context.Context, key string) (*T, error) {
	body, etag, err := d.getRaw(ctx, key)
	if err != nil || body == nil {
		return nil, err
	}
	rec := new(T)
	if err := d.decode(body, rec); err != nil {
		return nil, fmt.Errorf("s3: object %s: decoding %s: %w", key, d.desc.Name, err)
	}
	if id, ok := UnescapeID(strings.TrimPrefix(key, d.prefix)); !ok || d.desc.GetID(rec) != id {
		return nil, fmt.Errorf("s3: object %s holds id %q, not the one its key names", key, d.desc.GetID(rec))
	}
	d.desc.SetVersion(rec, etag)
	return rec, nil
}

// getRaw reads the body and ETag of the object at key; nil, "", nil when there is none.
func (d *Driver[T]) getRaw(ctx context.Context, key string) ([]byte, string, error) {
	body, etag, _, err := readObject(ctx, d.api, d.bucket, key, "")
	if err != nil {
		return nil, "", d.mapErr(ctx, err)
	}
	return body, etag, nil
}

// readObject reads the object at key in bucket, or the byte range rng of it ("" for all):
// its body and ETag; found is false (and err nil) when there is none. Errors are the
// SDK's, unmapped.
func readObject(ctx context.Context, api *s3.Client, bucket, key, rng string) (body []byte, etag string, found bool, err error) {
	in := &s3.GetObjectInput{Bucket: &bucket, Key: &key}
	if rng != "" {
		in.Range = &rng
	}
	out, err := api.GetObject(ctx, in)
	if err != nil {
		if isNotFound(err) {
			return nil, "", false, nil
		}
		return nil, "", false, err
	}
	defer out.Body.Close()
	if body, err = io.ReadAll(out.Body); err != nil {
		return nil, "", false, err
	}
	return body, aws.ToString(out.ETag), true, nil
}

// Get implements repo.Driver.
func (d *Driver[T]) Get(ctx context.Context, id string) (T, error) {
	var zero T
	rec, err := d.get(ctx, d.Key(id))
	if err != nil {
		return zero, err
	}
	if rec == nil {
		return zero, repo.E(repo.ErrNotFound, nil)
	}
	return *rec, nil
}

// Update implements repo.Driver. It sends If-Match with ifVersion, or If-Match: * without
// one, so an Update never creates an object: a missing object is ErrNotFound, another
// version ErrVersionConflict.
func (d *Driver[T]) Update(ctx context.Context, rec *T, ifVersion string) error {
	vals := d.uniqueValues(rec)
	if len(vals) == 0 {
		return d.update(ctx, rec, ifVersion)
	}
	id := d.desc.GetID(rec)
	err := d.writeUnique(ctx, id, vals, true, func(ctx context.Context) error { return d.update(ctx, rec, ifVersion) }, nil)
	var ae *errAcquire
	if errors.As(err, &ae) {
		err = ae.err
		if errors.Is(err, repo.ErrAlreadyExists) {
			// As on the other backends, a missing record or another version comes first.
			etag, herr := d.head(ctx, d.Key(id))
			switch {
			case herr != nil:
				return herr
			case etag == "":
				return repo.E(repo.ErrNotFound, nil)
			case ifVersion != "" && etag != ifVersion:
				return repo.VersionConflict(ifVersion)
			}
		}
	}
	return err
}

func (d *Driver[T]) update(ctx context.Context, rec *T, ifVersion string) error {
	keep, err := d.older.Keeping(ctx)
	if err != nil {
		return err
	}
	if keep != nil {
		v, err := d.writeKeeping(ctx, rec, ifVersion, true, keep)
		if err != nil {
			return err
		}
		d.desc.SetVersion(rec, v)
		return nil
	}
	match := "*"
	if ifVersion != "" {
		match = ifVersion
	}
	v, err := d.put(ctx, rec, &match, nil)
	if err != nil {
		switch {
		case isNotFound(err):
			return repo.E(repo.ErrNotFound, nil)
		case isPrecondition(err) || isConditionalConflict(err):
			if ifVersion == "" {
				// If-Match: * fails only when the object is gone.
				return repo.E(repo.ErrNotFound, nil)
			}
			// Some servers answer 412 rather than 404 for a missing object.
			return repo.NotFoundOr(ctx, d.Exists, d.desc.GetID(rec), repo.VersionConflict(ifVersion))
		}
		return d.mapErr(ctx, err)
	}
	d.desc.SetVersion(rec, v)
	return nil
}

// Upsert implements repo.Driver with an unconditional PutObject (between the reservation
// steps of unique values, see unique.go).
func (d *Driver[T]) Upsert(ctx context.Context, rec *T) error {
	vals := d.uniqueValues(rec)
	if len(vals) == 0 {
		return d.upsert(ctx, rec)
	}
	err := d.writeUnique(ctx, d.desc.GetID(rec), vals, true, func(ctx context.Context) error { return d.upsert(ctx, rec) }, nil)
	var ae *errAcquire
	if errors.As(err, &ae) {
		err = ae.err
	}
	return err
}

func (d *Driver[T]) upsert(ctx context.Context, rec *T) error {
	var v string
	keep, err := d.older.Keeping(ctx)
	if err != nil {
		return err
	}
	if keep != nil {
		v, err = d.writeKeeping(ctx, rec, "", false, keep)
	} else if v, err = d.put(ctx, rec, nil, nil); err != nil {
		err = d.mapErr(ctx, err)
	}
	if err != nil {
		return err
	}
	d.desc.SetVersion(rec, v)
	return nil
}

// head returns the ETag of the object at key, or "" when there is none.
func (d *Driver[T]) head(ctx context.Context, key string) (string, error) {
	out, err := d.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &d.bucket, Key: &key})
	if err != nil {
		if isNotFound(err) {
			return "", nil
		}
		return "", d.mapErr(ctx, err)
	}
	return aws.ToString(out.ETag), nil
}

// Delete implements repo.Driver. S3's DeleteObject succeeds for a missing key, so Delete
// first reads the object's ETag (HeadObject): ErrNotFound when there is none,
// ErrVersionConflict when ifVersion is set and differs. It then deletes with If-Match set to
// the ETag it read. Servers that honour If-Match on DELETE (AWS S3) make the version check
// atomic; MinIO ignores it, so there a write between the check and the delete is lost with
// the object, and two concurrent Deletes can both succeed.
func (d *Driver[T]) Delete(ctx context.Context, id, ifVersion string) error {
	return d.deleteAttempt(ctx, id, ifVersion, 0)
}

// maxDeleteAttempts bounds how often an unconditional Delete starts again because the object
// changed between its HEAD and its DELETE.
const maxDeleteAttempts = 5

func (d *Driver[T]) deleteAttempt(ctx context.Context, id, ifVersion string, attempt int) error {
	key := d.Key(id)
	etag, err := d.head(ctx, key)
	if err != nil {
		return err
	}
	if etag == "" {
		return repo.E(repo.ErrNotFound, nil)
	}
	if ifVersion != "" && etag != ifVersion {
		return repo.VersionConflict(ifVersion)
	}
	_, err = d.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &d.bucket, Key: &key, IfMatch: &etag})
	if err != nil {
		switch {
		case isNotFound(err):
			return repo.E(repo.ErrNotFound, nil)
		case isPrecondition(err) || isConditionalConflict(err):
			if ifVersion == "" {
				if attempt+1 >= maxDeleteAttempts {
					return repo.E(repo.ErrVersionConflict, fmt.Errorf("the object changed during each of %d delete attempts", maxDeleteAttempts))
				}
				return d.deleteAttempt(ctx, id, "", attempt+1) // changed since the check: delete what is there now
			}
			return repo.VersionConflict(ifVersion)
		}
		return d.mapErr(ctx, err)
	}
	return nil
}

// Exists implements repo.Driver with HeadObject.
func (d *Driver[T]) Exists(ctx context.Context, id string) (bool, error) {
	etag, err := d.head(ctx, d.Key(id))
	return etag != "", err
}

// Close implements repo.Driver: it releases the driver's lease on the pooled client.
func (d *Driver[T]) Close() error {
	d.lease.Release()
	return nil
}
