package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

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
	r, err := d.do(ctx, esapi.BulkRequest{Index: d.uq.index, Body: bytes.NewReader(body), FilterPath: bulkFilter,
		WaitForActiveShards: d.o.WaitForActiveShards})
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

// mget reads documents by id in real time (includes, when not nil, filters their _source);
// a document the server could not read fails the call.
func (d *Driver[T]) mget(ctx context.Context, index string, ids, includes []string) ([]mgetDoc, error) {
	docs, err := d.mgetDocs(ctx, index, ids, includes, false)
	if err != nil {
		return nil, err
	}
	for k := range docs {
		if err := docs[k].err(); err != nil {
			return nil, err
		}
	}
	return docs, nil
}

// err returns the error of a document _mget could not read (ErrUnavailable), or nil.
func (doc *mgetDoc) err() error {
	if len(doc.Error) == 0 || string(doc.Error) == "null" {
		return nil
	}
	se := parseError(http.StatusInternalServerError, []byte(`{"error":`+string(doc.Error)+`}`))
	return repo.E(repo.ErrUnavailable, se)
}

// mgetDocs reads documents by id in real time with one _mget request, their _source
// filtered by includes (when not nil) or left out (noSource), and returns one document per
// id, in order; a document the server could not read has its Error set.
func (d *Driver[T]) mgetDocs(ctx context.Context, index string, ids, includes []string, noSource bool) ([]mgetDoc, error) {
	return mgetAs[mgetDoc](ctx, d, index, ids, includes, noSource)
}

func (doc *mgetDoc) id() string { return doc.ID }

// mgetAs is mgetDocs decoding the documents of the response as D.
func mgetAs[D any, PD interface {
	*D
	id() string
}, T any](ctx context.Context, d *Driver[T], index string, ids, includes []string, noSource bool) ([]D, error) {
	r, err := d.mgetRequest(ctx, index, ids, includes, noSource)
	if err != nil {
		return nil, err
	}
	defer closeBody(r)
	return decodeMget[D, PD](r.Body, index, ids)
}

// mgetRequest sends one _mget request (see mgetDocs) and returns its successful response.
func (d *Driver[T]) mgetRequest(ctx context.Context, index string, ids, includes []string, noSource bool) (*esapi.Response, error) {
	body, _ := json.Marshal(map[string]any{"ids": ids})
	req := esapi.MgetRequest{Index: index, Body: bytes.NewReader(body), SourceIncludes: includes}
	if noSource {
		req.Source = []string{"false"}
	}
	r, err := d.do(ctx, req)
	if err != nil {
		return nil, err
	}
	if r.IsError() {
		defer closeBody(r)
		return nil, d.respErr(r, nil)
	}
	return r, nil
}

// decodeMget decodes an _mget response for ids with encoding/json, its documents as D.
func decodeMget[D any, PD interface {
	*D
	id() string
}](body io.Reader, index string, ids []string) ([]D, error) {
	var out struct {
		Docs []D `json:"docs"`
	}
	// One document per id: sized up front, so that the decoder appends into it instead of
	// growing the slice (by reflection, copying every decoded record) as it goes.
	out.Docs = make([]D, 0, len(ids))
	if err := json.NewDecoder(body).Decode(&out); err != nil {
		return nil, readMgetErr(index, err)
	}
	if len(out.Docs) != len(ids) {
		return nil, repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: _mget on %s answered %d documents for %d ids", index, len(out.Docs), len(ids)))
	}
	for k := range out.Docs {
		if id := PD(&out.Docs[k]).id(); id != ids[k] {
			return nil, repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: _mget on %s answered document %d with id %q for %q", index, k, id, ids[k]))
		}
	}
	return out.Docs, nil
}

// readMgetErr is the error of an _mget response that could not be read.
func readMgetErr(index string, err error) error {
	return repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: reading the _mget response of %s: %w", index, err))
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
				c.err = repo.UniqueTaken(d.desc.Fields[c.field].Name, nil)
				continue
			}
		}
		// An orphan: its owner does not hold the value (yet?).
		if at, err := time.Parse(time.RFC3339Nano, f.r.At); err == nil && now.Sub(at) < d.uq.staleAfter {
			c.err = repo.UniquePending(d.desc.Fields[c.field].Name, d.uq.staleAfter)
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

// owned reads the reservations of cs and returns those owned by their claim's owner, with
// their versions: the ones to release once the record no longer holds their values.
func (d *Driver[T]) owned(ctx context.Context, cs []*claim) ([]*claim, error) {
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
		if json.Unmarshal(docs[k].Source, &r) == nil && r.Owner == c.owner {
			c.seq, c.term = docs[k].SeqNo, docs[k].Term
			out = append(out, c)
		}
	}
	return out, nil
}
