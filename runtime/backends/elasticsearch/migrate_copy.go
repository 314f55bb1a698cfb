package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"sync"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/repo"
)

// A copy moves the documents of an index behind an alias into a new index while writers
// keep writing through the alias (see docs/migrations-elasticsearch.md, "Copy"):
//
//  1. note each shard's max _seq_no, refresh, and copy everything a point in time sees
//     (search_after on _shard_doc, each page transformed in Go and sent with _bulk);
//  2. catch up: copy the documents whose _seq_no is above the noted one, per shard, until
//     a round finds few;
//  3. block writes on the old index (writers' requests are refused and sent again by the
//     driver), catch up a last time, delete from the new index the documents deleted
//     meanwhile, and swap the alias in one _aliases request, then keep the old index
//     (blocked) or, when adopting a concrete index of the alias's name, delete it in the
//     same request.
//
// A failure before the swap unblocks the old index and leaves the new one, which the next
// apply deletes and copies again.

// cpHit is one document of a search answer.
type cpHit struct {
	ID     string          `json:"_id"`
	SeqNo  int64           `json:"_seq_no"`
	Term   int64           `json:"_primary_term"`
	Source json.RawMessage `json:"_source"`
	Sort   []any           `json:"sort"`
}

type searchAnswer struct {
	PitID string `json:"pit_id"`
	Hits  struct {
		Hits []cpHit `json:"hits"`
	} `json:"hits"`
}

// copier copies documents into one index.
type copier struct {
	m      *Migrator
	to     string
	tr     func(doc map[string]any) error
	mu     sync.Mutex
	seen   map[string]struct{} // ids written to the new index
	done   int64
	report func(done int64)
}

// copyIndex copies from into to (which exists) and moves alias, and every other alias of
// from, onto to; removeFrom deletes from in the same request (from is a concrete index
// named as the alias).
func (m *Migrator) copyIndex(ctx context.Context, alias, from, to string, removeFrom bool, tr func(map[string]any) error, report func(int64)) error {
	cp := &copier{m: m, to: to, tr: tr, seen: map[string]struct{}{}, report: report}
	last, err := m.maxSeqNos(ctx, from)
	if err != nil {
		return err
	}
	if err := m.refresh(ctx, from); err != nil {
		return err
	}
	if err := cp.copyAll(ctx, from); err != nil {
		return err
	}
	for round := 0; round < 5; round++ {
		n, err := cp.catchUp(ctx, from, last)
		if err != nil {
			return err
		}
		if n < 100 {
			break
		}
	}
	if err := m.setWriteBlock(ctx, from, true); err != nil {
		return err
	}
	swapped := false
	defer func() {
		if !swapped {
			_ = m.setWriteBlock(context.WithoutCancel(ctx), from, false)
		}
	}()
	if _, err := cp.catchUp(ctx, from, last); err != nil {
		return err
	}
	if err := cp.dropDeleted(ctx, from); err != nil {
		return err
	}
	if err := m.refresh(ctx, to); err != nil {
		return err
	}
	acts := []any{map[string]any{"add": map[string]any{"index": to, "alias": alias}}}
	if removeFrom {
		acts = append(acts, map[string]any{"remove_index": map[string]any{"index": from}})
	} else {
		// Every alias of the old index moves: the old names a change_index left for code
		// of earlier versions must reach the documents alias reaches.
		names, err := m.aliasesOf(ctx, from)
		if err != nil {
			return err
		}
		for _, a := range names {
			if a != alias {
				acts = append(acts, map[string]any{"add": map[string]any{"index": to, "alias": a}})
			}
			acts = append(acts, map[string]any{"remove": map[string]any{"index": from, "alias": a}})
		}
	}
	if err := m.aliases(ctx, acts...); err != nil {
		return err
	}
	swapped = true
	return nil
}

