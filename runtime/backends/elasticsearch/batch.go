package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"

	"github.com/repokit/repokit/runtime/repo"
)

// The bulk fast paths of the Repository's batch methods (repo.BatchGetter, BatchUpserter,
// BatchUpdater, BatchDeleter, QueryDeleter): _mget for reads, _bulk for writes, each item
// with the outcome the driver's single call would give it. Records with unique fields are
// written by batch_unique.go; DeleteMatching is in deletematching.go.

var _ repo.BulkDriver[struct{}] = (*Driver[struct{}])(nil)

// maxAttempts bounds the reads and conditional writes of one item of a write without a
// version that another writer keeps changing under it, as in Update (10 retries).
const maxAttempts = 11

// GetMany implements repo.BatchGetter with _mget requests (the ids are sent in the body,
// never in the URL), real time like Get, every _source decoded as Get decodes it (upgraded
// to the newest schema version with WithMigrations). A missing record is that item's
// ErrNotFound; a document the server could not read is its ErrUnavailable. The ids are
// split into chunks of at least minGetChunk (at most Options.BatchDocs), up to
// getConcurrency of them in flight: a shard reads the documents of one _mget one after the
// other on one thread, so several requests let the node use several, and the decoding of
// one response overlaps the reading of the next. When a request fails, the items of its
// chunk and of the chunks not yet sent get its error, and it is returned.
func (d *Driver[T]) GetMany(ctx context.Context, ids []string, recs []T, res []repo.Result) error {
	for i := range ids {
		res[i] = repo.Result{ID: ids[i]}
	}
	parts := max(1, min(getConcurrency, (len(ids)+minGetChunk-1)/minGetChunk))
	step := max(1, min(d.o.BatchDocs, (len(ids)+parts-1)/parts))
	sem := make(chan struct{}, getConcurrency)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed error
	)
	for start := 0; start < len(ids); start += step {
		end := min(start+step, len(ids))
		sem <- struct{}{}
		mu.Lock()
		err := failed
		mu.Unlock()
		if err != nil {
			<-sem
			failAll(res, seq(start, end), err)
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			var err error
			if d.codec.direct && d.codec.up == nil {
				err = d.getDirect(ctx, ids[start:end], recs[start:end], res[start:end])
			} else {
				err = d.getDecoded(ctx, ids[start:end], recs[start:end], res[start:end])
			}
			if err != nil {
				failAll(res, seq(start, end), err)
				mu.Lock()
				if failed == nil {
					failed = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failed
}

// GetMany's chunking: up to getConcurrency _mget requests in flight, of at least
// minGetChunk ids each.
const (
	getConcurrency = 4
	minGetChunk    = 250
)

// seq returns the ints from start to end (excluded).
func seq(start, end int) []int {
	out := make([]int, 0, end-start)
	for i := start; i < end; i++ {
		out = append(out, i)
	}
	return out
}

// getDecoded reads one chunk of GetMany, decoding each _source as Get does.
func (d *Driver[T]) getDecoded(ctx context.Context, ids []string, recs []T, res []repo.Result) error {
	docs, err := d.mgetDocs(ctx, d.o.Index, ids, nil, false)
	if err != nil {
		return err
	}
	d.decodeEach(docs, recs, res)
	return nil
}

// decodeEach sets the outcome of each document of an _mget response: its error,
// ErrNotFound, or its record decoded by codec.decode and its version.
func (d *Driver[T]) decodeEach(docs []mgetDoc, recs []T, res []repo.Result) {
	for i := range docs {
		doc := &docs[i]
		if err := doc.err(); err != nil {
			res[i].Err = err
			continue
		}
		if !doc.Found {
			res[i].Err = repo.E(repo.ErrNotFound, nil)
			continue
		}
		var rec T
		if err := d.codec.decode(doc.Source, &rec); err != nil {
			res[i].Err = err
			continue
		}
		v := version(doc.SeqNo, doc.Term)
		d.desc.SetVersion(&rec, v)
		recs[i], res[i].Version = rec, v
	}
}

// directDoc is a document of an _mget response whose _source is decoded straight into T.
type directDoc[T any] struct {
	ID     string          `json:"_id"`
	Found  bool            `json:"found"`
	SeqNo  int64           `json:"_seq_no"`
	Term   int64           `json:"_primary_term"`
	Source T               `json:"_source"`
	Error  json.RawMessage `json:"error"`
}

func (doc *directDoc[T]) id() string { return doc.ID }

// getDirect reads one chunk of GetMany for a record whose _source decodes with one
// json.Unmarshal (codec.direct) and needs no upgrade: the response is read whole and decoded
// in one pass (see decodeDirect).
func (d *Driver[T]) getDirect(ctx context.Context, ids []string, recs []T, res []repo.Result) error {
	r, err := d.mgetRequest(ctx, d.o.Index, ids, nil, false)
	if err != nil {
		return err
	}
	buf := bodyBufs.Get().(*bytes.Buffer)
	buf.Reset()
	_, err = buf.ReadFrom(r.Body)
	closeBody(r)
	defer bodyBufs.Put(buf)
	if err != nil {
		return readMgetErr(d.o.Index, err)
	}
	err = d.decodeDirect(buf.Bytes(), ids, recs, res)
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		// A _source that does not decode into T (written by other code): read the chunk
		// again document by document, so that only that item fails, as with Get.
		return d.getDecoded(ctx, ids, recs, res)
	}
	return err
}

// decodeDirect decodes the _mget response body for ids, each _source straight into its
// record, which is what codec.decode would give: with codec.fast (each item then as Get
// gives it), or, for a T it does not decode, with encoding/json (then a _source that does
// not decode into T fails the whole response with a *json.UnmarshalTypeError).
func (d *Driver[T]) decodeDirect(body []byte, ids []string, recs []T, res []repo.Result) error {
	if fd := d.codec.fast; fd != nil {
		docs := make([]fastDoc, len(ids))
		if fd.decode(body, ids, recs, docs) {
			d.finishFast(docs, recs, res)
			return nil
		}
		// Not the usual response: decoded by encoding/json, each _source as Get does.
		clear(recs)
		each, err := decodeMget[mgetDoc](bytes.NewReader(body), d.o.Index, ids)
		if err != nil {
			return err
		}
		d.decodeEach(each, recs, res)
		return nil
	}
	docs, err := decodeMget[directDoc[T]](bytes.NewReader(body), d.o.Index, ids)
	if err != nil {
		return err
	}
	for i := range docs {
		doc := &docs[i]
		if err := (&mgetDoc{Error: doc.Error}).err(); err != nil {
			res[i].Err = err
			continue
		}
		if !doc.Found {
			res[i].Err = repo.E(repo.ErrNotFound, nil)
			continue
		}
		v := version(doc.SeqNo, doc.Term)
		d.desc.SetVersion(&doc.Source, v)
		recs[i], res[i].Version = doc.Source, v
	}
	return nil
}

// finishFast sets the outcome of each document codec.fast decoded: its error, ErrNotFound,
// or its record (a _source fastDec declined, or none, decoded by codec.decode, so that only
// that item fails if it does not decode, as with Get) and version.
func (d *Driver[T]) finishFast(docs []fastDoc, recs []T, res []repo.Result) {
	var zero T
	for i := range docs {
		doc := &docs[i]
		if err := (&mgetDoc{Error: doc.err}).err(); err != nil {
			recs[i], res[i].Err = zero, err
			continue
		}
		if !doc.found {
			recs[i], res[i].Err = zero, repo.E(repo.ErrNotFound, nil)
			continue
		}
		if !doc.done {
			if err := d.codec.decode(doc.slow, &recs[i]); err != nil {
				recs[i], res[i].Err = zero, err
				continue
			}
		}
		v := version(doc.seq, doc.term)
		d.desc.SetVersion(&recs[i], v)
		res[i].Version = v
	}
}

// bodyBufs holds the buffers GetMany reads _mget responses into.
var bodyBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// UpsertMany implements repo.BatchUpserter: one _bulk request per chunk of index actions,
// an item with a version conditional on it (if_seq_no/if_primary_term, as Update). Records
// with unique fields are read first and written conditionally, as Upsert does (see
// putManyUnique). A driver on a cluster ahead of its migrations writes item by item,
// keeping what it does not know (see older.go).
func (d *Driver[T]) UpsertMany(ctx context.Context, recs []T, ifVersion []string, res []repo.Result) error {
	if keep, err := d.older.Keeping(ctx); err != nil {
		return err
	} else if keep != nil {
		return d.eachKeeping(ctx, recs, ifVersion, res, func(ctx context.Context, rec *T, v string) error {
			if v != "" {
				return d.Update(ctx, rec, v)
			}
			return d.Upsert(ctx, rec)
		})
	}
	if d.uq != nil {
		return d.putManyUnique(ctx, recs, ifVersion, res, true)
	}
	return d.putMany(ctx, recs, ifVersion, res, true)
}

// UpdateMany implements repo.BatchUpdater: the items without a version are read first
// (one _mget, no _source) and, like those with one, written with index actions conditional
// on their version in one _bulk request per chunk, so that an update never creates a
// record; an item another writer changed between the read and the write is read and sent
// again, as Update does. Records with unique fields: see putManyUnique. A driver on a
// cluster ahead of its migrations writes item by item (see older.go).
func (d *Driver[T]) UpdateMany(ctx context.Context, recs []T, ifVersion []string, res []repo.Result) error {
	if keep, err := d.older.Keeping(ctx); err != nil {
		return err
	} else if keep != nil {
		return d.eachKeeping(ctx, recs, ifVersion, res, d.Update)
	}
	if d.uq != nil {
		return d.putManyUnique(ctx, recs, ifVersion, res, false)
	}
	return d.putMany(ctx, recs, ifVersion, res, false)
}

// DeleteMany implements repo.BatchDeleter: delete actions in one _bulk request per chunk,
// conditional on the item's version when it has one; 404 is ErrNotFound, 409
// ErrVersionConflict (ErrNotFound when the record is gone). Records with unique fields are
// read first, deleted conditionally and their reservations released (deleteManyUnique).
func (d *Driver[T]) DeleteMany(ctx context.Context, ids []string, ifVersion []string, res []repo.Result) error {
	for i := range ids {
		res[i] = repo.Result{ID: ids[i]}
	}
	if d.uq != nil {
		return d.deleteManyUnique(ctx, ids, ifVersion, res)
	}
	var check []int
	ops := make([]bulkOp, 0, len(ids))
	for i := range ids {
		op := bulkOp{i: i, action: "delete"}
		if v := at(ifVersion, i); v != "" {
			seq, term, ok := parseVersion(v)
			if !ok {
				res[i].Err = repo.VersionNotIssued(v)
				check = append(check, i)
				continue
			}
			op.cond, op.seq, op.term = true, seq, term
		}
		ops = append(ops, op)
	}
	err := d.writeBulk(ctx, ops, nil, res)
	for _, op := range ops {
		if op.cond && errors.Is(res[op.i].Err, repo.ErrVersionConflict) {
			check = append(check, op.i)
		}
	}
	return errors.Join(err, d.notFoundOr(ctx, check, res))
}

// startPut sets each item's id in res and splits the items of a batch write (splitIssued).
func (d *Driver[T]) startPut(recs []T, ifVersion []string, res []repo.Result) (pending, check []int) {
	for i := range recs {
		res[i] = repo.Result{ID: d.desc.GetID(&recs[i])}
	}
	return splitIssued(ifVersion, len(recs), res)
}

// splitIssued splits the n items of a batch call: check, those whose version this backend
// cannot have issued (res[i].Err set; ErrNotFound instead when the record turns out to be
// missing), and pending, the others, in batch order.
func splitIssued(ifVersion []string, n int, res []repo.Result) (pending, check []int) {
	pending = make([]int, 0, n)
	for i := range n {
		if v := at(ifVersion, i); v != "" {
			if _, _, ok := parseVersion(v); !ok {
				res[i].Err = repo.VersionNotIssued(v)
				check = append(check, i)
				continue
			}
		}
		pending = append(pending, i)
	}
	return pending, check
}

// passes runs pass on the pending items, then on the items it returns (refused with a 409:
// changed by another writer since they were read, to read and send again), until none is
// left or pass fails. pass adds to check the items whose conflict stands (again). It
// returns pass's error joined with notFoundOr's on check.
func (d *Driver[T]) passes(ctx context.Context, pending, check []int, res []repo.Result, pass func(attempt int, pending []int, check *[]int) (next []int, err error)) error {
	var failed error
	for attempt := 1; len(pending) > 0; attempt++ {
		next, err := pass(attempt, pending, &check)
		if err != nil {
			failed = err
			break
		}
		pending = next
	}
	return errors.Join(failed, d.notFoundOr(ctx, check, res))
}

// again reports whether item i, refused with a 409 on its attempt-th write, is read and
// sent again: when the call gave it no version, attempts remain (maxAttempts) and its
// request was answered (err == nil). Otherwise its conflict stands, to check.
func again(ifVersion []string, i, attempt int, err error) bool {
	return at(ifVersion, i) == "" && attempt < maxAttempts && err == nil
}

// putMany writes records without unique fields: an item with a version conditionally on
// it; one without, when updating, conditionally on the version read just before (read and
// sent again, at most maxAttempts times, while other writers change it), when upserting
// unconditionally.
func (d *Driver[T]) putMany(ctx context.Context, recs []T, ifVersion []string, res []repo.Result, upsert bool) error {
	pending, check := d.startPut(recs, ifVersion, res)
	return d.passes(ctx, pending, check, res, func(attempt int, pending []int, check *[]int) ([]int, error) {
		cur := map[int]string{} // the versions read, of the items to update without one
		if !upsert {
			var read []int
			for _, i := range pending {
				if at(ifVersion, i) == "" {
					read = append(read, i)
				}
			}
			docs, err := d.readDocs(ctx, idsOf(res, read), nil, true)
			if err != nil {
				failAll(res, pending, err)
				return nil, err
			}
			for k, i := range read {
				switch doc := &docs[k]; {
				case doc.err() != nil:
					res[i].Err = doc.err()
				case !doc.Found:
					res[i].Err = repo.E(repo.ErrNotFound, nil)
				default:
					cur[i] = version(doc.SeqNo, doc.Term)
				}
			}
		}
		ops := make([]bulkOp, 0, len(pending))
		for _, i := range pending {
			v := at(ifVersion, i)
			if v == "" && !upsert {
				if v = cur[i]; v == "" {
					continue // its error is set
				}
			}
			op := bulkOp{i: i, action: "index"}
			if v != "" {
				op.seq, op.term, _ = parseVersion(v)
				op.cond = true
			}
			ops = append(ops, op)
		}
		err := d.writeBulk(ctx, ops, recs, res)
		var next []int
		for _, op := range ops {
			i := op.i
			switch {
			case res[i].Err == nil:
				d.desc.SetVersion(&recs[i], res[i].Version)
			case !op.cond || !errors.Is(res[i].Err, repo.ErrVersionConflict):
			case again(ifVersion, i, attempt, err):
				next = append(next, i) // changed since it was read: read it again
			default:
				*check = append(*check, i)
			}
		}
		return next, err
	})
}

// errPending marks the result of an item whose write has not been answered.
var errPending = errors.New("elasticsearch: the write was not answered")

// bulkOp is one action of a _bulk request on the record index, for item i of a call.
type bulkOp struct {
	i         int
	action    string // index, create or delete
	cond      bool   // with if_seq_no and if_primary_term
	seq, term int
}

// writeBulk sends ops through _bulk in chunks of Options.BatchDocs actions or
// Options.BatchBytes bytes (the document of an index or create action is recs[op.i], its id
// res[op.i].ID) and fills res[op.i] of each: Version on success (none for a delete), else
// the item's error (409: ErrVersionConflict). When a request fails, the items of its chunk
// and of the later ones get its error (a write whose answer was lost is never reported
// done), and it is returned.
func (d *Driver[T]) writeBulk(ctx context.Context, ops []bulkOp, recs []T, res []repo.Result) error {
	for _, op := range ops {
		res[op.i].Version, res[op.i].Err = "", errPending
	}
	var body []byte
	idx := make([]int, 0, min(len(ops), d.o.BatchDocs))
	acts := make([]string, 0, cap(idx))
	base := newToken() // item i's write token is itemToken(base, i)
	var failed error
	flush := func() {
		if len(idx) > 0 && failed == nil {
			failed = d.sendBulk(ctx, body, idx, acts, res, repo.ErrVersionConflict, base)
		}
		body, idx, acts = body[:0], idx[:0], acts[:0]
	}
	for _, op := range ops {
		start := len(body)
		body = d.appendAction(body, op, res[op.i].ID, recs, base)
		if len(idx) > 0 && (len(idx) >= d.o.BatchDocs || len(body) > d.o.BatchBytes) {
			lines := append([]byte(nil), body[start:]...)
			body = body[:start]
			if flush(); failed != nil {
				break
			}
			body = append(body, lines...)
		}
		idx = append(idx, op.i)
		acts = append(acts, op.action)
	}
	flush()
	for _, op := range ops {
		r := &res[op.i]
		switch {
		case r.Err == errPending && failed != nil:
			r.Err = failed
		case r.Err == errPending:
			r.Err = repo.Errorf(repo.ErrUnavailable, "elasticsearch: _bulk left the item unanswered")
		case r.Err == nil && op.action == "delete":
			r.Version = ""
		}
	}
	return failed
}

// appendAction appends the _bulk lines of op on the record with the id to b; a document
// carries the write token itemToken(base, op.i).
func (d *Driver[T]) appendAction(b []byte, op bulkOp, id string, recs []T, base string) []byte {
	b = append(b, `{"`...)
	b = append(b, op.action...)
	b = append(b, `":{"_id":`...)
	b = appendString(b, id)
	if op.cond {
		b = append(b, `,"if_seq_no":`...)
		b = strconv.AppendInt(b, int64(op.seq), 10)
		b = append(b, `,"if_primary_term":`...)
		b = strconv.AppendInt(b, int64(op.term), 10)
	}
	b = append(b, "}}\n"...)
	if op.action != "delete" {
		b = d.codec.encode(b, &recs[op.i], false, itemToken(base, op.i))
		b = append(b, '\n')
	}
	return b
}

// readDocs reads the documents with the ids in real time, one _mget request per
// Options.BatchDocs ids (see mgetDocs).
func (d *Driver[T]) readDocs(ctx context.Context, ids, includes []string, noSource bool) ([]mgetDoc, error) {
	out := make([]mgetDoc, 0, len(ids))
	for start := 0; start < len(ids); start += d.o.BatchDocs {
		docs, err := d.mgetDocs(ctx, d.o.Index, ids[start:min(start+d.o.BatchDocs, len(ids))], includes, noSource)
		if err != nil {
			return nil, err
		}
		out = append(out, docs...)
	}
	return out, nil
}

// notFoundOr gives each item at idx whose record does not exist ErrNotFound in place of its
// error, as repo.NotFoundOr does for a single call; when the read fails, the items get its
// error and it is returned.
func (d *Driver[T]) notFoundOr(ctx context.Context, idx []int, res []repo.Result) error {
	if len(idx) == 0 {
		return nil
	}
	docs, err := d.readDocs(ctx, idsOf(res, idx), nil, true)
	if err != nil {
		failAll(res, idx, err)
		return err
	}
	for k, i := range idx {
		switch doc := &docs[k]; {
		case doc.err() != nil:
			res[i].Err = doc.err()
		case !doc.Found:
			res[i].Err = repo.E(repo.ErrNotFound, nil)
		}
	}
	return nil
}

// at returns vs[i], or "" when vs is nil.
func at(vs []string, i int) string {
	if vs == nil {
		return ""
	}
	return vs[i]
}

func idsOf(res []repo.Result, idx []int) []string {
	ids := make([]string, len(idx))
	for k, i := range idx {
		ids[k] = res[i].ID
	}
	return ids
}

// failAll sets err as the result of the items at idx.
func failAll(res []repo.Result, idx []int, err error) {
	for _, i := range idx {
		res[i].Version, res[i].Err = "", err
	}
}
