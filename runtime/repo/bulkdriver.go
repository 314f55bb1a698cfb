package repo

import (
	"context"

	"github.com/repokit/repokit/runtime/query"
)

// The bulk driver interfaces: a backend's fast path for the Repository's batch methods
// (GetBatch, UpsertBatch, UpdateBatch, DeleteBatch, DeleteWhere). Each is optional: for a
// driver without one, Collection runs the batch as a loop of the Driver's single-record
// calls, with the same meaning. Collection prepares the input first, as for Insert: ids
// checked, records validated and normalized (an invalid item gets its error in its Result and
// is not passed on), and the ids of one call distinct (items repeating an id are sent in a
// later call, after the earlier item's outcome is known, so that a batch means what the loop
// of single calls over its items would mean).
//
// Each method fills res[i] for every item: ID always, Version on a successful write, Err
// (an *Error with a Kind, see E) for an item that failed. A non-nil return means the call
// as a whole failed (the store unreachable, ctx ended); res then tells which items were
// done (Err nil, for writes Version set) and which were not (Err set, e.g. to the context
// error or an ErrUnavailable error). A write whose answer was lost is never reported done.
//
// The Collection sets res[i].ID before the call, passes ifVersion nil when no item is
// conditional, and after it gives a unique-value error that names no holder
// (UniqueError.Earlier "") the id of the earlier item of the batch that holds the value, so a
// driver need only name the items of its own call (as Insert does). An error of kind
// ErrNotFound, ErrAlreadyExists, ErrVersionConflict or ErrInvalidInput concerns its item
// only; any other error in res should also be the call's. The memory backend implements
// every interface and is the reference; docs/batch.md states the meaning.

// BatchGetter reads many records at once (PostgreSQL = ANY($1), Elasticsearch _mget, S3
// concurrent GETs).
type BatchGetter[T any] interface {
	// GetMany reads the record of each ids[i] (distinct) into recs[i] with its version
	// set, and sets res[i].Version; a missing record gets an ErrNotFound error in res[i].
	GetMany(ctx context.Context, ids []string, recs []T, res []Result) error
}

// BatchUpserter creates or replaces many records at once.
type BatchUpserter[T any] interface {
	// UpsertMany creates or replaces each recs[i] (distinct ids) and sets its new version in
	// recs[i] and res[i]. When ifVersion is non-nil and ifVersion[i] is not empty, item i
	// is conditional exactly as Driver.Update with that version is: ErrNotFound when there
	// is no such record, ErrVersionConflict when the stored version differs. Unique values
	// are held per item as in Insert: a value taken by another stored record, or by an
	// earlier item of the call, is that item's ErrAlreadyExists.
	UpsertMany(ctx context.Context, recs []T, ifVersion []string, res []Result) error
}

// BatchUpdater replaces many existing records at once.
type BatchUpdater[T any] interface {
	// UpdateMany replaces each existing recs[i] (distinct ids) and sets its new version in
	// recs[i] and res[i]: ErrNotFound when there is no such record; when ifVersion is
	// non-nil and ifVersion[i] is not empty, ErrVersionConflict when the stored version
	// differs from it. Unique values as in UpsertMany.
	UpdateMany(ctx context.Context, recs []T, ifVersion []string, res []Result) error
}

// BatchDeleter removes many records at once.
type BatchDeleter[T any] interface {
	// DeleteMany removes the record of each ids[i] (distinct): ErrNotFound when there is
	// none; when ifVersion is non-nil and ifVersion[i] is not empty, ErrVersionConflict
	// when the stored version differs from it. Unique values the records held are
	// released.
	DeleteMany(ctx context.Context, ids []string, ifVersion []string, res []Result) error
}

// QueryDeleter removes every record matching a filter at once (PostgreSQL one DELETE,
// Elasticsearch delete-by-query, S3 list and batched deletes).
type QueryDeleter interface {
	// DeleteMatching removes every record matching filter (nil: every record) and returns
	// how many it removed. Unique values the records held are released. A record written
	// while it runs may or may not be removed; the backend's documentation says which.
	DeleteMatching(ctx context.Context, filter query.Expr) (int64, error)
}

// BulkDriver is a driver with every bulk fast path above; the four backends implement it
// (each asserts `var _ repo.BulkDriver[struct{}] = (*Driver[struct{}])(nil)`). The
// Collection checks each interface on its own, so a driver may implement any subset.
type BulkDriver[T any] interface {
	BatchGetter[T]
	BatchUpserter[T]
	BatchUpdater[T]
	BatchDeleter[T]
	QueryDeleter
}
