package repo

import (
	"fmt"
	"strconv"
	"time"
)

// UniqueError is the cause of the ErrAlreadyExists error of a write that would give a record
// a value of a unique field that another record holds (errors.As reaches it). Every backend
// reports a taken value with it, so the message has one shape everywhere and names the field:
//
//	unique field email: the value is taken by another record
//	unique field email: the value is taken by record "c", earlier in the same batch
//	unique field email: the value is reserved by a write of another record that has not finished (or failed less than 30s ago)
type UniqueError struct {
	Field string // the unique field, by its schema name
	// Earlier is the id of the record of the same batch call (CreateBatch, UpsertBatch, ...) that
	// took the value first; "" when a stored record holds it.
	Earlier string
	// Pending, when not zero, says that no stored record holds the value but a write of
	// another record reserved it less than Pending (the stale reservation age) ago and may
	// still store it (the S3 and Elasticsearch backends, which reserve values before they
	// write a record).
	Pending time.Duration
	// Err is the backend's own report, when it has one (a PostgreSQL unique violation); it is
	// reachable with errors.As but not part of the message.
	Err error
}

func (e *UniqueError) Error() string {
	switch {
	case e.Earlier != "":
		return "unique field " + e.Field + ": the value is taken by record " + strconv.Quote(e.Earlier) + ", earlier in the same batch"
	case e.Pending > 0:
		return fmt.Sprintf("unique field %s: the value is reserved by a write of another record that has not finished (or failed less than %v ago)", e.Field, e.Pending)
	}
	return "unique field " + e.Field + ": the value is taken by another record"
}

// Unwrap returns the backend's own report, or nil.
func (e *UniqueError) Unwrap() error { return e.Err }

// UniqueTaken returns the error of a write that meets the value of the unique field held by a
// stored record: ErrAlreadyExists with a *UniqueError. cause is the backend's own report, or
// nil.
func UniqueTaken(field string, cause error) *Error {
	return E(ErrAlreadyExists, &UniqueError{Field: field, Err: cause})
}

// UniqueTakenEarlier returns the error of a batch record that meets the value of the unique
// field that the earlier record id of the same batch took: ErrAlreadyExists with a
// *UniqueError.
func UniqueTakenEarlier(field, id string) *Error {
	return E(ErrAlreadyExists, &UniqueError{Field: field, Earlier: id})
}

// UniquePending returns the error of a write that meets a value of the unique field that a
// write of another record reserved less than staleAfter ago and has not stored (or failed):
// ErrAlreadyExists with a *UniqueError.
func UniquePending(field string, staleAfter time.Duration) *Error {
	return E(ErrAlreadyExists, &UniqueError{Field: field, Pending: staleAfter})
}
