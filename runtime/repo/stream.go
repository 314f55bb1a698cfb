package repo

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/repokit/repokit/runtime/query"
)

// DefaultStreamBatchSize is the number of records StreamWrite sends to the store at a time,
// and the page size of StreamTransform, unless StreamBatchSize says otherwise.
const DefaultStreamBatchSize = 1000

// StreamOption modifies StreamWrite and StreamTransform.
type StreamOption func(*streamOptions)

type streamOptions struct {
	batchSize int
}

// StreamBatchSize sets the number of records StreamWrite sends to the store at a time (and
// holds in memory), and StreamTransform reads and writes back at a time. n must be at
// least 1, else the call fails with ErrInvalidInput.
func StreamBatchSize(n int) StreamOption {
	return func(o *streamOptions) { o.batchSize = n }
}

func (c *Collection[T]) streamOpts(op string, opts []StreamOption) (int, error) {
	o := streamOptions{batchSize: DefaultStreamBatchSize}
	for _, f := range opts {
		f(&o)
	}
	if o.batchSize < 1 {
		return 0, c.invalid(op, "", fmt.Sprintf("StreamBatchSize(%d): the batch size must be at least 1", o.batchSize))
	}
	return o.batchSize, nil
}

// StreamResult is the outcome of a StreamWrite or StreamTransform (the seed's StreamResult:
// total_processed, successful, failed, errors, total_batches, duration). Processed is
// always Written + Deleted + Skipped + Failed.
type StreamResult struct {
	// Processed is the number of records taken from the sequence (StreamWrite) or read
	// (StreamTransform).
	Processed int64
	// Written is the number of records stored: created (StreamWrite) or written back
	// (StreamTransform).
	Written int64
	// Deleted is the number of records StreamTransform removed (ActionDelete).
	Deleted int64
	// Skipped is the number of records StreamTransform left as they were (ActionSkip).
	Skipped int64
	// Failed is the number of records that failed; each is in Failures.
	Failed int64
	// Batches is the number of batches: CreateBatch calls made by StreamWrite, pages read
	// by StreamTransform.
	Batches int64
	// Failures lists every record that failed, in the order of Index.
	Failures []StreamFailure
	// Duration is how long the call took.
	Duration time.Duration
}

// StreamFailure is one record that a StreamWrite or StreamTransform did not store.
type StreamFailure struct {
	// Index is the record's position, from 0: in the sequence (StreamWrite) or in the order
	// read (StreamTransform).
	Index int64
	// ID is the record's id ("" for a StreamWrite record not given one yet).
	ID string
	// Err is why: an *Error with a Kind (ErrAlreadyExists, ErrInvalidInput,
	// ErrVersionConflict, ...), the context's error for a record not sent because ctx
	// ended, or the error of fn or of the call that stopped the stream.
	Err error
}

func (r *StreamResult) fail(index int64, id string, err error) {
	r.Failed++
	r.Failures = append(r.Failures, StreamFailure{Index: index, ID: id, Err: err})
}

// Action is what StreamTransform does with the record fn returns.
type Action uint8

const (
	// ActionWrite writes the record fn returned back, conditional on the version read.
	ActionWrite Action = iota + 1
	// ActionSkip leaves the stored record as it is.
	ActionSkip
	// ActionDelete removes the stored record, conditional on the version read.
	ActionDelete
)