func (m *Migrator) aliases(ctx context.Context, acts ...any) error {
	body, _ := json.Marshal(map[string]any{"actions": acts})
	return call(ctx, m.c, esapi.IndicesUpdateAliasesRequest{Body: bytes.NewReader(body)}, nil)
}

func (m *Migrator) refresh(ctx context.Context, index string) error {
	return call(ctx, m.c, esapi.IndicesRefreshRequest{Index: []string{index}}, nil)
}

// setWriteBlock blocks (on) or unblocks writes to index. Blocking goes through the add
// index block API, which answers only once every write already in flight on the index's
// shards has completed (it takes all their operation permits); setting index.blocks.write
// does not wait for those, so a write acknowledged just after it could miss the last
// catch-up and be lost with the old index. Unblocking is the setting's removal.
func (m *Migrator) setWriteBlock(ctx context.Context, index string, on bool) error {
	if on {
		return call(ctx, m.c, esapi.IndicesAddBlockRequest{Index: []string{index}, Block: "write"}, nil)
	}
	body := `{"index.blocks.write":false}`
	return call(ctx, m.c, esapi.IndicesPutSettingsRequest{Index: []string{index}, Body: bytes.NewReader([]byte(body))}, nil)
}

func (m *Migrator) count(ctx context.Context, index string) (int64, error) {
	var out struct {
		Count int64 `json:"count"`
	}
	err := call(ctx, m.c, esapi.CountRequest{Index: []string{index}}, &out)
	return out.Count, err
}

// maxSeqNos returns the max _seq_no of each primary shard of index.
func (m *Migrator) maxSeqNos(ctx context.Context, index string) (map[int]int64, error) {
	var out struct {
		Indices map[string]struct {
			Shards map[string][]struct {
				Routing struct {
					Primary bool `json:"primary"`
				} `json:"routing"`
				SeqNo struct {
					Max int64 `json:"max_seq_no"`
				} `json:"seq_no"`
			} `json:"shards"`
		} `json:"indices"`
	}
	if err := call(ctx, m.c, esapi.IndicesStatsRequest{Index: []string{index}, Level: "shards"}, &out); err != nil {
		return nil, err
	}
	last := map[int]int64{}
	for _, ix := range out.Indices {
		for k, copies := range ix.Shards {
			n, err := strconv.Atoi(k)
			if err != nil {
				return nil, fmt.Errorf("elasticsearch: shard %q in the stats of %s", k, index)
			}
			for _, c := range copies {
				if c.Routing.Primary {
					last[n] = c.SeqNo.Max
				}
			}
		}
	}
	return last, nil
}

