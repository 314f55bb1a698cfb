package elasticsearch

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/repo"
)

// Write tokens (esdialect.WriteToken). Every document a write stores carries a random token
// of that write in _rk.w. A write is sent again with the same body, token included, when
// its answer is lost: the client resends it after a reset connection or a 502/503/504 (as
// during a primary failover), and _bulk items refused with 429 are resent. When an earlier
// attempt was stored (and replicated), the resend of a create or of a write conditional on
// a version is refused with 409, although the document holds exactly this write. So a 409
// is read back (real time, the token only): the document holding this write's token means
// the write was stored, and it succeeds with the stored version; a document that cannot be
// read leaves the outcome unknown (ErrUnavailable), never a false ErrAlreadyExists or
// ErrVersionConflict.

// newToken returns a fresh write token: 128 random bits.
func newToken() string { return rand.Text() }

// itemToken returns the write token of item i of a batch write whose token base (newToken)
// is base: one random value per batch, distinct per item.
func itemToken(base string, i int) string { return base + "." + strconv.Itoa(i) }

// tokenSource is the part of a _source read back for its write token.
type tokenSource struct {
	RK struct {
		W string `json:"w"`
	} `json:"_rk"`
}

// tokenIncludes filters a read-back _source to the write token.
var tokenIncludes = []string{esdialect.MetaField + "." + esdialect.WriteToken}

// ownWrites reads back (real time, one _mget per Options.BatchDocs ids) the documents with
// the ids, whose writes with the tokens toks were answered 409, and returns for each the
// version of the document when it holds its write's token (the write was stored by an
// earlier attempt), else "" (missing, or stored by another write). When a document cannot
// be read, errs[k] says so: the outcome of that write is unknown.
func (d *Driver[T]) ownWrites(ctx context.Context, ids, toks []string) (vers []string, errs []error) {
	vers, errs = make([]string, len(ids)), make([]error, len(ids))
	docs, err := d.readDocs(ctx, ids, tokenIncludes, false)
	if err != nil {
		for k := range errs {
			errs[k] = err
		}
		return vers, errs
	}
	for k := range docs {
		doc := &docs[k]
		if errs[k] = doc.err(); errs[k] != nil || !doc.Found {
			continue
		}
		var src tokenSource
		if err := json.Unmarshal(doc.Source, &src); err != nil {
			errs[k] = repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: reading the write token of %q: %w", ids[k], err))
			continue
		}
		if src.RK.W == toks[k] {
			vers[k] = version(doc.SeqNo, doc.Term)
		}
	}
	return vers, errs
}

// ownWrite is ownWrites for one document.
func (d *Driver[T]) ownWrite(ctx context.Context, id, tok string) (string, error) {
	vers, errs := d.ownWrites(ctx, []string{id}, []string{tok})
	return vers[0], errs[0]
}

// unknownOutcome is the error of a write answered 409 whose document could not be read
// back (err) to tell whether an earlier attempt of the write stored it.
func unknownOutcome(conflict, err error) error {
	return repo.E(repo.ErrUnavailable, fmt.Errorf(
		"elasticsearch: the write was refused (%v), and reading the document back to tell whether an earlier attempt of it stored it failed: %w",
		causeOf(conflict), causeOf(err)))
}

// causeOf returns the cause of a *repo.Error (its message without the kind), else err.
func causeOf(err error) error {
	if re, ok := err.(*repo.Error); ok && re.Err != nil {
		return re.Err
	}
	return err
}

// settle decides a single write of the document id with token tok that was answered 409
// (conflict, its error): the stored version when an earlier attempt of it stored the
// document, an unknown outcome when the document cannot be read back, else conflict.
func (d *Driver[T]) settle(ctx context.Context, id, tok string, conflict error) (string, error) {
	v, err := d.ownWrite(ctx, id, tok)
	switch {
	case err != nil:
		return "", unknownOutcome(conflict, err)
	case v != "":
		return v, nil
	}
	return "", conflict
}

// create sends rec as the new document id (op_type=create), its body carrying the write
// token tok; read the answer with finish.
func (d *Driver[T]) create(ctx context.Context, id string, rec *T, tok string) (*esapi.Response, error) {
	return d.do(ctx, esapi.IndexRequest{Index: d.o.Index, DocumentID: docPath(id),
		Body: bytes.NewReader(d.codec.encode(nil, rec, false, tok)), OpType: "create", Refresh: string(d.o.Refresh),
		WaitForActiveShards: d.o.WaitForActiveShards})
}

// finish reads r, the answer to a write of the document id whose body carries the write
// token tok (an index request with a condition or op_type=create), closes it and returns
// the version written. An error answer is an error of respErr with conflict. A 409 is read
// back (settle, with ctx): when the document holds tok, an earlier attempt of the request
// stored it and its version is returned; otherwise lost is set and err is the conflict:
// another writer's version is stored and nothing of this write, so the caller may read
// again and retry. When the read back fails, err is an unknown outcome (lost is false).
func (d *Driver[T]) finish(ctx context.Context, r *esapi.Response, id, tok string, conflict error) (v string, lost bool, err error) {
	if r.StatusCode != http.StatusConflict {
		v, err := d.written(r, conflict)
		return v, false, err
	}
	cerr := d.respErr(r, conflict)
	closeBody(r)
	v, err = d.settle(ctx, id, tok, cerr)
	return v, err == cerr, err
}

// written reads the version of a write's answer r and closes it; an error answer is an
// error of respErr with conflict.
func (d *Driver[T]) written(r *esapi.Response, conflict error) (string, error) {
	defer closeBody(r)
	if r.IsError() {
		return "", d.respErr(r, conflict)
	}
	return decodeWrite(r)
}

// settleItems decides the items at idx of a _bulk write whose token base is base (record
// i's token is itemToken(base, i)) that were answered 409 (res[i].Err holds the conflict):
// an item whose document holds its token succeeds with the stored version; one whose
// document cannot be read back gets an unknown outcome.
func (d *Driver[T]) settleItems(ctx context.Context, idx []int, res []repo.Result, base string) {
	if len(idx) == 0 {
		return
	}
	toks := make([]string, len(idx))
	for k, i := range idx {
		toks[k] = itemToken(base, i)
	}
	vers, errs := d.ownWrites(ctx, idsOf(res, idx), toks)
	for k, i := range idx {
		switch {
		case errs[k] != nil:
			res[i].Err = unknownOutcome(res[i].Err, errs[k])
		case vers[k] != "":
			res[i].Version, res[i].Err = vers[k], nil
		}
	}
}
