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
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// UniqueMapping is the mapping of the companion index of reservations. A reservation has
// the owner record's id, the field's JSON name and the time it was last written; the state
// document of a field ("s:<field>") says that the field's values have been reserved.
const UniqueMapping = `{"dynamic":"strict","properties":{` +
	`"owner":{"type":"keyword"},"field":{"type":"keyword"},` +
	`"at":{"type":"date","format":"strict_date_optional_time"},"state":{"type":"keyword"}}}`

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

func (d *Driver[T]) takenErr(c *claim) error {
	return repo.E(repo.ErrAlreadyExists, fmt.Errorf("unique field %s: the value is taken by another record", d.desc.Fields[c.field].Name))
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

// uop is one action of a _bulk request on the unique index.
type uop struct {
	action    string // create, index or delete
	c         *claim
	cond      bool // if_seq_no/if_primary_term
	seq, term int64
	take      bool // an index action taking the reservation over from another owner
	doc       []byte
}

// bulkFilter keeps what uniqueBulk reads of a _bulk response (a quarter of its size).
var bulkFilter = []string{"items.*._id", "items.*.status", "items.*._seq_no", "items.*._primary_term", "items.*.error"}

// uniqueBulk sends ops to the unique index in one _bulk request (no refresh: reservations
// are only read with real-time gets) and returns one item per op.
func (d *Driver[T]) uniqueBulk(ctx context.Context, ops []uop) ([]bulkItemState, error) {
	var body []byte
	at := d.uq.now().UTC().Format(atLayout)
	for _, op := range ops {
		body = append(body, `{"`...)
		body = append(body, op.action...)
		body = append(body, `":{"_id":`...)
		body = appendString(body, op.c.key)
		if op.cond {
			body = append(body, `,"if_seq_no":`...)
			body = strconv.AppendInt(body, op.seq, 10)
			body = append(body, `,"if_primary_term":`...)
			body = strconv.AppendInt(body, op.term, 10)
		}
		body = append(body, "}}\n"...)
		if op.action == "delete" {
			continue
		}
		if op.doc != nil {
			body = append(body, op.doc...)
		} else { // a reservation: {"owner":…,"field":…,"at":…}
			body = append(body, `{"owner":`...)
			body = appendString(body, op.c.owner)
			body = append(body, `,"field":`...)
			body = appendString(body, d.desc.Fields[op.c.field].JSON)
			body = append(body, `,"at":"`...)
			body = append(body, at...)
			body = append(body, `"}`...)
		}
		body = append(body, '\n')
	}
	r, err := d.do(ctx, esapi.BulkRequest{Index: d.uq.index, Body: bytes.NewReader(body), FilterPath: bulkFilter})
	if err != nil {
		return nil, err
	}
	defer closeBody(r)
	if r.IsError() {
		return nil, d.respErr(r, nil)
	}
	var br bulkResponse
	if err := json.NewDecoder(r.Body).Decode(&br); err != nil {
		return nil, repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: reading the _bulk response of %s: %w", d.uq.index, err))
	}
	if len(br.Items) != len(ops) {
		return nil, repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: _bulk on %s answered %d items for %d actions", d.uq.index, len(br.Items), len(ops)))
	}
	out := make([]bulkItemState, len(ops))
	for k, item := range br.Items {
		st, ok := item[ops[k].action]
		if !ok || st.ID != ops[k].c.key {
			return nil, repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: _bulk item %d on %s does not answer its action", k, d.uq.index))
		}
		out[k] = st
	}
	return out, nil
}

type mgetDoc struct {
	ID     string          `json:"_id"`
	Found  bool            `json:"found"`
	SeqNo  int64           `json:"_seq_no"`
	Term   int64           `json:"_primary_term"`
	Source json.RawMessage `json:"_source"`
	Error  json.RawMessage `json:"error"`
}

// mget reads documents by id in real time (includes, when not nil, filters their _source).
func (d *Driver[T]) mget(ctx context.Context, index string, ids, includes []string) ([]mgetDoc, error) {
	body, _ := json.Marshal(map[string]any{"ids": ids})
	r, err := d.do(ctx, esapi.MgetRequest{Index: index, Body: bytes.NewReader(body), SourceIncludes: includes})
	if err != nil {
		return nil, err
	}
	defer closeBody(r)
	if r.IsError() {
		return nil, d.respErr(r, nil)
	}
	var out struct {
		Docs []mgetDoc `json:"docs"`
	}
	if err := json.NewDecoder(r.Body).Decode(&out); err != nil {
		return nil, repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: reading the _mget response of %s: %w", index, err))
	}
	if len(out.Docs) != len(ids) {
		return nil, repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: _mget on %s answered %d documents for %d ids", index, len(out.Docs), len(ids)))
	}
	for _, doc := range out.Docs {
		if len(doc.Error) > 0 && string(doc.Error) != "null" {
			se := parseError(http.StatusInternalServerError, []byte(`{"error":`+string(doc.Error)+`}`))
			return nil, repo.E(repo.ErrUnavailable, se)
		}
	}
	return out.Docs, nil
}

// reserve claims every value in cs for its owner: creates the reservation, or, when it
// exists, refreshes it if the owner already holds it, or takes it over from an orphan older
// than StaleAfter. Every claim ends with its version set or its err: ErrAlreadyExists when
// another record holds the value or a younger orphan reserves it, the mapped error of a
// failed request otherwise.
func (d *Driver[T]) reserve(ctx context.Context, cs []*claim) {
	ops := make([]uop, len(cs))
	for k, c := range cs {
		ops[k] = uop{action: "create", c: c}
	}
	for round := 1; len(ops) > 0; round++ {
		if round > uniqueRounds {
			for _, op := range ops {
				op.c.err = repo.E(repo.ErrUnavailable, pool.MarkTransient(fmt.Errorf(
					"unique field %s: the value's reservation kept changing while this write checked it; try again", d.desc.Fields[op.c.field].Name)))
			}
			return
		}
		items, err := d.uniqueBulk(ctx, ops)
		if err != nil {
			for _, op := range ops {
				op.c.err = err
			}
			return
		}
		var conflicts []*claim
		var again []uop
		for k, st := range items {
			op := ops[k]
			switch {
			case st.Status == http.StatusOK || st.Status == http.StatusCreated:
				op.c.seq, op.c.term = st.SeqNo, st.Term
				op.c.made = op.action == "create" || op.take
			case st.Status == http.StatusConflict:
				conflicts = append(conflicts, op.c)
			case st.Status == http.StatusTooManyRequests && round < uniqueRounds:
				again = append(again, op)
			default:
				op.c.err = repo.E(kindOf(st.Status, repo.ErrAlreadyExists), parseError(st.Status, []byte(`{"error":`+string(st.Error)+`}`)))
			}
		}
		next, err := d.resolve(ctx, conflicts)
		if err != nil {
			for _, c := range conflicts {
				c.err = err
			}
			for _, op := range again {
				op.c.err = err
			}
			return
		}
		ops = append(again, next...)
		if len(again) > 0 {
			t := time.NewTimer(backoff(round))
			select {
			case <-ctx.Done():
				t.Stop()
				for _, op := range ops {
					op.c.err = ctx.Err()
				}
				return
			case <-t.C:
			}
		}
	}
}

// resolve decides the claims whose reservation exists: it reads the reservations and the
// records owning them (real time) and returns the actions to try next; decided claims get
// their err.
func (d *Driver[T]) resolve(ctx context.Context, cs []*claim) ([]uop, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	ids := make([]string, len(cs))
	for k, c := range cs {
		ids[k] = c.key
	}
	docs, err := d.mget(ctx, d.uq.index, ids, nil)
	if err != nil {
		return nil, err
	}
	type foreign struct {
		c   *claim
		r   reservation
		doc *mgetDoc
	}
	var next []uop
	var fs []foreign
	owners := map[string]bool{}
	for k, c := range cs {
		doc := &docs[k]
		if !doc.Found { // released meanwhile
			next = append(next, uop{action: "create", c: c})
			continue
		}
		var r reservation
		_ = json.Unmarshal(doc.Source, &r) // a malformed one is an old orphan
		if r.Owner == c.owner {
			// Ours already (a retry, or another write of the same record): rewrite it so
			// that its time is fresh while this write runs.
			next = append(next, uop{action: "index", c: c, cond: true, seq: doc.SeqNo, term: doc.Term})
			continue
		}
		fs = append(fs, foreign{c, r, doc})
		if r.Owner != "" {
			owners[r.Owner] = true
		}
	}
	if len(fs) == 0 {
		return next, nil
	}
	oids := make([]string, 0, len(owners))
	for id := range owners {
		oids = append(oids, id)
	}
	held := map[string]*T{}
	if len(oids) > 0 {
		odocs, err := d.mget(ctx, d.o.Index, oids, d.uq.source)
		if err != nil {
			return nil, err
		}
		for k := range odocs {
			if !odocs[k].Found {
				continue
			}
			var rec T
			if err := d.codec.decode(odocs[k].Source, &rec); err != nil {
				return nil, repo.E(repo.ErrUnavailable, err)
			}
			held[oids[k]] = &rec
		}
	}
	now := d.uq.now()
	for _, f := range fs {
		c := f.c
		c.other = f.r.Owner
		if rec, ok := held[f.r.Owner]; ok {
			if v, present := d.desc.Fields[c.field].UniqueValue(rec); present && v == c.value {
				c.err = d.takenErr(c)
				continue
			}
		}
		// An orphan: its owner does not hold the value (yet?).
		if at, err := time.Parse(time.RFC3339Nano, f.r.At); err == nil && now.Sub(at) < d.uq.staleAfter {
			c.err = repo.E(repo.ErrAlreadyExists, fmt.Errorf(
				"unique field %s: the value is reserved by a write of another record that has not finished (or failed less than %v ago)",
				d.desc.Fields[c.field].Name, d.uq.staleAfter))
			continue
		}
		next = append(next, uop{action: "index", c: c, cond: true, seq: f.doc.SeqNo, term: f.doc.Term, take: true})
	}
	return next, nil
}

// release deletes the reservations in cs if they are still at the version this call wrote
// or read. Failures are ignored: a reservation left behind is an orphan that later writes
// take over once it is StaleAfter old.
func (d *Driver[T]) release(ctx context.Context, cs []*claim) {
	if len(cs) == 0 || ctx.Err() != nil {
		return
	}
	ops := make([]uop, len(cs))
	for k, c := range cs {
		ops[k] = uop{action: "delete", c: c, cond: true, seq: c.seq, term: c.term}
	}
	_, _ = d.uniqueBulk(ctx, ops)
}

// owned reads the reservations of cs and returns those owned by id, with their versions:
// the ones to release once the record no longer holds their values.
func (d *Driver[T]) owned(ctx context.Context, cs []*claim, id string) ([]*claim, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	ids := make([]string, len(cs))
	for k, c := range cs {
		ids[k] = c.key
	}
	docs, err := d.mget(ctx, d.uq.index, ids, nil)
	if err != nil {
		return nil, err
	}
	var out []*claim
	for k, c := range cs {
		if !docs[k].Found {
			continue
		}
		var r reservation
		if json.Unmarshal(docs[k].Source, &r) == nil && r.Owner == id {
			c.seq, c.term = docs[k].SeqNo, docs[k].Term
			out = append(out, c)
		}
	}
	return out, nil
}

// insertUnique creates records with unique fields, with the result a sequence of single
// creates would give: a record whose value an earlier record of the call takes is
// ErrAlreadyExists, and gets its chance when that record fails. Each pass sends, in chunks,
// the records no earlier pending record shares a value with; a chunk reserves its records'
// values (one _bulk on the unique index, then real-time reads for the taken ones), sends
// the records whose values are all reserved, and releases the reservations it made for
// records that were certainly not written.
func (d *Driver[T]) insertUnique(ctx context.Context, recs []T, res []repo.Result) error {
	cl := make([][]*claim, len(recs))
	pending := make([]int, len(recs))
	for i := range recs {
		cl[i] = d.claims(&recs[i], i, nil)
		pending[i] = i
	}
	prep := func(ctx context.Context, idx []int) ([]int, context.Context, func()) {
		var cs []*claim
		for _, i := range idx {
			cs = append(cs, cl[i]...)
		}
		start := d.uq.now()
		wctx, cancel := d.uq.writeCtx(ctx, start)
		d.reserve(ctx, cs)
		keep := make([]int, 0, len(idx))
		var undo []*claim
		late := d.uq.late(start)
		for _, i := range idx {
			err := firstErr(cl[i])
			if err == nil && late {
				err = d.uq.lateErr()
			}
			if err != nil {
				res[i].Err = err
				undo = append(undo, madeBy(cl[i])...)
				continue
			}
			keep = append(keep, i)
		}
		d.release(ctx, undo)
		return keep, wctx, func() {
			cancel()
			var undo []*claim
			for _, i := range keep {
				if res[i].Version == "" && definite(res[i].Err) {
					undo = append(undo, madeBy(cl[i])...)
				}
			}
			d.release(ctx, undo)
		}
	}
	type blocker struct{ rec, field int }
	for len(pending) > 0 {
		first := map[string]int{}
		var send, deferred []int
		blocked := map[int][]blocker{}
		for _, i := range pending {
			for _, c := range cl[i] {
				if j, ok := first[c.key]; ok {
					blocked[i] = append(blocked[i], blocker{j, c.field})
				} else {
					first[c.key] = i
				}
			}
			if len(blocked[i]) > 0 {
				deferred = append(deferred, i)
			} else {
				send = append(send, i)
			}
		}
		var err error
		if len(send) == 1 {
			keep, wctx, done := prep(ctx, send)
			if len(keep) == 1 {
				r := &res[keep[0]]
				d.createOne(wctx, &recs[keep[0]], r)
				r.Err = d.uq.lateWriteErr(ctx, r.Err)
			}
			done()
		} else {
			err = d.bulkCreate(ctx, recs, send, res, prep)
		}
		if err != nil {
			for _, i := range deferred {
				if res[i].Err == nil {
					res[i].Err = err
				}
			}
			return err
		}
		var next []int
		for _, i := range deferred {
			var by *blocker
			for k, b := range blocked[i] {
				if res[b.rec].Version != "" {
					by = &blocked[i][k]
					break
				}
			}
			if by == nil { // every record it repeats a value of failed or waits: try again
				next = append(next, i)
				continue
			}
			res[i].Err = repo.E(repo.ErrAlreadyExists, fmt.Errorf("unique field %s: the value is taken by record %q, earlier in the batch",
				d.desc.Fields[by.field].Name, res[by.rec].ID))
		}
		pending = next
	}
	return nil
}

// writeUnique updates (upsert false) or upserts a record with unique fields. It reads the
// stored record (real time), reserves the values that change, writes the record
// conditionally on the version read (op_type=create when upserting a missing record), then
// releases the reservations of the values it no longer holds. A concurrent change of the
// record makes it start over (at most 10 times) unless ifVersion is given.
func (d *Driver[T]) writeUnique(ctx context.Context, rec *T, ifVersion string, upsert bool) error {
	id := d.desc.GetID(rec)
	if ifVersion != "" {
		if _, _, ok := parseVersion(ifVersion); !ok {
			return d.conflictOrMissing(ctx, id, repo.E(repo.ErrVersionConflict, fmt.Errorf("version %q was not issued by this backend", ifVersion)))
		}
	}
	for attempt := 0; ; attempt++ {
		cur, err := d.Get(ctx, id)
		var old *T
		switch {
		case err == nil:
			old = &cur
		case upsert && errors.Is(err, repo.ErrNotFound):
		default:
			return err
		}
		if ifVersion != "" && d.desc.GetVersion(&cur) != ifVersion {
			return repo.E(repo.ErrVersionConflict, errors.New("the stored record has another version"))
		}
		newCs := d.claims(rec, 0, nil)
		var oldCs []*claim
		if old != nil {
			oldCs = d.claims(old, 0, nil)
		}
		var claim, gone []*claim
		for _, c := range newCs {
			if !hasKey(oldCs, c.key) {
				claim = append(claim, c)
			}
		}
		for _, c := range oldCs {
			if !hasKey(newCs, c.key) {
				gone = append(gone, c)
			}
		}
		// The reservations to release are read before the write: any later write of them
		// (by a write that holds the value again) changes their version and keeps them.
		owned, err := d.owned(ctx, gone, id)
		if err != nil {
			return err
		}
		wctx, cancel := ctx, context.CancelFunc(func() {})
		if len(claim) > 0 {
			start := d.uq.now()
			d.reserve(ctx, claim)
			err := firstErr(claim)
			if err == nil && d.uq.late(start) {
				err = d.uq.lateErr()
			}
			if err != nil {
				d.release(ctx, madeBy(claim))
				return err
			}
			wctx, cancel = d.uq.writeCtx(ctx, start)
		}
		var r *esapi.Response
		if old == nil {
			r, err = d.do(wctx, esapi.IndexRequest{Index: d.o.Index, DocumentID: url.PathEscape(id),
				Body: bytes.NewReader(d.codec.encode(nil, rec, false)), OpType: "create", Refresh: string(d.o.Refresh)})
		} else {
			seq, term, _ := parseVersion(d.desc.GetVersion(old))
			r, err = d.index(wctx, rec, seq, term, true)
		}
		if err != nil {
			cancel()
			return d.uq.lateWriteErr(ctx, err) // may have been written: the reservations stay
		}
		if r.StatusCode == http.StatusConflict {
			cerr := d.respErr(r, repo.ErrVersionConflict)
			closeBody(r)
			cancel()
			d.release(ctx, madeBy(claim))
			if ifVersion != "" || attempt >= 10 {
				if upsert {
					return cerr
				}
				return d.conflictOrMissing(ctx, id, cerr)
			}
			continue
		}
		if r.IsError() {
			err := d.respErr(r, repo.ErrVersionConflict)
			closeBody(r)
			cancel()
			if definite(err) {
				d.release(ctx, madeBy(claim))
			}
			return err
		}
		nv, err := decodeWrite(r)
		closeBody(r)
		cancel()
		if err != nil {
			return d.uq.lateWriteErr(ctx, err)
		}
		d.desc.SetVersion(rec, nv)
		d.release(ctx, owned)
		return nil
	}
}

func hasKey(cs []*claim, key string) bool {
	for _, c := range cs {
		if c.key == key {
			return true
		}
	}
	return false
}

// deleteUnique deletes a record with unique fields: it reads it (real time) and the
// reservations it owns, deletes it conditionally on the version read, then releases them.
func (d *Driver[T]) deleteUnique(ctx context.Context, id, ifVersion string) error {
	if ifVersion != "" {
		if _, _, ok := parseVersion(ifVersion); !ok {
			return d.conflictOrMissing(ctx, id, repo.E(repo.ErrVersionConflict, fmt.Errorf("version %q was not issued by this backend", ifVersion)))
		}
	}
	for attempt := 0; ; attempt++ {
		cur, err := d.Get(ctx, id)
		if err != nil {
			return err
		}
		v := d.desc.GetVersion(&cur)
		if ifVersion != "" && v != ifVersion {
			return repo.E(repo.ErrVersionConflict, errors.New("the stored record has another version"))
		}
		owned, err := d.owned(ctx, d.claims(&cur, 0, nil), id)
		if err != nil {
			return err
		}
		seq, term, _ := parseVersion(v)
		r, err := d.do(ctx, esapi.DeleteRequest{Index: d.o.Index, DocumentID: url.PathEscape(id), Refresh: string(d.o.Refresh),
			IfSeqNo: &seq, IfPrimaryTerm: &term})
		if err != nil {
			return err
		}
		if r.StatusCode == http.StatusConflict {
			cerr := d.respErr(r, repo.ErrVersionConflict)
			closeBody(r)
			if ifVersion != "" || attempt >= 10 {
				return d.conflictOrMissing(ctx, id, cerr)
			}
			continue
		}
		if r.IsError() {
			err := d.respErr(r, repo.ErrVersionConflict)
			closeBody(r)
			return err
		}
		closeBody(r)
		d.release(ctx, owned)
		return nil
	}
}

// ensureUnique creates or checks the unique index, then reserves the values of the stored
// records for every unique field that has no state document yet (or every field with
// WithUniqueRebuild), unless the record index was created by this call (it is empty), and
// writes the fields' state documents.
func (d *Driver[T]) ensureUnique(ctx context.Context, created bool) error {
	u := d.uq
	if _, err := ensureIndex(ctx, d.c, u.index, []byte(UniqueMapping), d.o.Shards, d.o.Replicas); err != nil {
		return err
	}
	ids := make([]string, len(u.fields))
	for k, i := range u.fields {
		ids[k] = stateID(d.desc.Fields[i].JSON)
	}
	docs, err := d.mget(ctx, u.index, ids, nil)
	if err != nil {
		return err
	}
	var missing []int
	for k, i := range u.fields {
		if !docs[k].Found || d.o.RebuildUnique {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if !created {
		if err := d.backfill(ctx, missing); err != nil {
			return err
		}
	}
	ops := make([]uop, len(missing))
	at := u.now().UTC().Format(atLayout)
	for k, i := range missing {
		doc, _ := json.Marshal(reservation{Field: d.desc.Fields[i].JSON, At: at, State: stateComplete})
		ops[k] = uop{action: "index", c: &claim{key: stateID(d.desc.Fields[i].JSON), field: i}, doc: doc}
	}
	items, err := d.uniqueBulk(ctx, ops)
	if err != nil {
		return err
	}
	for _, st := range items {
		if st.Status != http.StatusOK && st.Status != http.StatusCreated {
			return repo.E(kindOf(st.Status, nil), parseError(st.Status, []byte(`{"error":`+string(st.Error)+`}`)))
		}
	}
	return nil
}

// backfill reserves, for the given unique fields, the values of every stored record, read
// in id order in chunks of Options.BatchDocs. Two records sharing a value fail it with
// ErrAlreadyExists naming them.
func (d *Driver[T]) backfill(ctx context.Context, fields []int) error {
	names := []string{d.desc.ID().Name}
	for _, i := range fields {
		names = append(names, d.desc.Fields[i].Name)
	}
	spec := &query.Spec{Filter: query.All(), Sort: []query.SortKey{{Field: d.desc.ID().Name}}, Fields: names}
	var dups []string
	batch := make([]T, 0, d.o.BatchDocs)
	flush := func() error {
		var cs []*claim
		for i := range batch {
			cs = append(cs, d.claims(&batch[i], i, fields)...)
		}
		batch = batch[:0]
		d.reserve(ctx, cs)
		var taken []*claim
		for _, c := range cs {
			switch {
			case c.err == nil:
			case errors.Is(c.err, repo.ErrAlreadyExists):
				taken = append(taken, c)
			default:
				return c.err
			}
		}
		if len(taken) == 0 {
			return nil
		}
		// A record changed since the scan read it is no duplicate: read them again.
		ids := make([]string, len(taken))
		for k, c := range taken {
			ids[k] = c.owner
		}
		docs, err := d.mget(ctx, d.o.Index, ids, d.uq.source)
		if err != nil {
			return err
		}
		for k, c := range taken {
			var rec T
			if !docs[k].Found || d.codec.decode(docs[k].Source, &rec) != nil {
				continue
			}
			if v, ok := d.desc.Fields[c.field].UniqueValue(&rec); ok && v == c.value && len(dups) < 10 {
				dups = append(dups, fmt.Sprintf("%s of %q and %q", d.desc.Fields[c.field].Name, c.owner, c.other))
			}
		}
		return nil
	}
	for rec, err := range d.Query(ctx, spec) {
		if err != nil {
			return err
		}
		batch = append(batch, rec)
		if len(batch) == d.o.BatchDocs {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(batch) > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	if len(dups) > 0 {
		return repo.E(repo.ErrAlreadyExists, fmt.Errorf(
			"elasticsearch: index %q holds records that share the value of a unique field (%s); make the values differ, then open the repository again",
			d.o.Index, strings.Join(dups, "; ")))
	}
	return nil
}
