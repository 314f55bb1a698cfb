package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// Unique fields. S3 has no write spanning two objects, so every present value of a unique
// field is claimed by a reservation object of its own, outside every record prefix
// (uniqueSegment), before the record is written: a write acquires its values' reservations
// (pending), writes the record, then settles them (held). The design — the two states, each
// step, why no two records can end up holding one value, what a failure leaves — is in
// docs/s3.md, "Unique fields"; this file implements it.

// uniqueSegment is the key segment under which reservations live, next to the records'
// prefixes; no key prefix may have a segment of that name.
const uniqueSegment = ".repokit-unique"

// DefaultStaleReservationAfter is how old a pending reservation whose owner's record does
// not hold the value must be before another record takes it over (see
// WithStaleReservationAfter).
const DefaultStaleReservationAfter = 30 * time.Second

// minStaleReservationAfter is the smallest WithStaleReservationAfter: server times have a
// precision of one second, and the record write gets half of the setting.
const minStaleReservationAfter = 2 * time.Second

// maxAcquireAttempts bounds how often acquire starts again because the reservation changed
// between its read and its conditional write.
const maxAcquireAttempts = 5

// Reservation states.
const (
	statePending = "pending"
	stateHeld    = "held"
)

// uniqueField is a field declared unique, with the canonical form of its values.
type uniqueField[T any] struct {
	name  string
	canon func(*T) (string, bool) // record.Field.UniqueValue: canonical text; false when missing
}

// uval is one present value of a unique field in one record.
type uval[T any] struct {
	f     *uniqueField[T]
	canon string // canonical form of the value
	key   string // key of its reservation
}

// reservation is the body of a reservation object.
type reservation struct {
	Owner  string    `json:"owner"`  // id of the record the value belongs to
	State  string    `json:"state"`  // statePending or stateHeld
	Rev    string    `json:"rev"`    // fresh on every write, so every write gets a new ETag
	Record string    `json:"record"` // record name, for people reading the bucket
	Field  string    `json:"field"`
	SHA256 string    `json:"sha256"` // of the canonical value (also the key's last segment)
	At     time.Time `json:"at"`     // the writer's clock, for people: ages use the server's
}

// uniqueFields returns desc's unique fields (never lists, bytes or json: the schema refuses
// unique on them).
func uniqueFields[T any](desc *record.Desc[T]) []uniqueField[T] {
	var out []uniqueField[T]
	for i := 1; i < len(desc.Fields); i++ {
		if f := &desc.Fields[i]; f.Unique && f.UniqueSupported() {
			out = append(out, uniqueField[T]{name: f.Name, canon: f.UniqueValue})
		}
	}
	return out
}

// uniqueValues returns the present values of rec's unique fields.
func (d *Driver[T]) uniqueValues(rec *T) []uval[T] {
	if len(d.uniq) == 0 {
		return nil
	}
	out := make([]uval[T], 0, len(d.uniq))
	for i := range d.uniq {
		f := &d.uniq[i]
		c, ok := f.canon(rec)
		if !ok {
			continue // missing values never conflict
		}
		sum := sha256.Sum256([]byte(c))
		out = append(out, uval[T]{f: f, canon: c, key: d.uprefix + f.name + "/" + hex.EncodeToString(sum[:])})
	}
	return out
}

// ReservationKey returns the key of the reservation object of rec's value of the unique
// field named field, or "" when the field is not unique or rec has no value in it.
func (d *Driver[T]) ReservationKey(field string, rec *T) string {
	for _, v := range d.uniqueValues(rec) {
		if v.f.name == field {
			return v.key
		}
	}
	return ""
}

// errLost is returned by settle when a reservation of this write was taken over by another
// record before the write settled it (the write outlived its time limit on the server).
type errLost struct{ field, owner string }

func (e *errLost) Error() string {
	return fmt.Sprintf("unique field %s: the reservation was taken over by record %q while this write was in flight", e.field, e.owner)
}

