package elasticsearch

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/repo"
)

// stateMapping is the mapping of the state index: one document per applied version
// ("v:<pkg>:<version>") and one lock document per package ("lock:<pkg>").
const stateMapping = `{"dynamic":"strict","properties":{"pkg":{"type":"keyword"},"version":{"type":"long"},` +
	`"name":{"type":"keyword"},"at":{"type":"date"},"owner":{"type":"keyword"},"expires":{"type":"long"}}}`

type stateDoc struct {
	Pkg     string `json:"pkg"`
	Version int64  `json:"version,omitempty"`
	Name    string `json:"name,omitempty"`
	At      string `json:"at,omitempty"`
	Owner   string `json:"owner,omitempty"`
	Expires int64  `json:"expires,omitempty"` // Unix milliseconds
}

func versionID(pkg string, v int64) string { return "v:" + pkg + ":" + strconv.FormatInt(v, 10) }
func lockID(pkg string) string             { return "lock:" + pkg }

// call sends req and decodes a 2xx JSON answer into out (when not nil); any other answer is
// a classified error (a *ServerError inside). A search, count or scroll must be answered by
// every shard (an ErrUnavailable *ShardError otherwise): a migration never copies or checks
// part of an index as if it were all of it.
func call(ctx context.Context, c *Client, req esapi.Request, out any) error {
	if sr, ok := req.(esapi.SearchRequest); ok {
		req = noPartial(sr)
	}
	res, err := req.Do(ctx, c.ES)
	if err != nil {
		return transportError(ctx, err)
	}
	defer closeBody(res)
	if res.IsError() {
		return responseError(res, nil)
	}
	var sh struct {
		Shards *shards `json:"_shards"`
	}
	search := false
	switch req.(type) {
	case esapi.SearchRequest, esapi.CountRequest, esapi.ScrollRequest:
		search = true // read from every shard or not at all (see ShardError)
	}
	if out == nil && !search {
		return nil
	}
	body, err := io.ReadAll(res.Body)
	if err == nil && out != nil {
		err = json.Unmarshal(body, out)
	}
	if err == nil && search {
		err = json.Unmarshal(body, &sh)
	}
	if err != nil {
		return repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: reading the answer: %w", err))
	}
	return sh.Shards.check("search")
}

// statusOf returns the HTTP status of a server error, or 0.
func statusOf(err error) int {
	var se *ServerError
	if errors.As(err, &se) {
		return se.Status
	}
	return 0
}

func decodeJSON(b []byte) (any, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("elasticsearch: %w", err)
	}
	return v, nil
}

func (m *Migrator) ensureStateIndex(ctx context.Context) error {
	_, err := ensureIndex(ctx, m.c, m.o.stateIndex, []byte(stateMapping), 1, 0)
	return err
}

// applied returns the versions of the history recorded as applied, ascending. A cluster
// without the state index has applied none.
func (m *Migrator) applied(ctx context.Context) ([]int64, error) {
	if len(m.h) == 0 {
		return nil, nil
	}
	ids := make([]string, len(m.h))
	for i, mig := range m.h {
		ids[i] = versionID(m.pkg, mig.Version)
	}
	body, _ := json.Marshal(map[string]any{"ids": ids})
	var out struct {
		Docs []struct {
			Found bool `json:"found"`
		} `json:"docs"`
	}
	err := call(ctx, m.c, esapi.MgetRequest{Index: m.o.stateIndex, Body: bytes.NewReader(body), Source: []string{"false"}}, &out)
	if statusOf(err) == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var vs []int64
	for i, d := range out.Docs {
		if d.Found && i < len(m.h) {
			vs = append(vs, m.h[i].Version)
		}
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i] < vs[j] })
	return vs, nil
}

