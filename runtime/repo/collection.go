package repo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// Collection is the portable repository for record type T over a backend Driver. It is
// safe for concurrent use. Generated constructors return one per backend.
type Collection[T any] struct {
	desc   *record.Desc[T]
	drv    Driver[T]
	opts   options
	obs    *observer // nil: no spans, no metrics
	closed atomic.Bool
}

var _ Repository[struct{}] = (*Collection[struct{}])(nil)

// New returns a Collection over the driver, configured by opts (WithCursorKey,
// WithTracerProvider, ...). Its calls are traced and measured with OpenTelemetry (see
// Telemetry): the driver, when it implements TelemetryDriver, names the store and the
// providers (a backend's are its pool.Manager's), opts override them, and otel's global
// providers are the default. New panics when an option is invalid, as a constant cursor key
// too short would be; use Configure to get an error instead.
func New[T any](desc *record.Desc[T], drv Driver[T], opts ...Option) *Collection[T] {
	c := &Collection[T]{desc: desc, drv: drv}
	if err := c.Configure(opts...); err != nil {
		panic(err)
	}
	return c
}

// Desc returns the record descriptor.
func (c *Collection[T]) Desc() *record.Desc[T] { return c.desc }

// Driver returns the backend driver, for backend-specific extensions.
func (c *Collection[T]) Driver() Driver[T] { return c.drv }

func (c *Collection[T]) fail(op, id string, err error) error { return Annotate(c.desc, op, id, err) }

// Annotate returns err as the *Error a Collection returns from op on a record of type d:
// nil stays nil; an *Error without a record name gets d's name, op and (when it has none)
// id; an *Error that already names a record is returned as it is; any other error is
// wrapped in an *Error naming the record, op and id, of kind ErrInvalidInput when it is a
// validation error (record.FieldError, query.FieldError, query.ErrBadQuery, ErrBadPattern,
// ErrBadValue) and without a kind otherwise (context errors keep their identity through
// Unwrap). Backend-specific methods outside the Repository interface (batch extensions)
// use it so their errors read like the Collection's.
func Annotate[T any](d *record.Desc[T], op, id string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) && e.Record == "" {
		cp := *e
		cp.Record, cp.Op = d.Name, op
		if cp.ID == "" {
			cp.ID = id
		}
		return &cp
	}
	if e != nil {
		return err
	}
	kind := error(nil)
	var fe *record.FieldError
	var qe *query.FieldError
	if errors.As(err, &fe) || errors.As(err, &qe) || errors.Is(err, query.ErrBadQuery) ||
		errors.Is(err, query.ErrBadPattern) || errors.Is(err, query.ErrBadValue) {
		kind = ErrInvalidInput
	}
	return &Error{Kind: kind, Record: d.Name, Op: op, ID: id, Err: err}
}

func (c *Collection[T]) invalid(op, id, msg string) error { return invalid(c.desc, op, id, msg) }

func invalid[T any](d *record.Desc[T], op, id, msg string) error {
	return &Error{Kind: ErrInvalidInput, Record: d.Name, Op: op, ID: id, Err: errors.New(msg)}
}

func (c *Collection[T]) checkOpen(op string) error {
	if c.closed.Load() {
		return &Error{Kind: ErrClosed, Record: c.desc.Name, Op: op}
	}
	return nil
}

// checkID validates an id given to Get, Update, Delete or Exists.
func (c *Collection[T]) checkID(op, id string) error {
	if err := c.checkOpen(op); err != nil {
		return err
	}
	return CheckID(c.desc, op, id)
}

// CheckID validates an id naming one record of type d, as every Collection method that
// takes an id does before calling the driver: the id must not be empty, must be valid UTF-8
// without NUL, at most MaxIDBytes long and, when d's id field is a uuid, must be a UUID in
// canonical lower-case form.
// The error is an *Error of kind ErrInvalidInput naming d's record and op. Backend-specific
// methods that take ids (batch extensions) call it so that they accept exactly the ids the
// Collection accepts.
func CheckID[T any](d *record.Desc[T], op, id string) error {
	if id == "" {
		return invalid(d, op, id, "empty id")
	}
	if err := record.CheckString(id); err != nil {
		return Annotate(d, op, "", &record.FieldError{Record: d.Name, Field: d.ID().Name, Err: err})
	}
	if err := checkIDLimit(d, id); err != nil {
		return Annotate(d, op, "", err)
	}
	if d.ID().Kind == query.KindUUID {
		if err := record.CheckUUID(id); err != nil {
			return Annotate(d, op, "", &record.FieldError{Record: d.Name, Field: d.ID().Name, Err: err})
		}
	}
	return nil
}

// prepare assigns a generated id when allowed, then validates and normalizes rec.
func (c *Collection[T]) prepare(op string, rec *T, assignID bool) error {
	return Prepare(c.desc, op, rec, assignID)
}

