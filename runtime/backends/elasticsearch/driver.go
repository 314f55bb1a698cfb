// Package elasticsearch is repokit's Elasticsearch backend: a generic repo.Driver over the
// low-level esapi requests of github.com/elastic/go-elasticsearch/v8, with the client shared
// through the pool manager (see Hooks). Generated packages call NewRepository from their
// New<R>ElasticsearchRepository constructors; see docs/elasticsearch.md for the mapping,
// refresh policy, error mapping and limits.
package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// Refresh is the refresh policy of writes (the refresh parameter of index, update, delete
// and bulk requests).
type Refresh string

// Refresh policies.
const (
	// RefreshWaitFor, the default, returns once the write is visible to searches: a caller
	// reads its own writes with Find, Count, Page and Stream as well as with Get.
	RefreshWaitFor Refresh = "wait_for"
	// RefreshTrue forces a refresh of the affected shards on every write (costly).
	RefreshTrue Refresh = "true"
	// RefreshFalse returns at once; searches see the write after the next periodic refresh
	// (index.refresh_interval, 1 s by default). Get and Exists always see it.
	RefreshFalse Refresh = "false"
)

// Defaults of Options.
const (
	DefaultBatchDocs        = 1000
	DefaultBatchBytes       = 5 << 20
	DefaultPageSize         = 1000
	DefaultMaxResultWindow  = 10000
	DefaultPITKeepAlive     = time.Minute
	DefaultBulkItemAttempts = 3
	// DefaultStaleReservationAfter is the age after which a unique value's reservation
	// whose owner record does not hold the value may be taken over (see
	// WithStaleReservationAfter).
	DefaultStaleReservationAfter = 30 * time.Second
	// UniqueIndexSuffix is appended to the index name to name the companion index holding
	// the reservations of unique values (see WithUniqueIndex).
	UniqueIndexSuffix = "-unique"
)

// Options configure a Driver. Set them with the Option functions.
type Options struct {
	Index           string  // index name; default the record's Desc.Index
	Refresh         Refresh // refresh policy of writes; default RefreshWaitFor
	BatchDocs       int     // documents per _bulk request; default DefaultBatchDocs
	BatchBytes      int     // bytes per _bulk request (a larger document goes alone); default DefaultBatchBytes
	PageSize        int     // hits per search request of Find and Stream; default DefaultPageSize
	MaxResultWindow int     // the index's index.max_result_window; default 10000
	Shards          int     // number_of_shards of a created index; default 1
	Replicas        int     // number_of_replicas of a created index; default 0
	Mapping         []byte  // the mapping to apply (generated code passes its constant); default esdialect.Mapping(desc)
	SkipEnsureIndex bool    // do not create or check the index when opening
	NoPIT           bool    // stream with search_after alone, without a point in time

	// UniqueIndex is the companion index holding one reservation per value of a unique
	// field; default Index + UniqueIndexSuffix. Unused by records without unique fields.
	UniqueIndex string
	// StaleAfter is how old a reservation must be before a writer may take it over from a
	// record that does not hold the value (a write that crashed or failed between its
	// steps); default DefaultStaleReservationAfter. See docs/elasticsearch.md.
	StaleAfter time.Duration
	// RebuildUnique makes opening rebuild the reservations of every unique field from the
	// stored records, as it does when a field has none yet.
	RebuildUnique bool
}

// Option sets one of the Options.
type Option func(*Options)

// WithIndex sets the index name.
func WithIndex(name string) Option { return func(o *Options) { o.Index = name } }

// WithRefresh sets the refresh policy of writes.
func WithRefresh(r Refresh) Option { return func(o *Options) { o.Refresh = r } }

// WithBatchSize sets the documents and bytes per _bulk request of CreateBatch.
func WithBatchSize(docs, bytes int) Option {
	return func(o *Options) { o.BatchDocs, o.BatchBytes = docs, bytes }
}

