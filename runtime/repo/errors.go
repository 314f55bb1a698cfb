package repo

import (
	"errors"
	"strconv"
	"strings"
)

// Error kinds. Every error a repository returns is an *Error whose Kind is one of these
// (or nil when the cause is the caller's context or an unclassified failure), so callers
// branch with errors.Is(err, repo.ErrNotFound) and still reach the cause with errors.As.
var (
	ErrNotFound        = errors.New("not found")
	ErrAlreadyExists   = errors.New("already exists")
	ErrVersionConflict = errors.New("version conflict")
	ErrInvalidInput    = errors.New("invalid input")
	ErrUnavailable     = errors.New("unavailable")
	ErrClosed          = errors.New("repository closed")
	// ErrSchemaBehind is the kind of the error a constructor returns when the store has not
	// applied every migration of the generated package; the cause (a *migrate.BehindError)
	// names the applied and the pending versions.
	ErrSchemaBehind = errors.New("schema behind")
	// ErrSchemaAhead is the kind of the error a constructor returns when the store has
	// applied migrations newer than the generated package knows and its schema no longer
	// serves this code (a newer version dropped, renamed away or narrowed what it uses);
	// the cause (a *migrate.AheadError) names the versions and each reason. A store that
	// is ahead but still serves the code (added fields, indexes, enum values, widenings)
	// opens without error, as a rolling deploy needs.
	ErrSchemaAhead = errors.New("schema ahead")
)

// Error is a failed repository call: which record type, which operation, which id, of what
// kind, and the underlying cause.
type Error struct {
	Kind   error  // ErrNotFound, ErrAlreadyExists, ...; nil for context and unclassified errors
	Record string // record name, e.g. "Product"
	Op     string // operation, e.g. "Create"
	ID     string // record id, when the call concerns one record
	Err    error  // the cause; may be nil
}

// E returns an error of the given kind with a cause; drivers use it and the Collection
// fills in Record, Op and ID.
func E(kind, cause error) *Error { return &Error{Kind: kind, Err: cause} }

// Errorf returns an error of the given kind whose cause is a formatted message.
func Errorf(kind error, msg string) *Error { return &Error{Kind: kind, Err: errors.New(msg)} }

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("repokit:")
	sep := " "
	if e.Record != "" || e.Op != "" {
		b.WriteByte(' ')
		b.WriteString(e.Record)
		if e.Op != "" {
			if e.Record != "" {
				b.WriteByte('.')
			}
			b.WriteString(e.Op)
		}
		sep = ": "
	}
	if e.ID != "" {
		b.WriteString(" id=")
		b.WriteString(strconv.Quote(e.ID))
		sep = ": "
	}
	if e.Kind != nil {
		b.WriteString(sep)
		b.WriteString(e.Kind.Error())
		sep = ": "
	}
	if e.Err != nil && (e.Kind == nil || e.Err.Error() != e.Kind.Error()) {
		b.WriteString(sep)
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Is reports whether target is e's kind.
func (e *Error) Is(target error) bool { return e.Kind != nil && e.Kind == target }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of err (ErrNotFound, ...) or nil.
func KindOf(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return nil
}