// copyAll copies every document a point in time on from sees, reading the next page while
// the last one is written.
func (cp *copier) copyAll(ctx context.Context, from string) error {
	var pit struct {
		ID string `json:"id"`
	}
	if err := call(ctx, cp.m.c, esapi.OpenPointInTimeRequest{Index: []string{from}, KeepAlive: "5m"}, &pit); err != nil {
		return err
	}
	defer func() {
		body, _ := json.Marshal(map[string]string{"id": pit.ID})
		_ = call(context.WithoutCancel(ctx), cp.m.c, esapi.ClosePointInTimeRequest{Body: bytes.NewReader(body)}, nil)
	}()
	pages := make(chan []cpHit, 2)
	errc := make(chan error, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for hs := range pages {
				if err := cp.write(ctx, hs); err != nil {
					errc <- err
					for range pages { // drain
					}
					return
				}
			}
		}()
	}
	var after []any
	var rerr error
	for {
		q := map[string]any{"size": cp.m.o.batch, "sort": []any{map[string]string{"_shard_doc": "asc"}},
			"pit": map[string]string{"id": pit.ID, "keep_alive": "5m"}, "track_total_hits": false}
		if after != nil {
			q["search_after"] = after
		}
		body, _ := json.Marshal(q)
		var ans searchAnswer
		if rerr = call(ctx, cp.m.c, esapi.SearchRequest{Body: bytes.NewReader(body)}, &ans); rerr != nil {
			break
		}
		if ans.PitID != "" {
			pit.ID = ans.PitID
		}
		hs := ans.Hits.Hits
		if len(hs) == 0 {
			break
		}
		after = hs[len(hs)-1].Sort
		select {
		case pages <- hs:
		case err := <-errc:
			rerr = err
		}
		if rerr != nil || len(hs) < cp.m.o.batch {
			break
		}
	}
	close(pages)
	wg.Wait()
	if rerr != nil {
		return rerr
	}
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// catchUp copies, shard by shard, the documents of from written after last (a max _seq_no
// per shard, advanced as it goes), and returns how many it copied.
func (cp *copier) catchUp(ctx context.Context, from string, last map[int]int64) (int, error) {
	if err := cp.m.refresh(ctx, from); err != nil {
		return 0, err
	}
	n := 0
	for shard := range last {
		for {
			q := map[string]any{"size": cp.m.o.batch, "sort": []any{map[string]string{"_seq_no": "asc"}},
				"query": map[string]any{"range": map[string]any{"_seq_no": map[string]any{"gt": last[shard]}}}, "seq_no_primary_term": true}
			body, _ := json.Marshal(q)
			var ans searchAnswer
			if err := call(ctx, cp.m.c, esapi.SearchRequest{Index: []string{from}, Body: bytes.NewReader(body),
				Preference: "_shards:" + strconv.Itoa(shard)}, &ans); err != nil {
				return n, err
			}
			hs := ans.Hits.Hits
			if len(hs) == 0 {
				break
			}
			if err := cp.write(ctx, hs); err != nil {
				return n, err
			}
			n += len(hs)
			last[shard] = hs[len(hs)-1].SeqNo
			if len(hs) < cp.m.o.batch {
				break
			}
		}
	}
	return n, nil
}

// dropDeleted deletes from the new index the documents deleted from from (write-blocked)
// after they were copied.
func (cp *copier) dropDeleted(ctx context.Context, from string) error {
	if err := cp.m.refresh(ctx, from); err != nil {
		return err
	}
	n, err := cp.m.count(ctx, from)
	if err != nil || n >= int64(len(cp.seen)) {
		return err
	}
	live := map[string]struct{}{}
	var after []any
	for {
		q := map[string]any{"size": 10000, "_source": false, "sort": []any{map[string]string{"_doc": "asc"}}}
		if after != nil {
			q["search_after"] = after
		}
		body, _ := json.Marshal(q)
		var ans searchAnswer
		if err := call(ctx, cp.m.c, esapi.SearchRequest{Index: []string{from}, Body: bytes.NewReader(body)}, &ans); err != nil {
			return err
		}
		for _, h := range ans.Hits.Hits {
			live[h.ID] = struct{}{}
		}
		if len(ans.Hits.Hits) < 10000 {
			break
		}
		after = ans.Hits.Hits[len(ans.Hits.Hits)-1].Sort
	}
	var b []byte
	for id := range cp.seen {
		if _, ok := live[id]; !ok {
			b = append(b, `{"delete":{"_id":`...)
			b = appendString(b, id)
			b = append(b, "}}\n"...)
		}
	}
	if len(b) == 0 {
		return nil
	}
	return cp.bulk(ctx, b, nil)
}

// write transforms hits and indexes them into the new index.
func (cp *copier) write(ctx context.Context, hs []cpHit) error {
	_, err := cp.writeN(ctx, hs, false)
	return err
}

