package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/repo"
)

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

// createOne creates one document with an index request (op_type=create) and fills r. A 409
// is read back: when the document holds this write's token, an earlier attempt of the
// request stored it (see wtoken.go).
func (d *Driver[T]) createOne(ctx context.Context, rec *T, r *repo.Result) {
	tok := newToken()
	resp, err := d.create(ctx, r.ID, rec, tok)
	if err != nil {
		r.Err = err
		return
	}
	r.Version, _, r.Err = d.finish(ctx, resp, r.ID, tok, repo.ErrAlreadyExists)
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
	base := newToken() // record i's write token is itemToken(base, i)
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
			err = d.sendBulk(wctx, b, p, nil, res, repo.ErrAlreadyExists, base)
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
		body = d.codec.encode(body, &recs[i], false, itemToken(base, i))
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

// sendBulk sends one chunk (body holds the action lines of the records at idx; acts[j] is
// the action of idx[j], every one "create" when acts is nil) and fills their results: the
// version on success, else the item's error, of kind conflict for a 409. Items rejected
// with 429 are sent again, at most DefaultBulkItemAttempts times in all, with backoff. The
// document of record i carries the write token itemToken(base, i): a create or index item
// answered 409 is read back, and succeeds when its document holds that token (an earlier
// attempt of the request stored it, see wtoken.go).
func (d *Driver[T]) sendBulk(ctx context.Context, body []byte, idx []int, acts []string, res []repo.Result, conflict error, base string) error {
	var w blockWait
	act := func(j int) string {
		if acts == nil {
			return "create"
		}
		return acts[j]
	}
	for attempt := 1; ; attempt++ {
		r, err := d.do(ctx, esapi.BulkRequest{Index: d.o.Index, Body: bytes.NewReader(body), Refresh: string(d.o.Refresh),
			WaitForActiveShards: d.o.WaitForActiveShards})
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
		var retry, conflicts []int
		blocked := false
		for j, item := range br.Items {
			st, ok := item[act(j)]
			i := idx[j]
			switch {
			case !ok || st.ID != res[i].ID:
				res[i].Err = repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: _bulk item %d does not answer the %s of %q", j, act(j), res[i].ID))
			case st.Status == http.StatusCreated || st.Status == http.StatusOK:
				res[i].Version, res[i].Err = version(st.SeqNo, st.Term), nil
			case st.Status == http.StatusTooManyRequests && attempt < DefaultBulkItemAttempts:
				retry = append(retry, j)
			case blockedItem(st) && !w.expired():
				retry, blocked = append(retry, j), true
				attempt-- // a write block is waited out, not counted
			default:
				se := parseError(st.Status, []byte(`{"error":`+string(st.Error)+`}`))
				res[i].Err = repo.E(kindOf(st.Status, conflict), se)
				if st.Status == http.StatusConflict && act(j) != "delete" {
					conflicts = append(conflicts, i)
				}
			}
		}
		d.settleItems(ctx, conflicts, res, base)
		if len(retry) == 0 {
			return nil
		}
		// Rebuild the body from the lines of the retried items (a delete has one line, the
		// other actions two).
		lines := bytes.SplitAfter(body, []byte("\n"))
		first := make([]int, len(idx)+1) // first line of each item
		for j := range idx {
			n := 2
			if act(j) == "delete" {
				n = 1
			}
			first[j+1] = first[j] + n
		}
		var nb []byte
		nidx := make([]int, len(retry))
		var nacts []string
		for k, j := range retry {
			for _, l := range lines[first[j]:first[j+1]] {
				nb = append(nb, l...)
			}
			nidx[k] = idx[j]
			if acts != nil {
				nacts = append(nacts, acts[j])
			}
		}
		body, idx, acts = nb, nidx, nacts
		if blocked {
			if !w.wait(ctx) && ctx.Err() != nil {
				return ctx.Err()
			}
			continue // once the wait has expired, the items fail with the server's 403
		}
		t := time.NewTimer(backoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