// String returns the action's name.
func (a Action) String() string {
	switch a {
	case ActionWrite:
		return "write"
	case ActionSkip:
		return "skip"
	case ActionDelete:
		return "delete"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// streamWriter holds StreamWrite's buffers, reused from batch to batch.
type streamWriter[T any] struct {
	c    *Collection[T]
	r    *StreamResult
	base int64 // the input index of the first record of the next batch flushed
	res  []Result
	at   []int // position in buf of each record sent
	seen map[string]struct{}
}

// flush prepares the buffered records, sends the valid ones (distinct ids) to the driver's
// Insert and records every outcome, then empties the buffer.
func (w *streamWriter[T]) flush(ctx context.Context, buf []T) error {
	c, n := w.c, len(buf)
	if n == 0 {
		return nil
	}
	w.at = w.at[:0]
	clear(w.seen)
	sent := 0
	for i := 0; i < n; i++ {
		r := &buf[i]
		err := c.prepare("StreamWrite", r, true)
		id := c.desc.GetID(r)
		if err == nil {
			if _, dup := w.seen[id]; dup {
				err = c.fail("StreamWrite", id, errEarlierID)
			} else {
				w.seen[id] = struct{}{}
			}
		}
		if err != nil {
			w.r.fail(w.base+int64(i), id, err)
			continue
		}
		if sent != i {
			buf[sent] = buf[i]
		}
		w.at = append(w.at, i)
		sent++
	}
	var err error
	if sent > 0 {
		if len(w.res) < sent {
			w.res = make([]Result, sent)
		}
		res := w.res[:sent]
		clear(res)
		for k := range res {
			res[k].ID = c.desc.GetID(&buf[k])
		}
		w.r.Batches++
		err = c.drv.Insert(ctx, buf[:sent], res)
		for k := range res {
			switch {
			case res[k].Err != nil:
				w.r.fail(w.base+int64(w.at[k]), res[k].ID, c.fail("StreamWrite", res[k].ID, res[k].Err))
			case err != nil && res[k].Version == "": // not known to be stored
				w.r.fail(w.base+int64(w.at[k]), res[k].ID, c.fail("StreamWrite", res[k].ID, err))
			default:
				w.r.Written++
			}
		}
		if len(w.at) != n { // failures come in input order
			sortFailures(w.r.Failures, w.base)
		}
	}
	w.base += int64(n)
	clear(buf)
	return err
}

// sortFailures orders by Index the failures of the records from the input index base on
// (at the end of fs): a batch lists invalid records before the store's outcomes.
func sortFailures(fs []StreamFailure, base int64) {
	start := len(fs)
	for start > 0 && fs[start-1].Index >= base {
		start--
	}
	slices.SortFunc(fs[start:], func(a, b StreamFailure) int { return cmp.Compare(a.Index, b.Index) })
}

// streamWrite is StreamWrite without instrumentation.
func (c *Collection[T]) streamWrite(ctx context.Context, recs iter.Seq[T], opts []StreamOption) (StreamResult, error) {
	var r StreamResult
	start := time.Now()
	defer func() { r.Duration = time.Since(start) }()
	if err := c.checkOpen("StreamWrite"); err != nil {
		return r, err
	}
	size, err := c.streamOpts("StreamWrite", opts)
	if err != nil {
		return r, err
	}
	if recs == nil {
		return r, nil
	}
	// Two buffers: the next batch is read from recs (and the caller's iterator does its work)
	// while the previous one is being written, one batch in flight at a time.
	w := &streamWriter[T]{c: c, r: &r, seen: make(map[string]struct{})}
	var bufs [2][]T
	bufs[0] = make([]T, 0, min(size, 1<<16))
	cur := 0
	var pending chan error // the batch in flight's outcome; nil when none is
	wait := func() error {
		if pending == nil {
			return nil
		}
		err := <-pending
		pending = nil
		return err
	}
	wctx, wcancel := batchCtx(ctx)
	defer wcancel()
	done := ctx.Done()
	for rec := range recs {
		if done != nil {
			select {
			case <-done:
				err = ctx.Err()
			default:
			}
			if err != nil {
				break
			}
		}
		bufs[cur] = append(bufs[cur], rec)
		r.Processed++
		if len(bufs[cur]) == size {
			if err = wait(); err != nil {
				break
			}
			ch, full := make(chan error, 1), bufs[cur]
			go func() { ch <- w.flush(wctx, full) }()
			pending = ch
			cur ^= 1
			if bufs[cur] == nil {
				bufs[cur] = make([]T, 0, cap(full))
			}
			bufs[cur] = bufs[cur][:0]
		}
	}
	if werr := wait(); err == nil {
		err = werr
	}
	if err == nil {
		err = w.flush(wctx, bufs[cur])
	} else {
		for i := range bufs[cur] { // read but not sent: ctx ended or a batch failed as a whole
			id := c.desc.GetID(&bufs[cur][i])
			r.fail(w.base+int64(i), id, c.fail("StreamWrite", id, err))
		}
		clear(bufs[cur])
	}
	r.Duration = time.Since(start)
	return r, c.fail("StreamWrite", "", err)
}

// batchCtx returns the context StreamWrite writes its batches with: ctx's values and
// deadline, not its cancellation. A batch already sent when the caller cancels is finished,
// so that the result says exactly what was stored: a write cancelled in flight may be
// stored by the server all the same, and its outcome would be unknown.
func batchCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	b := context.WithoutCancel(ctx)
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(b, dl)
	}
	return context.WithCancel(b)
}

