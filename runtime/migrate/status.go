package migrate

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Step is one action of a backend's plan for a migration, as `repokit migrate plan` prints
// it: the SQL of a PostgreSQL statement, or a described Elasticsearch or S3 action.
type Step struct {
	Version int64  // the migration the step belongs to
	Backend string // "postgres", "elasticsearch", "s3" or "memory"
	Text    string // the SQL, or a one-line description
	// Online reports whether writers keep working while the step runs; a blocking step
	// (a table rewrite, a write block) says in Text what it blocks and for how long it may.
	Online bool
}

// Progress is a report of a long step while apply runs it.
type Progress struct {
	Version int64
	Step    string // what runs, e.g. "copy product_v1 → product_v2"
	Done    int64  // units done (rows, documents, objects)
	Total   int64  // units in all; 0 when unknown
	Elapsed time.Duration
}

// Status is what a store has applied of a package's history, and how its live schema differs
// from the state the applied version describes.
type Status struct {
	Applied []int64      // versions applied, ascending
	Pending []*Migration // migrations not applied yet, in order
	Drift   []string     // live differences from the applied state, one line each; empty when none
}

// Current returns the newest applied version, or 0.
func (s *Status) Current() int64 {
	if len(s.Applied) == 0 {
		return 0
	}
	return s.Applied[len(s.Applied)-1]
}

// OK reports whether nothing is pending and nothing drifted.
func (s *Status) OK() bool { return len(s.Pending) == 0 && len(s.Drift) == 0 }

// BehindError is the cause of a repo.ErrSchemaBehind error: the store has applied version
// Applied of the package's history, and the versions in Pending are not applied yet.
type BehindError struct {
	Backend string
	Applied int64
	Pending []*Migration
}

func (e *BehindError) Error() string {
	names := make([]string, len(e.Pending))
	for i, m := range e.Pending {
		names[i] = m.BaseName()
	}
	return fmt.Sprintf("the %s store is at schema version %d; pending migrations: %s (apply them with repokit migrate apply or the generated Migrate function)",
		e.Backend, e.Applied, strings.Join(names, ", "))
}

// AheadError is the cause of a repo.ErrSchemaAhead error: the store has applied version
// Applied, newer than Known (the newest version of this code's history), and what the
// newer versions changed keeps code of version Known from working on Record: Problems
// says what, one line each.
type AheadError struct {
	Backend  string
	Record   string
	Applied  int64
	Known    int64
	Problems []string
}

func (e *AheadError) Error() string {
	return fmt.Sprintf("the %s store is at schema version %d, newer than this program's %d, and no longer serves its record %s: %s (deploy the newer code, or roll the store back)",
		e.Backend, e.Applied, e.Known, e.Record, strings.Join(e.Problems, "; "))
}

// Behind returns a *BehindError when h has migrations newer than applied, and nil otherwise.
func (h History) Behind(backend string, applied int64) error {
	if p := h.After(applied); len(p) > 0 {
		return &BehindError{Backend: backend, Applied: applied, Pending: p}
	}
	return nil
}

// Migrator applies a package's migrations to one store. Every backend that migrates has
// one (its NewMigrator), and `repokit migrate plan|apply|status` drives them through this
// interface.
type Migrator interface {
	// Plan returns what Apply would do, without changing the store.
	Plan(ctx context.Context) ([]Step, error)
	// Apply applies the pending migrations in order, each exactly once even when several
	// processes apply at once, and returns the versions it applied.
	Apply(ctx context.Context) ([]int64, error)
	// Status reports the applied and pending versions and the live drift, read-only.
	Status(ctx context.Context) (Status, error)
	// Close releases the migrator's resources; safe to call more than once.
	Close() error
}