// WithPageSize sets the hits fetched per search request by Find and Stream.
func WithPageSize(n int) Option { return func(o *Options) { o.PageSize = n } }

// WithMaxResultWindow tells the driver the index's index.max_result_window.
func WithMaxResultWindow(n int) Option { return func(o *Options) { o.MaxResultWindow = n } }

// WithIndexSettings sets the shards and replicas of an index the driver creates.
func WithIndexSettings(shards, replicas int) Option {
	return func(o *Options) { o.Shards, o.Replicas = shards, replicas }
}

// WithMapping sets the mapping (generated code passes the mapping it was generated with; it
// must equal esdialect.Mapping(desc)).
func WithMapping(m []byte) Option { return func(o *Options) { o.Mapping = m } }

// WithoutEnsureIndex skips creating and checking the index when the repository opens.
func WithoutEnsureIndex() Option { return func(o *Options) { o.SkipEnsureIndex = true } }

// WithoutPIT makes Stream page with search_after alone, without opening a point in time.
func WithoutPIT() Option { return func(o *Options) { o.NoPIT = true } }

// WithUniqueIndex names the companion index that holds the reservations of unique values
// (default: the index name followed by UniqueIndexSuffix).
func WithUniqueIndex(name string) Option { return func(o *Options) { o.UniqueIndex = name } }

// WithStaleReservationAfter sets how old a reservation of a unique value whose owner record
// does not hold the value must be before another write may take it over (default
// DefaultStaleReservationAfter). A younger one may belong to a write still in flight, so
// the value counts as taken. Every write gives up, without writing the record, when its
// reservations are older than half of d by the time it would write it. Choose d well above
// the longest write call and the clock skew between the writing processes.
func WithStaleReservationAfter(d time.Duration) Option {
	return func(o *Options) { o.StaleAfter = d }
}

// WithUniqueRebuild makes opening rebuild the reservations of every unique field from the
// stored records (normally done only for a field that has none yet). Use it after records
// were written without reservations, e.g. by a process whose schema did not yet declare the
// field unique.
func WithUniqueRebuild() Option { return func(o *Options) { o.RebuildUnique = true } }

// Driver stores records of type T in one Elasticsearch index. It is safe for concurrent use.
type Driver[T any] struct {
	desc  *record.Desc[T]
	codec *codec[T]
	comp  *compiler[T]
	lease pool.Lease[*Client]
	c     *Client
	o     Options
	uq    *uniq // nil when the record has no unique field
}

var _ repo.Driver[struct{}] = (*Driver[struct{}])(nil)

// NewRepository opens a repository of T records on the index (see New).
func NewRepository[T any](ctx context.Context, m *pool.Manager, cfg pool.Config, desc *record.Desc[T], opts ...Option) (*repo.Collection[T], error) {
	d, err := New(ctx, m, cfg, desc, opts...)
	if err != nil {
		return nil, err
	}
	return repo.New(desc, d), nil
}

