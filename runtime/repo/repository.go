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
	// Pages are keyset-based: records created or deleted between calls shift nothing.
	Page(ctx context.Context, q query.Query[T], cursor string) (Page[T], error)
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
