package repo

import (
	"context"
	"iter"

	"github.com/repokit/repokit/runtime/query"
)

// Repository is the interface every generated repository satisfies, whatever its backend.
// Generated packages alias it per record: type ProductRepository = repo.Repository[Product].
type Repository[T any] interface {
	// Create stores a new record and returns it with its id (generated when the schema
	// says so and the id is empty) and version set. ErrAlreadyExists if the id is taken.
	Create(ctx context.Context, rec T) (T, error)
	// CreateBatch stores new records and returns one Result per record, in order. A record
	// that fails (a taken id, an invalid value) does not stop the others; a record whose id
	// an earlier valid record of the batch has fails with ErrAlreadyExists. The error is
	// non-nil only when the call as a whole failed.
	CreateBatch(ctx context.Context, recs []T) ([]Result, error)
	// Get returns the record with the id, or ErrNotFound.
	Get(ctx context.Context, id string) (T, error)
	// Update replaces an existing record and returns it with its new version. With
	// IfVersion the stored version must match (ErrVersionConflict otherwise).
	Update(ctx context.Context, rec T, opts ...WriteOption) (T, error)
	// Upsert creates or replaces the record and returns it with its new version.
	Upsert(ctx context.Context, rec T) (T, error)
	// Delete removes the record; ErrNotFound if there is none. With IfVersion the stored
	// version must match.
	Delete(ctx context.Context, id string, opts ...WriteOption) error
	// Exists reports whether a record with the id exists.
	Exists(ctx context.Context, id string) (bool, error)
	// Find returns every record matching q, sorted, after offset, up to limit.
	Find(ctx context.Context, q query.Query[T]) ([]T, error)
	// Count returns the number of records matching q's filter; q's sort, limit, offset and
	// projection do not apply.
	Count(ctx context.Context, q query.Query[T]) (int64, error)
	// Stream yields the records Find would return, one at a time, without loading them all.
	// Breaking the loop early releases every resource; an error ends the sequence.
	Stream(ctx context.Context, q query.Query[T]) iter.Seq2[T, error]
	// Page returns one page of at most q's limit records (DefaultPageSize if none) after the
	// cursor ("" for the first page) and the cursor of the next page ("" after the last).
	// Pages are keyset-based: records created or deleted between calls shift nothing. A
	// relevance order (query.Query.OrderByRelevance) has no keyset and is ErrInvalidInput
	// (wrapping query.ErrBadQuery): page it with Find, Limit and Offset.
	Page(ctx context.Context, q query.Query[T], cursor string) (Page[T], error)
	// GetBatch returns the record of each id, in order, and one Result per id: a missing
	// id is that item's ErrNotFound (its record the zero value), an invalid one its
	// ErrInvalidInput, and an id given twice gets the record (read once) in both places.
	// The error is non-nil only when the call as a whole failed.
	GetBatch(ctx context.Context, ids []string) ([]T, []Result, error)
	// UpsertBatch creates or replaces each record, as Upsert does, and returns one Result
	// per record, in order. With IfRecordVersions (or IfVersions) an item with a version is
	// conditional on it, as Update with IfVersion is. The batch means what the loop of
	// Upsert calls over its items, in order, means: an item repeating an earlier item's id
	// is written after it. The error is non-nil only when the call as a whole failed.
	UpsertBatch(ctx context.Context, recs []T, opts ...BatchOption) ([]Result, error)
	// UpdateBatch replaces each existing record, as Update does (ErrNotFound for a missing
	// one), and returns one Result per record, in order; options and meaning as
	// UpsertBatch's.
	UpdateBatch(ctx context.Context, recs []T, opts ...BatchOption) ([]Result, error)
	// DeleteBatch removes the record of each id, as Delete does, and returns one Result
	// per id, in order: ErrNotFound for a missing one, and for an id given twice the second
	// time. With IfVersions each delete with a version is conditional on it.
	DeleteBatch(ctx context.Context, ids []string, opts ...BatchOption) ([]Result, error)
	// DeleteWhere removes every record matching q's filter (every record when it has
	// none) and returns how many it removed. q's sort and projection do not apply; a limit
	// or offset is ErrInvalidInput. Unique values the records held are released.
	DeleteWhere(ctx context.Context, q query.Query[T]) (int64, error)
	// StreamWrite creates the records of an unbounded sequence, in batches of
	// DefaultStreamBatchSize (see StreamBatchSize) through the backend's CreateBatch path,
	// with memory bounded by the batch size. Each record means what Create of it means; a
	// record that fails does not stop the others and is listed in the result. When ctx
	// ends it stops reading the sequence and returns what it stored with ctx's error.
	StreamWrite(ctx context.Context, recs iter.Seq[T], opts ...StreamOption) (StreamResult, error)
	// StreamTransform reads the records matching q's filter in pages in id order, passes
	// each to fn and writes fn's result back (ActionWrite), deletes the record
	// (ActionDelete) or leaves it (ActionSkip), in batches. Each write and delete is
	// conditional on the version read, so a record changed meanwhile is that item's
	// ErrVersionConflict. An error from fn stops it: the decisions made before it are
	// carried out, and the error is returned with the counts.
	StreamTransform(ctx context.Context, q query.Query[T], fn func(T) (T, Action, error), opts ...StreamOption) (StreamResult, error)
	// Aggregate computes metrics over the records matching q's filter, in one group per
	// distinct tuple of the group keys' values (one group of every matching record when
	// there are none), sorted by the keys with null keys last: e.g. Aggregate(ctx, q,
	// query.By(Products.Category.GroupBy()), Products.Price.Avg()). Each group's Count is
	// its number of records; its Metrics follow metrics' order. q's sort, limit, offset and
	// projection do not apply. docs/semantics.md, "Aggregations", states the meaning.
	Aggregate(ctx context.Context, q query.Query[T], groups []query.GroupKey[T], metrics ...query.Metric[T]) ([]query.Group, error)
	// Close releases the repository's resources. It is safe to call more than once.
	Close() error
}

// Result is the outcome of one record of a batch.
type Result struct {
	ID      string // the record's id (generated ones included)
	Version string // the stored version, on success
	Err     error  // nil on success
}

// Page is one page of results.
type Page[T any] struct {
	Items []T
	Next  string // cursor of the next page; "" when this is the last page
}

// WriteOption modifies Update and Delete.
type WriteOption func(*writeOptions)

type writeOptions struct {
	ifVersion    string
	ifVersionSet bool
}

// IfVersion makes an Update or Delete conditional: it succeeds only if the stored
// version still equals v (usually the RecordVersion a Get returned), and fails with
// ErrVersionConflict otherwise.
func IfVersion(v string) WriteOption {
	return func(o *writeOptions) { o.ifVersion, o.ifVersionSet = v, true }
}

// DefaultPageSize is the page size Page uses when the query has no limit.
const DefaultPageSize = 100