// Prepare readies rec, the caller's own copy of a record, for a write by op, as the
// Collection does before calling the driver: when rec has no id it assigns a new one if
// assignID is set and d's ids are generated (ErrInvalidInput otherwise), then validates and
// normalizes rec with d.Prepare and checks it against the portable limits (MaxIDBytes,
// MaxIndexedStringBytes, MaxStringBytes, MinYear to MaxYear). Errors are *Error values naming d's record and op.
// Backend-specific write methods (batch extensions) call it so that they store exactly
// what the Collection would.
func Prepare[T any](d *record.Desc[T], op string, rec *T, assignID bool) error {
	if d.GetID(rec) == "" {
		if !assignID || !d.IDGenerated {
			return invalid(d, op, "", fmt.Sprintf("%s.%s: id is required", d.Name, d.ID().Name))
		}
		d.SetID(rec, record.NewID())
	}
	if err := d.Prepare(rec); err != nil {
		return Annotate(d, op, d.GetID(rec), err)
	}
	if err := checkRecordLimits(d, rec); err != nil {
		return Annotate(d, op, d.GetID(rec), err)
	}
	return nil
}

// create is Create without instrumentation.
func (c *Collection[T]) create(ctx context.Context, rec T) (T, error) {
	var zero T
	if err := c.checkOpen("Create"); err != nil {
		return zero, err
	}
	if err := c.prepare("Create", &rec, true); err != nil {
		return zero, err
	}
	var res [1]Result
	var err error
	if si, ok := c.drv.(SingleInserter[T]); ok {
		err = si.InsertOne(ctx, &rec, &res[0])
	} else {
		recs := [1]T{rec}
		err = c.drv.Insert(ctx, recs[:], res[:])
	}
	if err == nil {
		err = res[0].Err
	}
	id := c.desc.GetID(&rec)
	if err != nil {
		return zero, c.fail("Create", id, err)
	}
	c.desc.SetVersion(&rec, res[0].Version)
	return rec, nil
}

// createBatch is CreateBatch without instrumentation. Invalid records, and records whose id an earlier valid
// record of the batch has (ErrAlreadyExists: the first one wins), get their error in their
// Result and are not sent to the backend; the others are, with distinct ids.
func (c *Collection[T]) createBatch(ctx context.Context, recs []T) ([]Result, error) {
	if err := c.checkOpen("CreateBatch"); err != nil {
		return nil, err
	}
	res := make([]Result, len(recs))
	// Each record is copied once, into valid, and prepared there (the caller's records are
	// never written); an invalid or repeated one is dropped by reusing its slot. idx maps
	// valid to recs and is only built once a record has been dropped.
	valid := make([]T, len(recs))
	var idx []int
	var seen map[string]struct{}
	n := 0
	for i := range recs {
		r := &valid[n]
		*r = recs[i]
		err := c.prepare("CreateBatch", r, true)
		id := c.desc.GetID(r)
		if err == nil && c.seenID(id, valid[:n], &seen) {
			err = c.fail("CreateBatch", id, errEarlierID)
		}
		if err != nil {
			res[i] = Result{ID: id, Err: err}
			if idx == nil {
				idx = make([]int, n, len(recs))
				for j := range idx {
					idx[j] = j
				}
			}
			continue
		}
		res[i].ID = id
		if idx != nil {
			idx = append(idx, i)
		}
		n++
	}
	if n == 0 {
		return res, nil
	}
	clear(valid[n:]) // the last dropped record, if any: no reference to the caller's memory
	valid = valid[:n]
	sub := res
	if len(valid) != len(recs) {
		sub = make([]Result, len(valid))
		for j, i := range idx {
			sub[j].ID = res[i].ID
		}
	}
	err := c.drv.Insert(ctx, valid, sub)
	for j := range sub {
		if sub[j].Err != nil {
			sub[j].Err = c.fail("CreateBatch", sub[j].ID, sub[j].Err)
		}
	}
	if len(valid) != len(recs) {
		for j, i := range idx {
			res[i] = sub[j]
		}
	}
	if err != nil {
		return res, c.fail("CreateBatch", "", err)
	}
	return res, nil
}

// errEarlierID is the error of a CreateBatch record whose id an earlier record of the batch
// has.
var errEarlierID = E(ErrAlreadyExists, errors.New("the id is taken by an earlier record of the same batch"))

// linearIDs is the number of records up to which seenID compares ids one by one; beyond,
// it builds a map.
const linearIDs = 16

// seenID reports whether one of the records in earlier (those of the batch kept so far) has
// id. *seen, nil until earlier holds linearIDs records, then holds their ids; seenID adds id
// to it when it reports false.
func (c *Collection[T]) seenID(id string, earlier []T, seen *map[string]struct{}) bool {
	if *seen == nil {
		if len(earlier) < linearIDs {
			for k := range earlier {
				if c.desc.GetID(&earlier[k]) == id {
					return true
				}
			}
			return false
		}
		*seen = make(map[string]struct{}, cap(earlier))
		for k := range earlier {
			(*seen)[c.desc.GetID(&earlier[k])] = struct{}{}
		}
	}
	if _, dup := (*seen)[id]; dup {
		return true
	}
	(*seen)[id] = struct{}{}
	return false
}

