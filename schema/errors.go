package schema

import (
	"cmp"
	"errors"
	"slices"
	"strings"
)

// Kinds of schema errors. Every *Error wraps exactly one of them, so errors.Is(err, ErrUnknownKey)
// works on an *Error and on an ErrorList that holds one.
var (
	ErrSyntax       = errors.New("YAML syntax error")
	ErrWrongKind    = errors.New("value of the wrong kind")
	ErrUnknownKey   = errors.New("unknown key")
	ErrUnknownType  = errors.New("unknown type")
	ErrDuplicate    = errors.New("duplicate name")
	ErrInvalidName  = errors.New("invalid name")
	ErrMissing      = errors.New("missing value")
	ErrInvalidValue = errors.New("invalid value")
	ErrReserved     = errors.New("reserved name")
	ErrVersion      = errors.New("unsupported schema version")
	ErrNoFiles      = errors.New("no schema files")
)

// Error is one problem in a schema file, at a position.
type Error struct {
	Pos    Pos
	Record string // record name, or "#N" (1-based, in its file) for a record without one; empty if none
	Field  string // field or id name, or "#N" for a field without one; empty if none
	Msg    string
	Kind   error // one of the Err* sentinels
}

// Error renders the error as "file:line:col: record R, field F: message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	b.WriteString(": ")
	if e.Record != "" {
		b.WriteString("record ")
		b.WriteString(e.Record)
		if e.Field != "" {
			b.WriteString(", field ")
			b.WriteString(e.Field)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the error's Kind.
func (e *Error) Unwrap() error { return e.Kind }

// ErrorList is every error found in a schema set, sorted by position.
type ErrorList []*Error

// Error joins the messages of the errors with newlines.
func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap returns the errors, for errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// sort orders the list by file, line and column, keeping the order of errors at one position.
func (l ErrorList) sort() {
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
		)
	})
}

// err returns the sorted list as an error, or nil when it is empty.
func (l ErrorList) err() error {
	if len(l) == 0 {
		return nil
	}
	l.sort()
	return l
}