// putRes writes v's reservation for owner in state with the given condition and returns the
// new ETag. Errors are the SDK's, unmapped.
func (d *Driver[T]) putRes(ctx context.Context, v *uval[T], owner, state string, ifMatch, ifNoneMatch *string) (string, error) {
	body, err := json.Marshal(reservation{
		Owner: owner, State: state, Rev: record.NewID(), Record: d.desc.Name, Field: v.f.name,
		SHA256: v.key[len(v.key)-64:], At: time.Now().UTC(),
	})
	if err != nil {
		return "", err
	}
	out, err := d.api.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &d.bucket,
		Key:           aws.String(v.key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String("application/json"),
		IfMatch:       ifMatch,
		IfNoneMatch:   ifNoneMatch,
	})
	if err != nil {
		return "", err
	}
	if out.ETag == nil || *out.ETag == "" {
		return "", errors.New("s3: PutObject returned no ETag")
	}
	return *out.ETag, nil
}

// readRes reads v's reservation: its body, ETag and age on the server's clock (the time
// between its last write and the response, both as the server tells them). r is nil when
// there is none.
func (d *Driver[T]) readRes(ctx context.Context, v *uval[T]) (r *reservation, etag string, age time.Duration, err error) {
	out, err := d.api.GetObject(ctx, &s3.GetObjectInput{Bucket: &d.bucket, Key: aws.String(v.key)})
	if err != nil {
		if isNotFound(err) {
			return nil, "", 0, nil
		}
		return nil, "", 0, d.mapErr(ctx, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, "", 0, d.mapErr(ctx, err)
	}
	r = new(reservation)
	if err := json.Unmarshal(body, r); err != nil || r.Owner == "" {
		return nil, "", 0, fmt.Errorf("s3: reservation %s is not a repokit reservation (%v)", v.key, err)
	}
	now := serverTime(out.ResultMetadata)
	if out.LastModified != nil {
		age = now.Sub(*out.LastModified)
	}
	return r, aws.ToString(out.ETag), age + d.ageOffset, nil
}

// serverTime returns the server's time of a response (its Date header), or the local time
// when it has none.
func serverTime(md middleware.Metadata) time.Time {
	if t, ok := awsmiddleware.GetServerTime(md); ok && !t.IsZero() {
		return t
	}
	if raw, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && raw != nil && raw.Response != nil {
		if t, err := http.ParseTime(raw.Header.Get("Date")); err == nil {
			return t
		}
	}
	return time.Now()
}

// holds reports whether the stored record with the given id holds v (read from the server,
// never from the cache).
func (d *Driver[T]) holds(ctx context.Context, id string, v *uval[T]) (bool, error) {
	rec, err := d.get(ctx, d.Key(id))
	if err != nil || rec == nil {
		return false, err
	}
	c, ok := v.f.canon(rec)
	return ok && c == v.canon, nil
}

// acquired is a reservation that a write made pending for its record.
type acquired struct {
	etag string // its ETag after the write made it pending; "" when not acquired
	// inherited: it was already pending for the same record and younger than
	// StaleReservationAfter, so another write of that record may still be in flight, bound
	// only by that older pending state. The write must leave it pending (never settle it):
	// held would let another record take it at once, and the other write could then still
	// land.
	inherited bool
}

// acquire makes v's reservation pending for the record id, or fails with ErrAlreadyExists
// when another record holds v (or a write of another record setting v is in flight, or
// failed less than StaleReservationAfter ago).
//
// With readFirst (for writes that usually keep their values: Update, Upsert) it reads the
// reservation before trying to create it, which saves the failing create when it exists.
func (d *Driver[T]) acquire(ctx context.Context, id string, v *uval[T], readFirst bool) (acquired, error) {
	for attempt := range maxAcquireAttempts {
		if !readFirst || attempt > 0 {
			etag, err := d.putRes(ctx, v, id, statePending, nil, aws.String("*"))
			if err == nil {
				return acquired{etag: etag}, nil
			}
			if !isPrecondition(err) && !isConditionalConflict(err) {
				return acquired{}, d.mapErr(ctx, err)
			}
		}
		r, etag, age, err := d.readRes(ctx, v)
		if err != nil {
			return acquired{}, err
		}
		if r == nil {
			continue // none (or gone since): create it
		}
		young := r.State != stateHeld && age < d.staleAfter
		if r.Owner != id {
			held, err := d.holds(ctx, r.Owner, v)
			if err != nil {
				return acquired{}, err
			}
			if held {
				return acquired{}, repo.UniqueTaken(v.f.name, nil)
			}
			if young {
				// A write of the owner may be in flight; it has staleAfter/2 to land.
				return acquired{}, repo.UniquePending(v.f.name, d.staleAfter)
			}
		}
		etag, err = d.putRes(ctx, v, id, statePending, &etag, nil)
		if err == nil {
			return acquired{etag: etag, inherited: r.Owner == id && young}, nil
		}
		if !isPrecondition(err) && !isConditionalConflict(err) && !isNotFound(err) {
			return acquired{}, d.mapErr(ctx, err)
		}
		// Changed since it was read: look again.
	}
	return acquired{}, repo.E(repo.ErrUnavailable, fmt.Errorf(
		"unique field %s: the reservation changed during each of %d attempts (concurrent writes of the value); try again", v.f.name, maxAcquireAttempts))
}

// settle turns v's reservation, pending for id with the given ETag, into held by id. It is
// fine when another write of the same record took it over meanwhile; when another record
// did, it returns an *errLost.
func (d *Driver[T]) settle(ctx context.Context, id string, v *uval[T], etag string) error {
	_, err := d.putRes(ctx, v, id, stateHeld, &etag, nil)
	if err == nil {
		return nil
	}
	if !isPrecondition(err) && !isConditionalConflict(err) && !isNotFound(err) {
		return d.mapErr(ctx, err)
	}
	r, _, _, err := d.readRes(ctx, v)
	if err != nil {
		return err
	}
	if r == nil {
		// Deleted by hand: claim it again.
		if _, err := d.putRes(ctx, v, id, stateHeld, nil, aws.String("*")); err == nil {
			return nil
		} else if !isPrecondition(err) && !isConditionalConflict(err) {
			return d.mapErr(ctx, err)
		}
		if r, _, _, err = d.readRes(ctx, v); err != nil {
			return err
		}
	}
	if r != nil && r.Owner != id {
		return &errLost{field: v.f.name, owner: r.Owner}
	}
	return nil
}

// settleAll settles the reservations of vals that were acquired (acq[i] for vals[i]) and
// not inherited from a write of the same record that may still be in flight (those stay
// pending), concurrently, and returns the first error.
func (d *Driver[T]) settleAll(ctx context.Context, id string, vals []uval[T], acq []acquired) error {
	return firstErr(forEach(len(vals), func(i int) error {
		if acq[i].etag == "" || acq[i].inherited {
			return nil
		}
		return d.settle(ctx, id, &vals[i], acq[i].etag)
	}))
}

// forEach runs fn(i) for i in [0, n), concurrently when n > 1, and returns the errors.
func forEach(n int, fn func(int) error) []error {
	errs := make([]error, n)
	if n == 1 {
		errs[0] = fn(0)
		return errs
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errs
}

// firstErr returns the first error of errs that is not nil, preferring ErrAlreadyExists (a
// definite answer) to other kinds.
func firstErr(errs []error) error {
	var first error
	for _, err := range errs {
		if errors.Is(err, repo.ErrAlreadyExists) {
			return err
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// answered reports whether err is the server's refusal of a write (the write did not and
// will not happen), as opposed to a failure whose outcome is unknown.
func answered(err error) bool {
	for _, k := range []error{repo.ErrAlreadyExists, repo.ErrNotFound, repo.ErrVersionConflict, repo.ErrInvalidInput} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// errAcquire marks an error of the acquire step: the record was not written.
type errAcquire struct{ err error }

func (e *errAcquire) Error() string { return e.err.Error() }
func (e *errAcquire) Unwrap() error { return e.err }

// writeUnique runs write, the record write of the record id, between acquiring and settling
// the reservations of vals (each step for all values at once). write gets a context whose
// deadline is half of StaleReservationAfter after the acquiring started (docs/s3.md, "Unique
// fields", step 2). An error of the acquire step is an *errAcquire. When a reservation was lost to
// another record after write succeeded, writeUnique returns an error of kind ErrUnavailable
// saying so; undo, when set, is called first (Create deletes the record it just wrote).
func (d *Driver[T]) writeUnique(ctx context.Context, id string, vals []uval[T], readFirst bool, write func(context.Context) error, undo func(context.Context)) error {
	start := time.Now()
	acq := make([]acquired, len(vals))
	if err := firstErr(forEach(len(vals), func(i int) (err error) {
		acq[i], err = d.acquire(ctx, id, &vals[i], readFirst)
		return err
	})); err != nil {
		// The record was not written: the values acquired are held again.
		_ = d.settleAll(ctx, id, vals, acq)
		return &errAcquire{err}
	}
	wctx, cancel := context.WithDeadline(ctx, start.Add(d.staleAfter/2))
	werr := write(wctx)
	cancel()
	if werr != nil && ctx.Err() == nil && errors.Is(werr, context.DeadlineExceeded) {
		werr = repo.E(repo.ErrUnavailable, fmt.Errorf(
			"s3: the record write did not finish within %s (half of StaleReservationAfter) after its unique values were reserved", d.staleAfter/2))
	}
	if werr != nil {
		if answered(werr) {
			// The server refused the write: nothing of it can land later.
			_ = d.settleAll(ctx, id, vals, acq)
		}
		// Otherwise (no answer, a timeout) the write may still land on the server: the
		// reservations stay pending, so that no other record takes them before
		// StaleReservationAfter, and the record itself can write them again at any time.
		return werr
	}
	serr := d.settleAll(ctx, id, vals, acq)
	var lost *errLost
	if errors.As(serr, &lost) {
		if undo != nil {
			undo(ctx)
		}
		return repo.E(repo.ErrUnavailable, fmt.Errorf("s3: %w", lost))
	}
	// Another settle error (an outage) leaves a pending reservation that the record holds:
	// nobody can take it, and the next write of the record settles it. The write succeeded.
	return nil
}

// undoCreate deletes the record id that a Create just stored as version etag, when it is
// still that version.
func (d *Driver[T]) undoCreate(ctx context.Context, id, etag string) {
	if etag != "" {
		_ = d.Delete(ctx, id, etag)
	}
}

// uniqueBatch orders the records of a batch that share a unique value or an id: a record
// waits for every earlier record of the batch (with another id) that has one of its values,
// and gets ErrAlreadyExists without a request when one of them was stored, like a batch
// applied in order on the memory backend or PostgreSQL; and it waits for the previous record
// of the batch with its id (UpsertBatch; CreateBatch's ids are distinct), so that the last
// one is what is stored.
type uniqueBatch[T any] struct {
	ids  []string        // id of each record
	vals [][]uval[T]     // unique values of each record
	deps [][]batchDep    // earlier records sharing a value or the id
	done []chan struct{} // closed when the record is done; only for records others wait for
}

type batchDep struct {
	k     int    // the earlier record
	field string // a field whose value they share; "" for the previous record with the id
}

func (d *Driver[T]) newUniqueBatch(n int, rec func(int) *T) *uniqueBatch[T] {
	b := &uniqueBatch[T]{ids: make([]string, n), vals: make([][]uval[T], n), deps: make([][]batchDep, n), done: make([]chan struct{}, n)}
	prev := make(map[string][]int)
	last := make(map[string]int, n) // id → its last record so far
	dep := func(j, k int, field string) {
		b.deps[j] = append(b.deps[j], batchDep{k: k, field: field})
		if b.done[k] == nil {
			b.done[k] = make(chan struct{})
		}
	}
	for j := range n {
		r := rec(j)
		id := d.desc.GetID(r)
		b.ids[j] = id
		if k, ok := last[id]; ok {
			dep(j, k, "")
		}
		last[id] = j
		b.vals[j] = d.uniqueValues(r)
		for _, v := range b.vals[j] {
			for _, k := range prev[v.key] {
				if d.desc.GetID(rec(k)) != id {
					dep(j, k, v.f.name)
				}
			}
			prev[v.key] = append(prev[v.key], j)
		}
	}
	return b
}

// wait waits for the earlier records record j depends on and returns ErrAlreadyExists when
// one of them with a value of j's was stored (stored(k)), or the context's error when ctx
// ends first.
func (b *uniqueBatch[T]) wait(ctx context.Context, j int, stored func(k int) bool) error {
	for _, dep := range b.deps[j] {
		select {
		case <-b.done[dep.k]:
		case <-ctx.Done():
			return ctx.Err()
		}
		if dep.field != "" && stored(dep.k) {
			return repo.UniqueTakenEarlier(dep.field, b.ids[dep.k])
		}
	}
	return nil
}

// finish marks record j done.
func (b *uniqueBatch[T]) finish(j int) {
	if b.done[j] != nil {
		close(b.done[j])
	}
}
