package repo

import (
	"context"
	"fmt"
)

// VersionConflict returns the ErrVersionConflict error of a conditional write or delete whose
// expected version v is not the stored record's: one message on every backend.
func VersionConflict(v string) *Error {
	return E(ErrVersionConflict, fmt.Errorf("the stored version is not %q", v))
}

// VersionNotIssued returns the ErrVersionConflict error of an expected version v that the
// backend cannot have issued (not of its form), so it is no stored record's.
func VersionNotIssued(v string) *Error {
	return E(ErrVersionConflict, fmt.Errorf("version %q was not issued by this backend", v))
}

// NotFoundOr returns ErrNotFound when exists (a driver's Exists) reports no record with the
// id, its error when it fails, and err otherwise. A backend whose conditional write or delete
// failed (or that refuses its expected version) uses it to report a missing record before a
// version conflict, as every backend does.
func NotFoundOr(ctx context.Context, exists func(context.Context, string) (bool, error), id string, err error) error {
	ok, xerr := exists(ctx, id)
	if xerr != nil {
		return xerr
	}
	if !ok {
		return E(ErrNotFound, nil)
	}
	return err
}
