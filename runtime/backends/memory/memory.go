// Package memory is repokit's in-memory backend: the embedded default that needs no server,
// and what users' own unit tests use. It implements repo.Driver with the same semantics as
// every other backend (it evaluates queries with package eval) and is safe for concurrent
// use.
//
// Records are stored as deep copies, so a caller can never modify a stored record, and
// every record returned is the caller's own copy. A stored record is never modified in
// place: an update stores a new copy, so a query can finish reading the records it matched
// after releasing the lock.
package memory

import (
	"context"
	"errors"
	"iter"
	"strconv"
	"sync"

	"github.com/repokit/repokit/runtime/eval"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// Driver stores records of type T in memory. Use it through repo.New:
//
//	products := repo.New(catalog.ProductSchema, memory.New(catalog.ProductSchema))
type Driver[T any] struct {
	desc *record.Desc[T]

	mu     sync.RWMutex
	recs   []*T           // stored records, in no particular order; never modified once stored
	index  map[string]int // id → position in recs
	seq    uint64         // the last version number issued
	closed bool

	// unique maps, for every field declared unique (by index in desc.Fields), each present
	// value (record.Field.UniqueValue) to the id of the record holding it. Missing values
	// never conflict.
	unique map[int]map[string]string
}

var _ repo.Driver[struct{}] = (*Driver[struct{}])(nil)

// New returns an empty in-memory driver for records described by desc.
func New[T any](desc *record.Desc[T]) *Driver[T] {
	d := &Driver[T]{desc: desc, index: make(map[string]int), unique: make(map[int]map[string]string)}
	for i := 1; i < len(desc.Fields); i++ {
		if f := &desc.Fields[i]; f.Unique && f.UniqueSupported() {
			d.unique[i] = make(map[string]string)
		}
	}
	return d
}

// uniqueConflict reports ErrAlreadyExists when a unique field of rec holds a value that a
// record other than self already holds, naming the first such field; when that record is
// in batch (the ids an Insert call stored before rec), the error names it as an earlier
// record of the same batch. The caller holds d.mu.
func (d *Driver[T]) uniqueConflict(rec *T, self string, batch map[string]bool) error {
	for i := 1; i < len(d.desc.Fields); i++ {
		owners, unique := d.unique[i]
		if !unique {
			continue
		}
		k, ok := d.desc.Fields[i].UniqueValue(rec)
		if !ok {
			continue
		}
		if owner, taken := owners[k]; taken && owner != self {
			if batch[owner] {
				return repo.UniqueTakenEarlier(d.desc.Fields[i].Name, owner)
			}
			return repo.UniqueTaken(d.desc.Fields[i].Name, nil)
		}
	}
	return nil
}

// indexUnique records (add) or forgets (!add) the unique values of the stored record r.
// The caller holds d.mu for writing.
func (d *Driver[T]) indexUnique(r *T, add bool) {
	id := d.desc.GetID(r)
	for i, owners := range d.unique {
		k, ok := d.desc.Fields[i].UniqueValue(r)
		if !ok {
			continue
		}
		if add {
			owners[k] = id
		} else if owners[k] == id {
			delete(owners, k)
		}
	}
}

// ctxCheckEvery is how many records a scan reads between checks of its context.
const ctxCheckEvery = 4096

var errClosed = repo.E(repo.ErrClosed, errors.New("the in-memory store is closed"))

// nextVersion returns a new version token. Versions come from one counter per driver, so
// a record deleted and created again never reuses a version an old reader may hold.
// The caller holds d.mu for writing.
func (d *Driver[T]) nextVersion() string {
	d.seq++
	return strconv.FormatUint(d.seq, 10)
}

// store saves a copy of rec with a new version, which it also sets in rec. The caller holds
// d.mu for writing.
func (d *Driver[T]) store(rec *T, at int) string {
	v := d.nextVersion()
	d.desc.SetVersion(rec, v)
	c := d.desc.Clone(rec)
	if at < 0 {
		d.index[d.desc.GetID(&c)] = len(d.recs)
		d.recs = append(d.recs, &c)
	} else {
		d.indexUnique(d.recs[at], false)
		d.recs[at] = &c
	}
	d.indexUnique(&c, true)
	return v
}

// Insert implements repo.Driver. A record whose id is already stored, or taken by an
// earlier record of the same batch, gets ErrAlreadyExists; the others are stored.
func (d *Driver[T]) Insert(ctx context.Context, recs []T, res []repo.Result) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errClosed
	}
	var batch map[string]bool // ids stored by this call, when a later record may meet their values
	if len(recs) > 1 && len(d.unique) > 0 {
		batch = make(map[string]bool, len(recs))
	}
	for i := range recs {
		id := d.desc.GetID(&recs[i])
		res[i].ID = id
		if _, taken := d.index[id]; taken {
			res[i].Err = repo.E(repo.ErrAlreadyExists, nil)
			continue
		}
		if err := d.uniqueConflict(&recs[i], id, batch); err != nil {
			res[i].Err = err
			continue
		}
		r := recs[i]
		res[i].Version = d.store(&r, -1)
		if batch != nil {
			batch[id] = true
		}
	}
	return nil
}

