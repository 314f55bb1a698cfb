package elasticsearch

// Unique fields. Elasticsearch has no constraint across documents, so every value of a
// unique field is reserved by a document of its own in a companion index (Options.UniqueIndex)
// before a record holding it is written; the document's _id is derived from the field and
// the value, so creating it with op_type=create is the atomic "claim". The design, its
// guarantees and caveats are in docs/elasticsearch.md ("Unique fields").
//
// Invariant: a stored record R holding value v of unique field f has the reservation
// (f, v) owned by R. Hence two stored records never share a value. A reservation whose
// owner does not hold the value is an orphan (a write crashed or failed between its steps,
// or is still in flight); once it is older than Options.StaleAfter another record may take
// it over with a conditional write.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// UniqueMapping is the mapping of the companion index of reservations: the text of
// esdialect.UniqueMapping, with the other mapping text.
const UniqueMapping = esdialect.UniqueMapping

const (
	// uniqueRounds bounds the write-read rounds of one reservation under contention.
	uniqueRounds = 8
	// maxIDBytes is Elasticsearch's limit on _id.
	maxIDBytes = 512
	// atLayout is the layout of reservation times (UTC, milliseconds).
	atLayout = "2006-01-02T15:04:05.000Z07:00"
	// stateComplete marks a field whose values are all reserved.
	stateComplete = "complete"
)

// uniq is the unique-field state of a driver.
type uniq struct {
	index      string           // companion index
	fields     []int            // indexes into desc.Fields of the unique fields
	source     []string         // their JSON names, for _source_includes
	staleAfter time.Duration    // age after which an orphan may be taken over
	now        func() time.Time // clock of reservation times; tests replace it
}

func newUniq[T any](desc *record.Desc[T], o *Options) (*uniq, error) {
	u := &uniq{staleAfter: o.StaleAfter, now: time.Now}
	for i := 1; i < len(desc.Fields); i++ { // the id (Fields[0]) is unique anyway
		f := &desc.Fields[i]
		if !f.Unique {
			continue
		}
		if !f.UniqueSupported() {
			return nil, fmt.Errorf("elasticsearch: record %s field %s: unique is not supported on list, bytes and json fields", desc.Name, f.Name)
		}
		if len(reservationID(f.JSON, "")) > maxIDBytes {
			return nil, fmt.Errorf("elasticsearch: record %s field %s: JSON name too long for a reservation id", desc.Name, f.Name)
		}
		u.fields = append(u.fields, i)
		u.source = append(u.source, f.JSON)
	}
	if len(u.fields) == 0 {
		return nil, nil
	}
	if o.UniqueIndex == "" {
		o.UniqueIndex = o.Index + UniqueIndexSuffix
	}
	switch {
	case o.UniqueIndex == o.Index:
		return nil, fmt.Errorf("elasticsearch: the unique index of %s must differ from its index %q", desc.Name, o.Index)
	case len(o.UniqueIndex) > 255:
		return nil, fmt.Errorf("elasticsearch: unique index name %q is longer than 255 bytes; set one with WithUniqueIndex", o.UniqueIndex)
	}
	u.index = o.UniqueIndex
	return u, nil
}

// UniqueIndex returns the companion index of reservations, or "" when the record has no
// unique field.
func (d *Driver[T]) UniqueIndex() string {
	if d.uq == nil {
		return ""
	}
	return d.uq.index
}

// reservationID is the _id of the reservation of value (canonical text) of the field with
// JSON name field: "r:<field>:<base64url(sha256(value))>", at most 512 bytes whatever the
// value.
func reservationID(field, value string) string {
	h := sha256.Sum256([]byte(value))
	return "r:" + field + ":" + base64.RawURLEncoding.EncodeToString(h[:])
}

// stateID is the _id of the state document of a field.
func stateID(field string) string { return "s:" + field }

// ReservationID returns the _id of the reservation document of value (as the field's
// canonical text: strings as they are, ints and floats in Go's shortest decimal form, bools
// "true"/"false", times as microseconds since the Unix epoch) of the field with JSON name
// field, in the unique index. For operators and tests.
func ReservationID(field, value string) string { return reservationID(field, value) }

// reservation is the _source of a reservation or state document.
type reservation struct {
	Owner string `json:"owner,omitempty"`
	Field string `json:"field"`
	At    string `json:"at"`
	State string `json:"state,omitempty"`
}

// claim is one value a write needs, and what became of it.
type claim struct {
	key   string // reservation _id
	field int    // index into desc.Fields
	value string // canonical value
	owner string // id of the claiming record
	rec   int    // index of the record in the call

	seq, term int64 // version of the reservation this call wrote or read
	made      bool  // this call created the reservation or took it over: release it if the record write fails for certain
	other     string
	err       error
}

// claims returns the claims of rec's present unique values (of fields only, when not nil).
func (d *Driver[T]) claims(rec *T, at int, fields []int) []*claim {
	if fields == nil {
		fields = d.uq.fields
	}
	id := d.desc.GetID(rec)
	var cs []*claim
	for _, i := range fields {
		f := &d.desc.Fields[i]
		v, ok := f.UniqueValue(rec)
		if !ok {
			continue // missing values never conflict
		}
		cs = append(cs, &claim{key: reservationID(f.JSON, v), field: i, value: v, owner: id, rec: at})
	}
	return cs
}

func firstErr(cs []*claim) error {
	for _, c := range cs {
		if c.err != nil {
			return c.err
		}
	}
	return nil
}

func madeBy(cs []*claim) []*claim {
	var out []*claim
	for _, c := range cs {
		if c.made && c.err == nil {
			out = append(out, c)
		}
	}
	return out
}

// definite reports whether a failed record write certainly did not happen: the server
// answered with a client error (a conflict, a rejected document, rejected execution).
func definite(err error) bool {
	var se *ServerError
	return errors.As(err, &se) && se.Status >= 400 && se.Status < 500 && se.Status != http.StatusRequestTimeout
}

// late reports whether reservations made at start are too old to write their record: a
// writer elsewhere may take an orphan over once it is StaleAfter old, so a record is only
// written while its reservations are younger than half of that.
func (u *uniq) late(start time.Time) bool { return u.now().Sub(start) > u.staleAfter/2 }

// writeCtx returns the context of the record write of reservations made at start (on u's
// clock): it ends when they are half of StaleAfter old, so that the write, with the
// transport's retries and the resending of rejected _bulk items, is over before anyone may
// take them over. See lateWriteErr.
func (u *uniq) writeCtx(ctx context.Context, start time.Time) (context.Context, context.CancelFunc) {
	return context.WithDeadline(ctx, time.Now().Add(u.staleAfter/2-u.now().Sub(start)))
}

// lateWriteErr maps err, the error of a record write under writeCtx, when writeCtx's
// deadline ended it while ctx, the caller's context, is alive: ErrUnavailable (the write may
// or may not have been applied; its reservations stay).
func (u *uniq) lateWriteErr(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return repo.E(repo.ErrUnavailable, pool.MarkTransient(fmt.Errorf(
		"elasticsearch: the record write did not finish within %v (half the stale reservation age) after its unique values were reserved", u.staleAfter/2)))
}

func (u *uniq) lateErr() error {
	return repo.E(repo.ErrUnavailable, pool.MarkTransient(fmt.Errorf(
		"elasticsearch: reserving the unique values took longer than %v (half the stale reservation age); the record was not written", u.staleAfter/2)))
}