// New takes a lease on the shared client for cfg (a pool.ElasticsearchPoolConfig, or a
// *pool.Prepared made from one) from m, held until Close, then, unless WithoutEnsureIndex is
// given, creates the index with the mapping or checks an existing index's mapping against it
// (a *DriftError on a difference). When the record has unique fields it does the same for
// the companion index of reservations (see WithUniqueIndex) and, for a unique field that
// has no reservations yet while the index already existed, reserves the values of the
// stored records (failing with ErrAlreadyExists when two of them share a value). A node that
// cannot be reached fails it with repo.ErrUnavailable.
func New[T any](ctx context.Context, m *pool.Manager, cfg pool.Config, desc *record.Desc[T], opts ...Option) (*Driver[T], error) {
	if _, err := pool.ConfigAs[pool.ElasticsearchPoolConfig](cfg); err != nil {
		return nil, err
	}
	o := Options{Index: desc.Index, Refresh: RefreshWaitFor, BatchDocs: DefaultBatchDocs, BatchBytes: DefaultBatchBytes,
		PageSize: DefaultPageSize, MaxResultWindow: DefaultMaxResultWindow, Shards: 1, StaleAfter: DefaultStaleReservationAfter}
	for _, f := range opts {
		f(&o)
	}
	switch {
	case o.Index == "":
		return nil, errors.New("elasticsearch: no index name (the record has none and WithIndex was not given)")
	case o.Refresh != RefreshWaitFor && o.Refresh != RefreshTrue && o.Refresh != RefreshFalse:
		return nil, fmt.Errorf("elasticsearch: unknown refresh policy %q", o.Refresh)
	case o.BatchDocs < 1 || o.BatchBytes < 1 || o.PageSize < 1 || o.MaxResultWindow < 1 || o.Shards < 1 || o.Replicas < 0:
		return nil, errors.New("elasticsearch: batch sizes, page size, result window and shards must be positive, replicas not negative")
	case o.StaleAfter <= 0:
		return nil, errors.New("elasticsearch: the stale reservation age must be positive")
	}
	if err := checkDesc(desc); err != nil {
		return nil, err
	}
	uq, err := newUniq(desc, &o)
	if err != nil {
		return nil, err
	}
	want := esdialect.Mapping(desc)
	if o.Mapping == nil {
		o.Mapping = want
	} else if !sameJSON(o.Mapping, want) {
		return nil, fmt.Errorf("elasticsearch: the mapping given for %s differs from the one its descriptor implies; regenerate the package", desc.Name)
	}
	lease, err := pool.Get(ctx, m, cfg, Hooks())
	if err != nil {
		return nil, err
	}
	d := &Driver[T]{desc: desc, codec: newCodec(desc), comp: &compiler[T]{desc: desc}, lease: lease, c: lease.Pool(), o: o, uq: uq}
	if o.SkipEnsureIndex {
		err = d.c.Ping(ctx)
	} else {
		var created bool
		created, err = ensureIndex(ctx, d.c, o.Index, o.Mapping, o.Shards, o.Replicas)
		if err == nil && uq != nil {
			err = d.ensureUnique(ctx, created)
		}
	}
	if err != nil {
		d.broken(err)
		lease.Release()
		return nil, err
	}
	return d, nil
}

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// Index returns the index name.
func (d *Driver[T]) Index() string { return d.o.Index }

// Client returns the shared client (for requests the driver does not make).
func (d *Driver[T]) Client() *Client { return d.c }

// broken reports connection-level failures to the pool manager.
func (d *Driver[T]) broken(err error) {
	if isConnectionError(err) {
		d.lease.ReportBroken(err)
	}
}

// do runs a request and returns the response or a classified transport error.
func (d *Driver[T]) do(ctx context.Context, req esapi.Request) (*esapi.Response, error) {
	res, err := req.Do(ctx, d.c.ES)
	if err != nil {
		err = transportError(ctx, err)
		d.broken(err)
		return nil, err
	}
	return res, nil
}

func (d *Driver[T]) respErr(res *esapi.Response, conflict error) error {
	err := responseError(res, conflict)
	if res.StatusCode >= 500 {
		d.broken(err)
	}
	return err
}

func version(seq, term int64) string {
	return strconv.FormatInt(seq, 10) + ":" + strconv.FormatInt(term, 10)
}

// parseVersion splits a "seq:term" token; ok is false for a token this backend never issued.
func parseVersion(v string) (seq, term int, ok bool) {
	s, t, found := strings.Cut(v, ":")
	if !found {
		return 0, 0, false
	}
	a, err1 := strconv.Atoi(s)
	b, err2 := strconv.Atoi(t)
	return a, b, err1 == nil && err2 == nil && a >= 0 && b > 0
}

type writeResult struct {
	SeqNo  int64  `json:"_seq_no"`
	Term   int64  `json:"_primary_term"`
	Result string `json:"result"`
}