// Get implements repo.Driver.
func (d *Driver[T]) Get(ctx context.Context, id string) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return zero, errClosed
	}
	i, ok := d.index[id]
	if !ok {
		return zero, repo.E(repo.ErrNotFound, nil)
	}
	return d.desc.Clone(d.recs[i]), nil
}

// Update implements repo.Driver.
func (d *Driver[T]) Update(ctx context.Context, rec *T, ifVersion string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errClosed
	}
	i, ok := d.index[d.desc.GetID(rec)]
	if !ok {
		return repo.E(repo.ErrNotFound, nil)
	}
	if err := d.checkVersion(i, ifVersion); err != nil {
		return err
	}
	if err := d.uniqueConflict(rec, d.desc.GetID(rec), nil); err != nil {
		return err
	}
	d.store(rec, i)
	return nil
}

func (d *Driver[T]) checkVersion(i int, ifVersion string) error {
	if ifVersion == "" {
		return nil
	}
	if cur := d.desc.GetVersion(d.recs[i]); cur != ifVersion {
		return repo.VersionConflict(ifVersion)
	}
	return nil
}

// Upsert implements repo.Driver.
func (d *Driver[T]) Upsert(ctx context.Context, rec *T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errClosed
	}
	at := -1
	if i, ok := d.index[d.desc.GetID(rec)]; ok {
		at = i
	}
	if err := d.uniqueConflict(rec, d.desc.GetID(rec), nil); err != nil {
		return err
	}
	d.store(rec, at)
	return nil
}

// Delete implements repo.Driver.
func (d *Driver[T]) Delete(ctx context.Context, id, ifVersion string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errClosed
	}
	i, ok := d.index[id]
	if !ok {
		return repo.E(repo.ErrNotFound, nil)
	}
	if err := d.checkVersion(i, ifVersion); err != nil {
		return err
	}
	d.remove(i)
	return nil
}

// remove forgets the stored record at position i and its unique values. The caller holds
// d.mu for writing.
func (d *Driver[T]) remove(i int) {
	d.indexUnique(d.recs[i], false)
	id := d.desc.GetID(d.recs[i])
	last := len(d.recs) - 1
	if i != last {
		moved := d.recs[last]
		d.recs[i] = moved
		d.index[d.desc.GetID(moved)] = i
	}
	d.recs[last] = nil
	d.recs = d.recs[:last]
	delete(d.index, id)
}

// Exists implements repo.Driver.
func (d *Driver[T]) Exists(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return false, errClosed
	}
	_, ok := d.index[id]
	return ok, nil
}

// Query implements repo.Driver. The spec is compiled when Query is called. Iterating
// collects the matching records under a read lock, then sorts them and yields copies
// without holding any lock, checking ctx before every record.
func (d *Driver[T]) Query(ctx context.Context, spec *query.Spec) iter.Seq2[T, error] {
	plan, err := eval.NewPlan(d.desc, spec)
	if err != nil {
		return repo.ErrorSeq[T](repo.E(repo.ErrInvalidInput, err))
	}
	return func(yield func(T, error) bool) {
		matches, err := d.scan(ctx, plan.Filter())
		if err != nil {
			var zero T
			yield(zero, err)
			return
		}
		plan.Yield(ctx, plan.Window(matches), yield)
	}
}

// scan returns the stored records that f matches (every record when f is nil).
func (d *Driver[T]) scan(ctx context.Context, f *eval.Filter[T]) ([]*T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return nil, errClosed
	}
	if f.MatchesAll() {
		return append([]*T(nil), d.recs...), nil
	}
	var out []*T
	for start := 0; start < len(d.recs); start += ctxCheckEvery {
		if start > 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out = f.Append(out, d.recs[start:min(start+ctxCheckEvery, len(d.recs))])
	}
	return out, nil
}

// Count implements repo.Driver.
func (d *Driver[T]) Count(ctx context.Context, filter query.Expr) (int64, error) {
	f, err := eval.CompileFilter(d.desc, filter)
	if err != nil {
		return 0, repo.E(repo.ErrInvalidInput, err)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return 0, errClosed
	}
	if f.MatchesAll() {
		return int64(len(d.recs)), nil
	}
	var n int64
	var buf []*T
	for start := 0; start < len(d.recs); start += ctxCheckEvery {
		if start > 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		buf = f.Append(buf[:0], d.recs[start:min(start+ctxCheckEvery, len(d.recs))])
		n += int64(len(buf))
	}
	return n, nil
}

// Len returns the number of stored records.
func (d *Driver[T]) Len() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.recs)
}

// Close implements repo.Driver: it drops every record; later calls fail with
// repo.ErrClosed.
func (d *Driver[T]) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	d.recs, d.index, d.unique = nil, nil, nil
	return nil
}