// get is Get without instrumentation.
func (c *Collection[T]) get(ctx context.Context, id string) (T, error) {
	if err := c.checkID("Get", id); err != nil {
		var zero T
		return zero, err
	}
	rec, err := c.drv.Get(ctx, id)
	return rec, c.fail("Get", id, err)
}

func (c *Collection[T]) writeOpts(op, id string, opts []WriteOption) (string, error) {
	var o writeOptions
	for _, f := range opts {
		f(&o)
	}
	if o.ifVersionSet && o.ifVersion == "" {
		return "", c.invalid(op, id, "IfVersion with an empty version")
	}
	return o.ifVersion, nil
}

// update is Update without instrumentation.
func (c *Collection[T]) update(ctx context.Context, rec T, opts ...WriteOption) (T, error) {
	var zero T
	id := c.desc.GetID(&rec)
	if err := c.checkID("Update", id); err != nil {
		return zero, err
	}
	ifv, err := c.writeOpts("Update", id, opts)
	if err != nil {
		return zero, err
	}
	if err := c.prepare("Update", &rec, false); err != nil {
		return zero, err
	}
	if err := c.drv.Update(ctx, &rec, ifv); err != nil {
		return zero, c.fail("Update", id, err)
	}
	return rec, nil
}

// upsert is Upsert without instrumentation.
func (c *Collection[T]) upsert(ctx context.Context, rec T) (T, error) {
	var zero T
	if err := c.checkOpen("Upsert"); err != nil {
		return zero, err
	}
	if id := c.desc.GetID(&rec); id != "" {
		if err := c.checkID("Upsert", id); err != nil {
			return zero, err
		}
	}
	if err := c.prepare("Upsert", &rec, true); err != nil {
		return zero, err
	}
	if err := c.drv.Upsert(ctx, &rec); err != nil {
		return zero, c.fail("Upsert", c.desc.GetID(&rec), err)
	}
	return rec, nil
}

// delete is Delete without instrumentation.
func (c *Collection[T]) delete(ctx context.Context, id string, opts ...WriteOption) error {
	if err := c.checkID("Delete", id); err != nil {
		return err
	}
	ifv, err := c.writeOpts("Delete", id, opts)
	if err != nil {
		return err
	}
	return c.fail("Delete", id, c.drv.Delete(ctx, id, ifv))
}

// exists is Exists without instrumentation.
func (c *Collection[T]) exists(ctx context.Context, id string) (bool, error) {
	if err := c.checkID("Exists", id); err != nil {
		return false, err
	}
	ok, err := c.drv.Exists(ctx, id)
	return ok, c.fail("Exists", id, err)
}

// find is Find without instrumentation.
func (c *Collection[T]) find(ctx context.Context, q *query.Query[T]) ([]T, error) {
	spec, err := c.spec("Find", *q)
	if err != nil {
		return nil, err
	}
	var out []T
	if spec.Limit > 0 && spec.Limit <= 1024 {
		out = make([]T, 0, spec.Limit)
	}
	for rec, err := range c.drv.Query(ctx, &spec) {
		if err != nil {
			return nil, c.fail("Find", "", err)
		}
		out = append(out, rec)
	}
	return out, nil
}

// count is Count without instrumentation.
func (c *Collection[T]) count(ctx context.Context, q query.Query[T]) (int64, error) {
	spec, err := c.spec("Count", q)
	if err != nil {
		return 0, err
	}
	n, err := c.drv.Count(ctx, spec.Filter)
	return n, c.fail("Count", "", err)
}

// page is Page without instrumentation.
func (c *Collection[T]) page(ctx context.Context, q query.Query[T], cursor string) (Page[T], error) {
	spec, err := c.spec("Page", q)
	if err != nil {
		return Page[T]{}, err
	}
	if spec.Offset != 0 {
		return Page[T]{}, c.invalid("Page", "", "Page does not take an offset; pass the cursor of the previous page")
	}
	size := spec.Limit
	if size == 0 {
		size = DefaultPageSize
	}
	bind := c.cursorBinding(&spec) // before the cursor's condition joins the filter
	if cursor != "" {
		after, err := c.afterCursor(&spec, cursor, bind)
		if err != nil {
			return Page[T]{}, c.fail("Page", "", err)
		}
		spec.Filter = query.AndExpr(spec.Filter, after)
	}
	// One record more than the page tells whether there is a next page; a page of
	// math.MaxInt records has none (size+1 would overflow).
	spec.Limit = size
	if size < math.MaxInt {
		spec.Limit = size + 1
	}
	items := make([]T, 0, min(size, 1024)+1)
	for rec, err := range c.drv.Query(ctx, &spec) {
		if err != nil {
			return Page[T]{}, c.fail("Page", "", err)
		}
		items = append(items, rec)
	}
	p := Page[T]{Items: items}
	if len(items) > size {
		p.Items = items[:size]
		p.Next = c.cursorAfter(&spec, &p.Items[size-1], bind)
	}
	return p, nil
}

// Close implements Repository.
func (c *Collection[T]) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	return c.drv.Close()
}