func decodeWrite(res *esapi.Response) (string, error) {
	var w writeResult
	if err := json.NewDecoder(res.Body).Decode(&w); err != nil {
		return "", repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: reading the write response: %w", err))
	}
	return version(w.SeqNo, w.Term), nil
}

// Insert implements repo.Driver: one record with an index request (op_type=create), more
// through _bulk in chunks of Options.BatchDocs documents or Options.BatchBytes bytes. Every
// record gets its result; a 409 is ErrAlreadyExists. A record with unique fields reserves
// its values first (see insertUnique).
func (d *Driver[T]) Insert(ctx context.Context, recs []T, res []repo.Result) error {
	for i := range recs {
		res[i].ID = d.desc.GetID(&recs[i])
	}
	if d.uq != nil {
		return d.insertUnique(ctx, recs, res)
	}
	if len(recs) == 1 {
		d.createOne(ctx, &recs[0], &res[0])
		return nil
	}
	return d.bulkCreate(ctx, recs, nil, res, nil)
}

// createOne creates one document with an index request (op_type=create) and fills r.
func (d *Driver[T]) createOne(ctx context.Context, rec *T, r *repo.Result) {
	doc := d.codec.encode(nil, rec, false)
	resp, err := d.do(ctx, esapi.IndexRequest{Index: d.o.Index, DocumentID: url.PathEscape(r.ID), Body: bytes.NewReader(doc),
		OpType: "create", Refresh: string(d.o.Refresh)})
	if err != nil {
		r.Err = err
		return
	}
	defer closeBody(resp)
	if resp.IsError() {
		r.Err = d.respErr(resp, repo.ErrAlreadyExists)
		return
	}
	r.Version, r.Err = decodeWrite(resp)
}

type bulkResponse struct {
	Errors bool                       `json:"errors"`
	Items  []map[string]bulkItemState `json:"items"`
}

type bulkItemState struct {
	ID     string          `json:"_id"`
	Status int             `json:"status"`
	SeqNo  int64           `json:"_seq_no"`
	Term   int64           `json:"_primary_term"`
	Error  json.RawMessage `json:"error"`
}

// prepareChunk is called with the records of a _bulk chunk before it is sent. It returns
// the records to send (in order; it has set the result of every other one), the context to
// send them with (it may have a deadline) and a function to call once the chunk's results
// are known.
type prepareChunk func(ctx context.Context, idx []int) (keep []int, wctx context.Context, done func())

// bulkCreate creates the records at idx (every record when idx is nil) through _bulk in
// chunks. prep, when not nil, is called on every chunk before it is sent.
func (d *Driver[T]) bulkCreate(ctx context.Context, recs []T, idx []int, res []repo.Result, prep prepareChunk) error {
	meta := func(b []byte, id string) []byte {
		b = append(b, `{"create":{"_id":`...)
		b = appendString(b, id)
		return append(b, "}}\n"...)
	}
	n := len(recs)
	if idx != nil {
		n = len(idx)
	}
	var body []byte
	pending := make([]int, 0, min(n, d.o.BatchDocs))
	var starts []int // with prep: where each pending record's lines start in body
	var failed error
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		b, p := body, pending
		var done func()
		wctx := ctx
		if prep != nil {
			var keep []int
			keep, wctx, done = prep(ctx, pending)
			if len(keep) < len(pending) {
				b, p = nil, keep
				k := 0
				for j, i := range pending {
					if k < len(keep) && keep[k] == i {
						end := len(body)
						if j+1 < len(starts) {
							end = starts[j+1]
						}
						b = append(b, body[starts[j]:end]...)
						k++
					}
				}
			}
		}
		var err error
		if len(p) > 0 {
			err = d.sendBulk(wctx, b, p, res)
			if wctx != ctx {
				err = d.uq.lateWriteErr(ctx, err)
				for _, i := range p {
					res[i].Err = d.uq.lateWriteErr(ctx, res[i].Err)
				}
			}
		}
		if done != nil {
			done()
		}
		body, pending, starts = body[:0], pending[:0], starts[:0]
		return err
	}
	for k := range n {
		i := k
		if idx != nil {
			i = idx[k]
		}
		start := len(body)
		body = meta(body, res[i].ID)
		body = d.codec.encode(body, &recs[i], false)
		body = append(body, '\n')
		if len(pending) > 0 && (len(pending) >= d.o.BatchDocs || len(body) > d.o.BatchBytes) {
			doc := append([]byte(nil), body[start:]...)
			body = body[:start]
			if err := flush(); err != nil {
				failed = err
				break
			}
			start = 0
			body = append(body, doc...)
		}
		pending = append(pending, i)
		if prep != nil {
			starts = append(starts, start)
		}
	}
	if failed == nil {
		failed = flush()
	}
	if failed != nil {
		for i := range res {
			if res[i].Version == "" && res[i].Err == nil {
				res[i].Err = failed
			}
		}
	}
	return failed
}

