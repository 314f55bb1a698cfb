package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// Driver stores records of type T in one Elasticsearch index. It is safe for concurrent use.
type Driver[T any] struct {
	desc  *record.Desc[T]
	codec *codec[T]
	comp  *compiler[T]
	lease pool.Lease[*Client]
	c     *Client
	o     Options
	uq    *uniq // nil when the record has no unique field
	// ahead is set when the cluster applied migrations newer than the driver's (see
	// checkMigrations); nil otherwise.
	ahead *migrate.AheadError
	// Older code (older.go): older (nil without migrations) rereads the cluster's applied
	// version and, once the cluster is found to have applied versions newer than the
	// driver's (at open: ahead), returns the names known to this driver; writes over a
	// stored document then keep its members of the others. hist is the driver's history.
	older *migrate.OlderCodeKeep
	hist  migrate.History
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
// (a *DriftError on a difference; the write token _rk.w, missing in an index created before
// it, is added instead, see EnsureIndex). When the record has unique fields it does the same for
// the companion index of reservations (see WithUniqueIndex) and, for a unique field that
// has no reservations yet while the index already existed, reserves the values of the
// stored records (failing with ErrAlreadyExists when two of them share a value). A node that
// cannot be reached fails it with repo.ErrUnavailable.
func New[T any](ctx context.Context, m *pool.Manager, cfg pool.Config, desc *record.Desc[T], opts ...Option) (*Driver[T], error) {
	pc, err := pool.ConfigAs[pool.ElasticsearchPoolConfig](cfg)
	if err != nil {
		return nil, err
	}
	o := Options{OlderCodeRecheck: migrate.DefaultOlderCodeRecheck, Index: desc.Index, Refresh: RefreshWaitFor, BatchDocs: DefaultBatchDocs, BatchBytes: DefaultBatchBytes,
		PageSize: DefaultPageSize, MaxResultWindow: DefaultMaxResultWindow, Shards: 1, StaleAfter: DefaultStaleReservationAfter,
		WaitForActiveShards: DefaultWaitForActiveShards}
	// The config's index settings (a URL's ?shards=&replicas=&wait_for_active_shards=), then the options.
	if pc.Shards > 0 {
		o.Shards = pc.Shards
	}
	if pc.Replicas > 0 {
		o.Replicas = pc.Replicas
	}
	if pc.WaitForActiveShards != "" {
		o.WaitForActiveShards = pc.WaitForActiveShards
	}
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
	case !pool.ValidWaitForActiveShards(o.WaitForActiveShards):
		return nil, fmt.Errorf(`elasticsearch: wait_for_active_shards must be "all" or a number of copies from 1, got %q`, o.WaitForActiveShards)
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
	if o.Migrations != nil {
		d.older = migrate.NewOlderCodeKeep(o.OlderCodeRecheck, d.readKeep)
		err = d.checkMigrations(ctx)
	}
	switch {
	case err != nil:
	case o.SkipEnsureIndex:
		err = d.c.Ping(ctx)
	default:
		var created bool
		created, err = ensureIndexFor(ctx, d.c, o.Index, o.Mapping, o.Shards, o.Replicas, d.ahead)
		if err == nil && d.ahead != nil {
			err = d.checkAheadUnique(ctx)
		}
		if err == nil && uq != nil {
			err = d.ensureUnique(ctx, created)
		}
	}
	if err == nil && d.older != nil {
		var keep func(string) bool
		if d.ahead != nil {
			keep, err = d.aheadKeep(ctx)
		}
		d.older.Set(keep)
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

// do runs a request and returns the response or a classified transport error. A write
// refused because its index is write-blocked (a migration copying the index into a new one
// blocks it for the final catch-up and the alias swap) is sent again until the block ends
// or MaxWriteBlockWait has passed: the refusal says that nothing was written, and once the
// alias has moved the same request reaches the new index (see writeblock.go).
func (d *Driver[T]) do(ctx context.Context, req esapi.Request) (*esapi.Response, error) {
	var w blockWait
	for {
		res, err := req.Do(ctx, d.c.ES)
		if err != nil {
			err = transportError(ctx, err)
			d.broken(err)
			return nil, err
		}
		if res.StatusCode != http.StatusForbidden || !rewind(req) {
			return res, nil
		}
		raw, _ := io.ReadAll(res.Body)
		closeBody(res)
		res.Body = io.NopCloser(bytes.NewReader(raw))
		if !writeBlocked(raw) || !w.wait(ctx) {
			return res, nil
		}
	}
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

// Close implements repo.Driver: it releases the client lease.
func (d *Driver[T]) Close() error {
	d.lease.Release()
	return nil
}

// checkMigrations fails with repo.ErrSchemaBehind when the cluster has not applied every
// migration given with WithMigrations. When it applied newer ones (a rolling deploy, a
// rollback) it sets d.ahead: the index is then checked for serving this code, not for
// equality (esdialect.OlderCodeDiffs).
func (d *Driver[T]) checkMigrations(ctx context.Context) error {
	h, err := migrate.Load(d.o.Migrations)
	if err != nil {
		return fmt.Errorf("elasticsearch: migrations of %s: %w", d.o.MigratePkg, err)
	}
	state := d.o.StateIndex
	if state == "" {
		state = DefaultStateIndex
	}
	applied, err := appliedVersion(ctx, d.c, state, d.o.MigratePkg, h)
	if err != nil {
		return err
	}
	if err := h.Behind("elasticsearch", applied); err != nil {
		return repo.E(repo.ErrSchemaBehind, err)
	}
	d.hist = h
	if applied > h.Version() {
		d.ahead = &migrate.AheadError{Backend: "elasticsearch", Record: d.desc.Name, Applied: applied, Known: h.Version()}
	}
	d.codec.up = newReadUpgrade(h, d.desc.Name)
	d.codec.oldNames = compatNames(h, d.desc.Name, d.desc)
	return nil
}
