package repo

import (
	"context"
	"iter"

	"github.com/repokit/repokit/runtime/query"
)

// Driver is what a backend implements; Collection adds everything that is the same on every
// backend (input validation, id generation, normalization, cursors, error context). Driver
// methods receive prepared input: ids set and checked, records validated and normalized,
// specs checked against the record's fields with the id appended as the last sort key.
//
// Errors a driver returns should be *Error values with a Kind (use E); context errors are
// returned as they are.
type Driver[T any] interface {
	// Insert stores new records. Their ids are distinct: Collection.CreateBatch gives a
	// record whose id an earlier record of the batch has ErrAlreadyExists itself and does
	// not pass it on, so drivers need no check of their own (and may rely on it, e.g. to key
	// results by id). It fills res[i] for every record: Version on success, or Err (of kind
	// ErrAlreadyExists for an id that is taken, or a unique value taken by a stored record
	// or by an earlier record of the batch). A non-nil return means the call as a whole
	// failed; res then tells which records were stored (Version set) and which were not.
	Insert(ctx context.Context, recs []T, res []Result) error
	// Get returns the record with the id, with its version set, or ErrNotFound.
	Get(ctx context.Context, id string) (T, error)
	// Update replaces an existing record and sets its new version in rec. With ifVersion
	// non-empty the stored version must equal it (else ErrVersionConflict). ErrNotFound if
	// there is no such record.
	Update(ctx context.Context, rec *T, ifVersion string) error
	// Upsert creates or replaces the record and sets its new version in rec.
	Upsert(ctx context.Context, rec *T) error
	// Delete removes the record (ErrNotFound if there is none); with ifVersion non-empty
	// the stored version must equal it.
	Delete(ctx context.Context, id, ifVersion string) error
	// Exists reports whether a record with the id exists.
	Exists(ctx context.Context, id string) (bool, error)
	// Query yields the records matching spec in order, honouring filter, sort, offset, limit
	// and projection. Breaking the loop early must release every resource.
	Query(ctx context.Context, spec *query.Spec) iter.Seq2[T, error]
	// Count returns the number of records matching filter.
	Count(ctx context.Context, filter query.Expr) (int64, error)
	// Close releases the driver's resources (its pool lease). It is called once.
	Close() error
}

// SingleInserter is implemented by a driver whose Create of one record differs from a batch
// of one record (PostgreSQL in a transaction runs batch steps in savepoints, and Create
// without one, like a hand-written INSERT). Collection.Create calls InsertOne when the driver
// has it, and Insert otherwise. InsertOne fills res like Insert does for one record.
type SingleInserter[T any] interface {
	InsertOne(ctx context.Context, rec *T, res *Result) error
}