// streamTransform is StreamTransform without instrumentation.
func (c *Collection[T]) streamTransform(ctx context.Context, q query.Query[T], fn func(T) (T, Action, error), opts []StreamOption) (StreamResult, error) {
	var r StreamResult
	start := time.Now()
	defer func() { r.Duration = time.Since(start) }()
	filter, err := c.bulkSpec("StreamTransform", q, true)
	if err != nil {
		return r, err
	}
	size, err := c.streamOpts("StreamTransform", opts)
	if err != nil {
		return r, err
	}
	if fn == nil {
		return r, c.invalid("StreamTransform", "", "nil function")
	}
	t := transformer[T]{c: c, r: &r}
	page := make([]T, 0, min(size, 1<<16))
	last := ""
	for {
		page = page[:0]
		spec := c.idPage(filter, last, size, nil)
		for rec, err := range c.drv.Query(ctx, &spec) {
			if err != nil {
				return r, c.fail("StreamTransform", "", err)
			}
			page = append(page, rec)
		}
		if len(page) == 0 {
			return r, nil
		}
		r.Batches++
		t.base = r.Processed
		for i := range page {
			if err := t.apply(&page[i], fn); err != nil {
				if ferr := t.flush(ctx); ferr != nil {
					return r, ferr
				}
				return r, err
			}
		}
		if err := t.flush(ctx); err != nil {
			return r, err
		}
		if len(page) < size {
			return r, nil
		}
		last = c.desc.GetID(&page[len(page)-1])
		clear(page)
	}
}

// transformer holds the writes and deletes StreamTransform decided for the page read.
type transformer[T any] struct {
	c      *Collection[T]
	r      *StreamResult
	writes []T
	wvers  []string
	widx   []int64
	dels   []string
	dvers  []string
	didx   []int64
	base   int64 // the index of the page's first record
}

// apply passes rec (read with its version) to fn and records its decision. fn's error, or
// an action it may not return, is returned (and the record counted as failed).
func (t *transformer[T]) apply(rec *T, fn func(T) (T, Action, error)) error {
	c, r := t.c, t.r
	id, ver := c.desc.GetID(rec), c.desc.GetVersion(rec)
	idx := r.Processed
	r.Processed++
	out, act, err := fn(*rec)
	if err == nil && act != ActionWrite && act != ActionSkip && act != ActionDelete {
		err = c.invalid("StreamTransform", id, "fn returned "+act.String())
	}
	if err != nil {
		err = c.fail("StreamTransform", id, err)
		r.fail(idx, id, err)
		return err
	}
	switch act {
	case ActionSkip:
		r.Skipped++
	case ActionDelete:
		t.dels, t.dvers, t.didx = append(t.dels, id), append(t.dvers, ver), append(t.didx, idx)
	case ActionWrite:
		if got := c.desc.GetID(&out); got != id {
			r.fail(idx, id, c.invalid("StreamTransform", id, fmt.Sprintf("fn changed the id to %q", got)))
			return nil
		}
		t.writes, t.wvers, t.widx = append(t.writes, out), append(t.wvers, ver), append(t.widx, idx)
	}
	return nil
}

// flush writes back and deletes what apply recorded, each conditional on the version read,
// and empties the buffers. The error is that of a call that failed as a whole.
func (t *transformer[T]) flush(ctx context.Context) error {
	c, r := t.c, t.r
	var err error
	if len(t.writes) > 0 {
		var res []Result
		res, err = c.writeBatch(ctx, "StreamTransform", kindUpdate, t.writes, t.wvers)
		for k := range res {
			if res[k].Err != nil {
				r.fail(t.widx[k], res[k].ID, res[k].Err)
			} else {
				r.Written++
			}
		}
	}
	if len(t.dels) > 0 && err == nil {
		b := &batch[T]{op: "StreamTransform", kind: kindDelete, ids: t.dels, ifv: t.dvers, res: make([]Result, len(t.dels))}
		for i, id := range t.dels {
			b.res[i].ID = id
		}
		err = c.fail("StreamTransform", "", c.runBatch(ctx, b))
		for k := range b.res {
			if b.res[k].Err != nil {
				r.fail(t.didx[k], b.res[k].ID, b.res[k].Err)
			} else {
				r.Deleted++
			}
		}
	} else if len(t.dels) > 0 {
		for k, id := range t.dels { // not sent: the writes' call failed
			r.fail(t.didx[k], id, c.fail("StreamTransform", id, err))
		}
	}
	sortFailures(r.Failures, t.base)
	clear(t.writes)
	t.writes, t.wvers, t.widx = t.writes[:0], t.wvers[:0], t.widx[:0]
	t.dels, t.dvers, t.didx = t.dels[:0], t.dvers[:0], t.didx[:0]
	return err
}