// sendBulk sends one chunk (body holds the action lines of the records at idx) and fills
// their results. Items rejected with 429 are sent again, at most DefaultBulkItemAttempts
// times in all, with backoff.
func (d *Driver[T]) sendBulk(ctx context.Context, body []byte, idx []int, res []repo.Result) error {
	for attempt := 1; ; attempt++ {
		r, err := d.do(ctx, esapi.BulkRequest{Index: d.o.Index, Body: bytes.NewReader(body), Refresh: string(d.o.Refresh)})
		if err != nil {
			return err
		}
		if r.IsError() {
			err := d.respErr(r, nil)
			closeBody(r)
			return err
		}
		var br bulkResponse
		err = json.NewDecoder(r.Body).Decode(&br)
		closeBody(r)
		if err != nil {
			return repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: reading the _bulk response: %w", err))
		}
		if len(br.Items) != len(idx) {
			return repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: _bulk answered %d items for %d documents", len(br.Items), len(idx)))
		}
		var retry []int
		for j, item := range br.Items {
			st, ok := item["create"]
			i := idx[j]
			switch {
			case !ok || st.ID != res[i].ID:
				res[i].Err = repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: _bulk item %d does not answer the create of %q", j, res[i].ID))
			case st.Status == http.StatusCreated || st.Status == http.StatusOK:
				res[i].Version, res[i].Err = version(st.SeqNo, st.Term), nil
			case st.Status == http.StatusTooManyRequests && attempt < DefaultBulkItemAttempts:
				retry = append(retry, j)
			default:
				se := parseError(st.Status, []byte(`{"error":`+string(st.Error)+`}`))
				res[i].Err = repo.E(kindOf(st.Status, repo.ErrAlreadyExists), se)
			}
		}
		if len(retry) == 0 {
			return nil
		}
		// Rebuild the body from the lines of the retried items.
		lines := bytes.SplitAfter(body, []byte("\n"))
		var nb []byte
		nidx := make([]int, len(retry))
		for k, j := range retry {
			nb = append(nb, lines[2*j]...)
			nb = append(nb, lines[2*j+1]...)
			nidx[k] = idx[j]
		}
		body, idx = nb, nidx
		t := time.NewTimer(backoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

type getResponse struct {
	Found  bool            `json:"found"`
	SeqNo  int64           `json:"_seq_no"`
	Term   int64           `json:"_primary_term"`
	Source json.RawMessage `json:"_source"`
}

// Get implements repo.Driver.
func (d *Driver[T]) Get(ctx context.Context, id string) (T, error) {
	var rec T
	r, err := d.do(ctx, esapi.GetRequest{Index: d.o.Index, DocumentID: url.PathEscape(id)})
	if err != nil {
		return rec, err
	}
	defer closeBody(r)
	if r.IsError() {
		return rec, d.respErr(r, nil)
	}
	var g getResponse
	if err := json.NewDecoder(r.Body).Decode(&g); err != nil {
		return rec, repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: reading the get response: %w", err))
	}
	if !g.Found {
		return rec, repo.E(repo.ErrNotFound, nil)
	}
	if err := d.codec.decode(g.Source, &rec); err != nil {
		return rec, err
	}
	d.desc.SetVersion(&rec, version(g.SeqNo, g.Term))
	return rec, nil
}

// index writes rec in full; with a version, only over that version of the document.
func (d *Driver[T]) index(ctx context.Context, rec *T, seq, term int, conditional bool) (*esapi.Response, error) {
	req := esapi.IndexRequest{Index: d.o.Index, DocumentID: url.PathEscape(d.desc.GetID(rec)),
		Body: bytes.NewReader(d.codec.encode(nil, rec, false)), Refresh: string(d.o.Refresh)}
	if conditional {
		req.IfSeqNo, req.IfPrimaryTerm = &seq, &term
	}
	return d.do(ctx, req)
}

// Update implements repo.Driver. The document is replaced in full with if_seq_no and
// if_primary_term: the given version, or, without one, the version just read (retrying when
// another writer got in between), so an update never creates a missing document. A record
// with unique fields is always read first, to reserve the values it adds and release the
// ones it drops (see writeUnique).
func (d *Driver[T]) Update(ctx context.Context, rec *T, ifVersion string) error {
	if d.uq != nil {
		return d.writeUnique(ctx, rec, ifVersion, false)
	}
	id := d.desc.GetID(rec)
	for attempt := 0; ; attempt++ {
		v := ifVersion
		if v == "" {
			cur, err := d.Get(ctx, id)
			if err != nil {
				return err
			}
			v = d.desc.GetVersion(&cur)
		}
		seq, term, ok := parseVersion(v)
		if !ok {
			return d.conflictOrMissing(ctx, id, repo.E(repo.ErrVersionConflict, fmt.Errorf("version %q was not issued by this backend", v)))
		}
		r, err := d.index(ctx, rec, seq, term, true)
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
		defer closeBody(r)
		if r.IsError() {
			return d.respErr(r, repo.ErrVersionConflict)
		}
		nv, err := decodeWrite(r)
		if err != nil {
			return err
		}
		d.desc.SetVersion(rec, nv)
		return nil
	}
}

// conflictOrMissing turns a 409 of a conditional write into ErrNotFound when the document
// does not exist.
func (d *Driver[T]) conflictOrMissing(ctx context.Context, id string, conflict error) error {
	ok, err := d.Exists(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return repo.E(repo.ErrNotFound, nil)
	}
	return conflict
}

// Upsert implements repo.Driver: an index request that creates or replaces. A record with
// unique fields is read first and written conditionally (see writeUnique).
func (d *Driver[T]) Upsert(ctx context.Context, rec *T) error {
	if d.uq != nil {
		return d.writeUnique(ctx, rec, "", true)
	}
	r, err := d.index(ctx, rec, 0, 0, false)
	if err != nil {
		return err
	}
	defer closeBody(r)
	if r.IsError() {
		return d.respErr(r, repo.ErrVersionConflict)
	}
	v, err := decodeWrite(r)
	if err != nil {
		return err
	}
	d.desc.SetVersion(rec, v)
	return nil
}

// Delete implements repo.Driver. A record with unique fields is read first, deleted
// conditionally and its reservations released (see deleteUnique).
func (d *Driver[T]) Delete(ctx context.Context, id, ifVersion string) error {
	if d.uq != nil {
		return d.deleteUnique(ctx, id, ifVersion)
	}
	req := esapi.DeleteRequest{Index: d.o.Index, DocumentID: url.PathEscape(id), Refresh: string(d.o.Refresh)}
	if ifVersion != "" {
		seq, term, ok := parseVersion(ifVersion)
		if !ok {
			if exists, err := d.Exists(ctx, id); err != nil || !exists {
				if err == nil {
					err = repo.E(repo.ErrNotFound, nil)
				}
				return err
			}
			return repo.E(repo.ErrVersionConflict, fmt.Errorf("version %q was not issued by this backend", ifVersion))
		}
		req.IfSeqNo, req.IfPrimaryTerm = &seq, &term
	}
	r, err := d.do(ctx, req)
	if err != nil {
		return err
	}
	defer closeBody(r)
	if r.StatusCode == http.StatusConflict {
		return d.conflictOrMissing(ctx, id, d.respErr(r, repo.ErrVersionConflict))
	}
	if r.IsError() {
		return d.respErr(r, repo.ErrVersionConflict)
	}
	return nil
}

// Exists implements repo.Driver.
func (d *Driver[T]) Exists(ctx context.Context, id string) (bool, error) {
	r, err := d.do(ctx, esapi.ExistsRequest{Index: d.o.Index, DocumentID: url.PathEscape(id)})
	if err != nil {
		return false, err
	}
	defer closeBody(r)
	switch r.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, d.respErr(r, nil)
}

// Count implements repo.Driver with the _count API (exact at any size).
func (d *Driver[T]) Count(ctx context.Context, filter query.Expr) (int64, error) {
	q, err := d.comp.compile(filter)
	if err != nil {
		return 0, repo.E(repo.ErrInvalidInput, err)
	}
	body, _ := json.Marshal(M{"query": q})
	r, err := d.do(ctx, esapi.CountRequest{Index: []string{d.o.Index}, Body: bytes.NewReader(body)})
	if err != nil {
		return 0, err
	}
	defer closeBody(r)
	if r.IsError() {
		return 0, d.respErr(r, nil)
	}
	var c struct {
		Count int64 `json:"count"`
	}
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
		return 0, repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: reading the count response: %w", err))
	}
	return c.Count, nil
}

type searchResponse struct {
	PitID string `json:"pit_id"`
	Hits  struct {
		Hits []hit `json:"hits"`
	} `json:"hits"`
}

type hit struct {
	SeqNo  int64           `json:"_seq_no"`
	Term   int64           `json:"_primary_term"`
	Source json.RawMessage `json:"_source"`
	Sort   json.RawMessage `json:"sort"`
}

// Query implements repo.Driver. The first request uses from/size (from = the offset); the
// following ones continue after the last hit's sort values with search_after, inside a point
// in time once more than one page is needed (unless WithoutPIT), so Stream and Find read any
// number of records. An offset with which the first page would end past the index's result
// window (10,000 by default) is rejected with ErrInvalidInput; use Page (keyset) or a filter.
func (d *Driver[T]) Query(ctx context.Context, spec *query.Spec) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		fail := func(err error) { yield(zero, err) }
		q, err := d.comp.compile(spec.Filter)
		if err != nil {
			fail(repo.E(repo.ErrInvalidInput, err))
			return
		}
		sort, err := d.comp.sortClause(spec.Sort)
		if err != nil {
			fail(repo.E(repo.ErrInvalidInput, err))
			return
		}
		remaining := spec.Limit // 0: no limit
		size := d.o.PageSize
		if remaining > 0 && remaining < size {
			size = remaining
		}
		if spec.Offset > 0 && spec.Offset > d.o.MaxResultWindow-size { // not Offset+size: it can overflow
			fail(repo.Errorf(repo.ErrInvalidInput, fmt.Sprintf(
				"offset %d with a first page of %d records reaches past the index's result window of %d records (index.max_result_window); use Page with a cursor, Stream, or a narrower filter",
				spec.Offset, size, d.o.MaxResultWindow)))
			return
		}
		req := M{"query": q, "sort": sort, "size": size, "track_total_hits": false, "seq_no_primary_term": true}
		if spec.Offset > 0 {
			req["from"] = spec.Offset
		}
		if spec.Fields != nil {
			inc := make([]string, 0, len(spec.Fields))
			for _, name := range spec.Fields {
				f, err := d.desc.Lookup(name)
				if err != nil {
					fail(repo.E(repo.ErrInvalidInput, err))
					return
				}
				inc = append(inc, f.JSON)
			}
			req["_source"] = M{"includes": inc}
		}
		var pit string
		defer func() {
			if pit != "" {
				d.closePIT(ctx, pit)
			}
		}()
		for {
			if err := ctx.Err(); err != nil {
				fail(err)
				return
			}
			body, err := json.Marshal(req)
			if err != nil {
				fail(repo.E(repo.ErrInvalidInput, err))
				return
			}
			sr := esapi.SearchRequest{Body: bytes.NewReader(body)}
			if pit == "" {
				sr.Index = []string{d.o.Index}
			}
			hits, newPIT, err := d.search(ctx, sr)
			if err != nil {
				fail(err)
				return
			}
			if newPIT != "" && pit != "" {
				pit = newPIT
				req["pit"] = M{"id": pit, "keep_alive": keepAlive()}
			}
			for i := range hits {
				if err := ctx.Err(); err != nil {
					fail(err)
					return
				}
				var rec T
				if err := d.codec.decode(hits[i].Source, &rec); err != nil {
					fail(err)
					return
				}
				d.desc.SetVersion(&rec, version(hits[i].SeqNo, hits[i].Term))
				if !yield(rec, nil) {
					return
				}
			}
			if remaining > 0 {
				remaining -= len(hits)
				if remaining <= 0 {
					return
				}
			}
			if len(hits) < size {
				return
			}
			if remaining > 0 && remaining < size {
				size = remaining
				req["size"] = size
			}
			delete(req, "from")
			req["search_after"] = hits[len(hits)-1].Sort
			if pit == "" && !d.o.NoPIT {
				if id, err := d.openPIT(ctx); err == nil {
					pit = id
					req["pit"] = M{"id": pit, "keep_alive": keepAlive()}
				} else if ctx.Err() != nil {
					fail(ctx.Err())
					return
				}
			}
		}
	}
}