// writeN is write that, with conditional, writes each document only over the version it
// was read at (_seq_no and _primary_term of the hit), skipping those changed since.
func (cp *copier) writeN(ctx context.Context, hs []cpHit, conditional bool) (int, error) {
	var b []byte
	for _, h := range hs {
		dec := json.NewDecoder(bytes.NewReader(h.Source))
		dec.UseNumber()
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			return 0, fmt.Errorf("elasticsearch: document %q: %w", h.ID, err)
		}
		if cp.tr != nil {
			if err := cp.tr(doc); err != nil {
				return 0, fmt.Errorf("elasticsearch: document %q: %w", h.ID, err)
			}
		}
		src, err := json.Marshal(doc)
		if err != nil {
			return 0, fmt.Errorf("elasticsearch: document %q: %w", h.ID, err)
		}
		b = append(b, `{"index":{"_id":`...)
		b = appendString(b, h.ID)
		if conditional {
			b = append(b, `,"if_seq_no":`...)
			b = strconv.AppendInt(b, h.SeqNo, 10)
			b = append(b, `,"if_primary_term":`...)
			b = strconv.AppendInt(b, h.Term, 10)
		}
		b = append(b, "}}\n"...)
		b = append(b, src...)
		b = append(b, '\n')
	}
	return cp.bulkN(ctx, b, hs, conditional)
}

// sweep rewrites, with tr, the documents of index matching query, each only over the
// version it was read at, page by page until none matches: a document a writer changed
// meanwhile keeps the writer's values and is read again if it still matches.
func (m *Migrator) sweep(ctx context.Context, index string, query map[string]any, tr func(map[string]any) error, report func(int64)) error {
	cp := &copier{m: m, to: index, tr: tr, seen: map[string]struct{}{}, report: report}
	idle := 0
	for {
		if err := m.refresh(ctx, index); err != nil {
			return err
		}
		body, _ := json.Marshal(map[string]any{"size": m.o.batch, "query": query, "seq_no_primary_term": true})
		var ans searchAnswer
		if err := call(ctx, m.c, esapi.SearchRequest{Index: []string{index}, Body: bytes.NewReader(body)}, &ans); err != nil {
			return err
		}
		if len(ans.Hits.Hits) == 0 {
			return nil
		}
		n, err := cp.writeN(ctx, ans.Hits.Hits, true)
		if err != nil {
			return err
		}
		if n > 0 {
			idle = 0
		} else if idle++; idle > 50 {
			return fmt.Errorf("elasticsearch: %s: documents keep changing while they are rewritten; apply again", index)
		}
	}
}

// bulk sends b to the new index without its default pipeline (the documents are already in
// the new form) and notes the ids of hs as copied.
func (cp *copier) bulk(ctx context.Context, b []byte, hs []cpHit) error {
	_, err := cp.bulkN(ctx, b, hs, false)
	return err
}

// bulkN is bulk that, with conditional, takes a 409 (a writer changed the document since it
// was read) as a skipped document, and returns how many were written.
func (cp *copier) bulkN(ctx context.Context, b []byte, hs []cpHit, conditional bool) (int, error) {
	var br struct {
		Errors bool                       `json:"errors"`
		Items  []map[string]bulkItemState `json:"items"`
	}
	if err := call(ctx, cp.m.c, esapi.BulkRequest{Index: cp.to, Body: bytes.NewReader(b), FilterPath: []string{"errors", "items.*.error", "items.*._id", "items.*.status"}}, &br); err != nil {
		return 0, err
	}
	written := len(hs)
	if br.Errors {
		for _, it := range br.Items {
			for _, st := range it {
				switch {
				case st.Status < 300 || st.Status == 404:
				case st.Status == 409 && conditional:
					written--
				default:
					se := parseError(st.Status, []byte(`{"error":`+string(st.Error)+`}`))
					return 0, repo.E(kindOf(st.Status, nil), fmt.Errorf("elasticsearch: writing document %q into %s: %w", st.ID, url.PathEscape(cp.to), se))
				}
			}
		}
	}
	cp.mu.Lock()
	for _, h := range hs {
		cp.seen[h.ID] = struct{}{}
	}
	cp.done += int64(len(hs))
	d := cp.done
	cp.mu.Unlock()
	if cp.report != nil && len(hs) > 0 {
		cp.report(d)
	}
	return written, nil
}
