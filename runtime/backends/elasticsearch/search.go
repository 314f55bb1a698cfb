package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"strconv"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// Count implements repo.Driver with the _count API (exact at any size).
func (d *Driver[T]) Count(ctx context.Context, filter query.Expr) (int64, error) {
	filter, err := d.resolveLong(ctx, filter)
	if err != nil {
		return 0, err
	}
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
		Count  int64   `json:"count"`
		Shards *shards `json:"_shards"`
	}
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
		return 0, repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: reading the count response: %w", err))
	}
	if err := c.Shards.check("count"); err != nil {
		return 0, err
	}
	return c.Count, nil
}

type searchResponse struct {
	PitID  string  `json:"pit_id"`
	Shards *shards `json:"_shards"`
	Hits   struct {
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
// following ones continue after the last hit's sort values with search_after, inside a point in
// time once more than one page is needed (unless WithoutPIT), so Stream and Find read any number
// of records. Long string operands are resolved first (see resolveLong). An offset with which the
// first page would end past the index's result window (10,000 by default) is rejected with
// ErrInvalidInput; use Page (keyset) or a filter. A relevance sort (query.SortKey.Relevance) sorts by
// _score, computed by the ranked search conditions in scoring context (compiler.scored) over every
// shard's term statistics (dfs_query_then_fetch).
func (d *Driver[T]) Query(ctx context.Context, spec *query.Spec) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		fail := func(err error) { yield(zero, err) }
		filter, err := d.resolveLong(ctx, spec.Filter)
		if err != nil {
			fail(err)
			return
		}
		q, err := d.comp.compile(filter)
		if err != nil {
			fail(repo.E(repo.ErrInvalidInput, err))
			return
		}
		relevance := query.HasRelevance(spec.Sort)
		if relevance {
			if q, err = d.comp.scored(q, spec.Filter); err != nil {
				fail(repo.E(repo.ErrInvalidInput, err))
				return
			}
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
			if relevance {
				// Term statistics of every shard, so that a document's score does not
				// depend on the shard it lives on.
				sr.SearchType = "dfs_query_then_fetch"
			}
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

// search runs req without partial results: an answer from only some shards is an
// ErrUnavailable *ShardError.
func (d *Driver[T]) search(ctx context.Context, req esapi.SearchRequest) ([]hit, string, error) {
	r, err := d.do(ctx, noPartial(req))
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
	if err := sr.Shards.check("search"); err != nil {
		return nil, "", err
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
