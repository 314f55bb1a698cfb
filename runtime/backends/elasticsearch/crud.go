package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/repo"
)

type getResponse struct {
	Found  bool            `json:"found"`
	SeqNo  int64           `json:"_seq_no"`
	Term   int64           `json:"_primary_term"`
	Source json.RawMessage `json:"_source"`
}

// Get implements repo.Driver.
func (d *Driver[T]) Get(ctx context.Context, id string) (T, error) {
	rec, _, err := d.getSource(ctx, id)
	return rec, err
}

// getSource is Get, also returning the stored source the record was decoded from.
func (d *Driver[T]) getSource(ctx context.Context, id string) (T, json.RawMessage, error) {
	var rec T
	r, err := d.do(ctx, esapi.GetRequest{Index: d.o.Index, DocumentID: docPath(id)})
	if err != nil {
		return rec, nil, err
	}
	defer closeBody(r)
	if r.IsError() {
		return rec, nil, d.respErr(r, nil)
	}
	var g getResponse
	if err := json.NewDecoder(r.Body).Decode(&g); err != nil {
		return rec, nil, repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: reading the get response: %w", err))
	}
	if !g.Found {
		return rec, nil, repo.E(repo.ErrNotFound, nil)
	}
	if err := d.codec.decode(g.Source, &rec); err != nil {
		return rec, nil, err
	}
	d.desc.SetVersion(&rec, version(g.SeqNo, g.Term))
	return rec, g.Source, nil
}

// index writes rec in full with the write token tok; with a version, only over that version
// of the document.
// A driver that keeps unknown members (d.older, older.go) merges the stored source of that
// version into it: src when the caller read it with the version (nil: not read), else it
// reads it first and, when the stored document is not that version, does not send the
// write. A caller's src is always sent over: if the document changed since that read, the
// write's if_seq_no/if_primary_term condition refuses it (409), as any stale write.
func (d *Driver[T]) index(ctx context.Context, rec *T, seq, term int, conditional bool, tok string, src json.RawMessage) (*esapi.Response, error) {
	body := d.codec.encode(nil, rec, false, tok)
	keep, err := d.older.Keeping(ctx)
	if err != nil {
		return nil, &notSentError{err}
	}
	if keep != nil && conditional {
		if src == nil {
			cur, s, t, found, err := d.source(ctx, d.desc.GetID(rec))
			if err != nil {
				return nil, &notSentError{err}
			}
			if !found || s != seq || t != term {
				// Another write got in, or the copy read lags: a write without the members
				// to keep is never sent.
				return nil, &notSentError{repo.VersionConflict(version(int64(seq), int64(term)))}
			}
			src = cur
		}
		if body, err = d.keepUnknown(body, src, keep); err != nil {
			return nil, &notSentError{repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: document %s: %w", d.desc.GetID(rec), err))}
		}
	}
	req := esapi.IndexRequest{Index: d.o.Index, DocumentID: docPath(d.desc.GetID(rec)),
		Body: bytes.NewReader(body), Refresh: string(d.o.Refresh),
		WaitForActiveShards: d.o.WaitForActiveShards}
	if conditional {
		req.IfSeqNo, req.IfPrimaryTerm = &seq, &term
	}
	return d.do(ctx, req)
}

// Update implements repo.Driver. The document is replaced in full with if_seq_no and
// if_primary_term: the given version, or, without one, the version just read (retrying when
// another writer got in between), so an update never creates a missing document. A 409 is
// read back: when the document holds this write's token, an earlier attempt of the request
// stored it and the update succeeds (see wtoken.go). A record with unique fields is always
// read first, to reserve the values it adds and release the ones it drops (see
// writeUnique).
func (d *Driver[T]) Update(ctx context.Context, rec *T, ifVersion string) error {
	if d.uq != nil {
		return d.writeUnique(ctx, rec, ifVersion, false)
	}
	id := d.desc.GetID(rec)
	keep, err := d.older.Keeping(ctx)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		v := ifVersion
		var src json.RawMessage // the stored source of version v, when read here
		switch {
		case v == "" && keep != nil: // the source to merge, undecoded, and its version
			cur, s, t, found, err := d.source(ctx, id)
			if err != nil {
				return err
			}
			if !found {
				return repo.E(repo.ErrNotFound, nil)
			}
			src, v = cur, version(int64(s), int64(t))
		case v == "":
			cur, err := d.Get(ctx, id)
			if err != nil {
				return err
			}
			v = d.desc.GetVersion(&cur)
		}
		seq, term, ok := parseVersion(v)
		if !ok {
			return repo.NotFoundOr(ctx, d.Exists, id, repo.VersionNotIssued(v))
		}
		tok := newToken()
		r, err := d.index(ctx, rec, seq, term, true, tok, src)
		var nv string
		lost := false // another writer's version is stored, nothing of this write
		if ns := (*notSentError)(nil); errors.As(err, &ns) && errors.Is(ns.err, repo.ErrVersionConflict) {
			lost, err = true, ns.err
		} else if err == nil {
			nv, lost, err = d.finish(ctx, r, id, tok, repo.ErrVersionConflict)
		}
		switch {
		case lost && (ifVersion != "" || attempt >= 10):
			return repo.NotFoundOr(ctx, d.Exists, id, err)
		case lost:
			continue
		case err != nil:
			return err
		}
		d.desc.SetVersion(rec, nv)
		return nil
	}
}

// Upsert implements repo.Driver: an index request that creates or replaces. A record with
// unique fields is read first and written conditionally (see writeUnique).
func (d *Driver[T]) Upsert(ctx context.Context, rec *T) error {
	if d.uq != nil {
		return d.writeUnique(ctx, rec, "", true)
	}
	if keep, err := d.older.Keeping(ctx); err != nil {
		return err
	} else if keep != nil {
		return d.upsertKeeping(ctx, rec)
	}
	r, err := d.index(ctx, rec, 0, 0, false, newToken(), nil)
	if err != nil {
		return err
	}
	v, err := d.written(r, repo.ErrVersionConflict)
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
	req := esapi.DeleteRequest{Index: d.o.Index, DocumentID: docPath(id), Refresh: string(d.o.Refresh),
		WaitForActiveShards: d.o.WaitForActiveShards}
	if ifVersion != "" {
		seq, term, ok := parseVersion(ifVersion)
		if !ok {
			return repo.NotFoundOr(ctx, d.Exists, id, repo.VersionNotIssued(ifVersion))
		}
		req.IfSeqNo, req.IfPrimaryTerm = &seq, &term
	}
	r, err := d.do(ctx, req)
	if err != nil {
		return err
	}
	defer closeBody(r)
	if r.StatusCode == http.StatusConflict {
		return repo.NotFoundOr(ctx, d.Exists, id, d.respErr(r, repo.ErrVersionConflict))
	}
	if r.IsError() {
		return d.respErr(r, repo.ErrVersionConflict)
	}
	return nil
}

// Exists implements repo.Driver.
func (d *Driver[T]) Exists(ctx context.Context, id string) (bool, error) {
	r, err := d.do(ctx, esapi.ExistsRequest{Index: d.o.Index, DocumentID: docPath(id)})
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