func keepAlive() string { return strconv.Itoa(int(DefaultPITKeepAlive/time.Second)) + "s" }

func (d *Driver[T]) search(ctx context.Context, req esapi.SearchRequest) ([]hit, string, error) {
	r, err := d.do(ctx, req)
	if err != nil {
		return nil, "", err
	}
	defer closeBody(r)
	if r.IsError() {
		return nil, "", d.respErr(r, nil)
	}
	var sr searchResponse
	if err := json.NewDecoder(r.Body).Decode(&sr); err != nil {
		return nil, "", repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: reading the search response: %w", err))
	}
	return sr.Hits.Hits, sr.PitID, nil
}

func (d *Driver[T]) openPIT(ctx context.Context) (string, error) {
	r, err := d.do(ctx, esapi.OpenPointInTimeRequest{Index: []string{d.o.Index}, KeepAlive: keepAlive()})
	if err != nil {
		return "", err
	}
	defer closeBody(r)
	if r.IsError() {
		return "", d.respErr(r, nil)
	}
	var p struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil || p.ID == "" {
		return "", fmt.Errorf("elasticsearch: no point in time id in the response")
	}
	return p.ID, nil
}

// pitCloseTimeout bounds the request releasing a point in time when a stream ends.
const pitCloseTimeout = 2 * time.Second

// closePIT releases a point in time, also when the caller's context has ended, within
// pitCloseTimeout. A failure only leaves the PIT to expire after its keep-alive (1 minute).
func (d *Driver[T]) closePIT(parent context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), pitCloseTimeout)
	defer cancel()
	body, _ := json.Marshal(M{"id": id})
	r, err := esapi.ClosePointInTimeRequest{Body: bytes.NewReader(body)}.Do(ctx, d.c.ES)
	if err == nil {
		_, _ = io.Copy(io.Discard, r.Body)
		closeBody(r)
	}
}

// Close implements repo.Driver: it releases the client lease.
func (d *Driver[T]) Close() error {
	d.lease.Release()
	return nil
}