// newestApplied returns the newest version of the package recorded in the state index,
// also one newer than m's history knows (applied by newer code), or 0.
func (m *Migrator) newestApplied(ctx context.Context) (int64, error) {
	body, _ := json.Marshal(map[string]any{"size": 1, "_source": []string{"version"},
		"query": map[string]any{"bool": map[string]any{"filter": []any{
			map[string]any{"term": map[string]any{"pkg": m.pkg}}, map[string]any{"exists": map[string]any{"field": "version"}}}}},
		"sort": []any{map[string]any{"version": "desc"}}})
	var out struct {
		Hits struct {
			Hits []struct {
				Source stateDoc `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	err := call(ctx, m.c, esapi.SearchRequest{Index: []string{m.o.stateIndex}, Body: bytes.NewReader(body)}, &out)
	if statusOf(err) == http.StatusNotFound {
		return 0, nil
	}
	if err != nil || len(out.Hits.Hits) == 0 {
		return 0, err
	}
	return out.Hits.Hits[0].Source.Version, nil
}

func (m *Migrator) markApplied(ctx context.Context, mig *migrate.Migration) error {
	doc, _ := json.Marshal(stateDoc{Pkg: m.pkg, Version: mig.Version, Name: mig.Name, At: time.Now().UTC().Format(time.RFC3339Nano)})
	return call(ctx, m.c, esapi.IndexRequest{Index: m.o.stateIndex, DocumentID: docPath(versionID(m.pkg, mig.Version)),
		Body: bytes.NewReader(doc), Refresh: "true"}, nil)
}

// newOwner names this migrator in lock documents: host, process and a random part.
func newOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// lockHeld is the package lock while a migrator holds it.
type lockHeld struct {
	m         *Migrator
	seq, term int64
}

// lock takes the package's lock: it creates the lock document (op_type=create) or takes
// over one whose lease has expired (a conditional write on its seq_no), waiting while
// another migrator holds it.
func (m *Migrator) lock(ctx context.Context) (*lockHeld, error) {
	id := docPath(lockID(m.pkg))
	for {
		doc, _ := json.Marshal(stateDoc{Pkg: m.pkg, Owner: m.o.owner, Expires: time.Now().Add(m.o.lease).UnixMilli()})
		var w writeResult
		err := call(ctx, m.c, esapi.IndexRequest{Index: m.o.stateIndex, DocumentID: id, Body: bytes.NewReader(doc), OpType: "create", Refresh: "true"}, &w)
		if err == nil {
			return &lockHeld{m: m, seq: w.SeqNo, term: w.Term}, nil
		}
		if statusOf(err) != http.StatusConflict {
			return nil, err
		}
		var g getResponse
		if err := call(ctx, m.c, esapi.GetRequest{Index: m.o.stateIndex, DocumentID: id}, &g); err != nil && statusOf(err) != http.StatusNotFound {
			return nil, err
		}
		var cur stateDoc
		_ = json.Unmarshal(g.Source, &cur)
		if g.Found && cur.Expires < time.Now().UnixMilli() {
			seq, term := int(g.SeqNo), int(g.Term)
			err := call(ctx, m.c, esapi.IndexRequest{Index: m.o.stateIndex, DocumentID: id, Body: bytes.NewReader(doc),
				IfSeqNo: &seq, IfPrimaryTerm: &term, Refresh: "true"}, &w)
			if err == nil {
				return &lockHeld{m: m, seq: w.SeqNo, term: w.Term}, nil
			}
			if statusOf(err) != http.StatusConflict {
				return nil, err
			}
		}
		t := time.NewTimer(200 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// keep renews the lease every third of it until the returned function is called; when a
// renewal fails (the lock was lost), it cancels the apply with the reason.
func (l *lockHeld) keep(ctx context.Context, cancel context.CancelCauseFunc) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(l.m.o.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := l.renew(ctx); err != nil && ctx.Err() == nil {
				cancel(fmt.Errorf("elasticsearch: the migration lock of %s was lost: %w", l.m.pkg, err))
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}

func (l *lockHeld) renew(ctx context.Context) error {
	m := l.m
	doc, _ := json.Marshal(stateDoc{Pkg: m.pkg, Owner: m.o.owner, Expires: time.Now().Add(m.o.lease).UnixMilli()})
	seq, term := int(l.seq), int(l.term)
	var w writeResult
	err := call(ctx, m.c, esapi.IndexRequest{Index: m.o.stateIndex, DocumentID: docPath(lockID(m.pkg)), Body: bytes.NewReader(doc),
		IfSeqNo: &seq, IfPrimaryTerm: &term}, &w)
	if err == nil {
		l.seq, l.term = w.SeqNo, w.Term
	}
	return err
}

// release deletes the lock document if this migrator still holds it.
func (l *lockHeld) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seq, term := int(l.seq), int(l.term)
	_ = call(ctx, l.m.c, esapi.DeleteRequest{Index: l.m.o.stateIndex, DocumentID: docPath(lockID(l.m.pkg)),
		IfSeqNo: &seq, IfPrimaryTerm: &term, Refresh: "true"}, nil)
}

// Kinds of what a name resolves to.
const (
	targetNone  = iota // nothing
	targetIndex        // a concrete index
	targetAlias        // an alias (over the indices returned)
)

// resolve tells what name is: an alias (and its indices), a concrete index, or nothing.
func (m *Migrator) resolve(ctx context.Context, name string) (int, []string, error) {
	var aliases map[string]any
	err := call(ctx, m.c, esapi.IndicesGetAliasRequest{Name: []string{name}}, &aliases)
	if err == nil && len(aliases) > 0 {
		var idx []string
		for k := range aliases {
			idx = append(idx, k)
		}
		sort.Strings(idx)
		return targetAlias, idx, nil
	}
	if err != nil && statusOf(err) != http.StatusNotFound {
		return 0, nil, err
	}
	res, err := esapi.IndicesExistsRequest{Index: []string{name}}.Do(ctx, m.c.ES)
	if err != nil {
		return 0, nil, transportError(ctx, err)
	}
	closeBody(res)
	switch res.StatusCode {
	case http.StatusOK:
		return targetIndex, []string{name}, nil
	case http.StatusNotFound:
		return targetNone, nil, nil
	}
	return 0, nil, responseError(res, nil)
}
