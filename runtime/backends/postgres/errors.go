package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// ErrCommandTimeout is wrapped by the cause of the repo.ErrUnavailable error of a statement
// that the command timeout (PostgresPoolConfig.CommandTimeout, WithCommandTimeout) ended:
// errors.Is(err, ErrCommandTimeout). It is not a context error: the caller's context is
// still alive.
var ErrCommandTimeout = errors.New("postgres: command timeout")

// timeoutError is the cause of a statement ended by the command timeout.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string {
	if e.d <= 0 {
		return "postgres: the server did not answer within the command timeout"
	}
	return fmt.Sprintf("postgres: the server did not answer within the command timeout (%v)", e.d)
}

func (e *timeoutError) Unwrap() error { return ErrCommandTimeout }

// commandTimeout returns the error of a statement ended by the command timeout d: unavailable
// and transient (pool.Retry retries it), but it does not mean the server or the connection
// failed, so the pool is not reported broken (see Driver.fail).
func commandTimeout(d time.Duration) error {
	return repo.E(repo.ErrUnavailable, pool.MarkTransient(&timeoutError{d: d}))
}

// ErrNotUTF8 is wrapped by the error New and NewWithDB return for a database whose encoding
// is not UTF8 (see EncodingError).
var ErrNotUTF8 = errors.New("postgres: the database encoding is not UTF8")

// EncodingError reports a database whose server encoding is not UTF8. repokit's LIKE `_`
// and REGEX `.` match exactly one code point, and strings compare as UTF-8 bytes; PostgreSQL
// does that only in a UTF8 database (in SQL_ASCII, `_` matches one byte of a multi-byte
// character). errors.Is(err, ErrNotUTF8) holds.
type EncodingError struct {
	Database string // current_database()
	Encoding string // server_encoding, e.g. SQL_ASCII, LATIN1
}

func (e *EncodingError) Error() string {
	return fmt.Sprintf("postgres: database %q has encoding %s; repokit needs a UTF8 database (LIKE _ and REGEX . match one code point only in UTF8)", e.Database, e.Encoding)
}

// Is reports whether target is ErrNotUTF8.
func (e *EncodingError) Is(target error) bool { return target == ErrNotUTF8 }

// mapErr turns a pgx error into a repository error:
//
//   - the caller's context ended: ctx.Err() itself;
//   - unique violation (23505): repo.ErrAlreadyExists;
//   - pgx.ErrNoRows: repo.ErrNotFound;
//   - data exceptions (class 22), NOT NULL and CHECK violations (23502, 23514), a value too
//     large for an index entry (54000 program_limit_exceeded, e.g. "index row size exceeds
//     btree maximum"; the portable limits keep values below it, repo.MaxIndexedStringBytes),
//     values the server rejects: repo.ErrInvalidInput, so that a batch reports it per record;
//   - connection failures (class 08, refused/reset connections, EOF, timeouts, server
//     shutdown 57P01-57P03, too many connections 53300, a closed pool), a statement cancelled
//     on the server (57014) and a context that is not the caller's (the command timeout):
//     repo.ErrUnavailable, marked transient for pool.Retry;
//   - a COPY that pgx aborted because it could not encode a row (57014 "COPY from stdin
//     failed"): an *repo.Error without a kind, not transient;
//   - transaction already closed: repo.ErrClosed;
//   - anything else: an *repo.Error without a kind.
func mapErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ce := ctx.Err(); ce != nil {
		return ce
	}
	if isCtxErr(err) && !isConnectErr(err) {
		// A context that is not the caller's (the command timeout) ended the call. (A new
		// connection that the server did not accept within the connect timeout also wraps
		// context.DeadlineExceeded: that is a connection failure, below.)
		return commandTimeout(0)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505":
			return repo.E(repo.ErrAlreadyExists, err)
		case pe.Code == "57014" && (pe.Routine == "CopyGetData" || strings.HasPrefix(pe.Message, "COPY from stdin failed")):
			// pgx could not encode a row and aborted the COPY with CopyFail: a client-side
			// error the server only echoes; retrying would fail the same way.
			return repo.E(nil, err)
		case strings.HasPrefix(pe.Code, "22"), pe.Code == "23502", pe.Code == "23514", pe.Code == "54000":
			return repo.E(repo.ErrInvalidInput, err)
		case strings.HasPrefix(pe.Code, "08"), pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03",
			pe.Code == "53300", pe.Code == "57014":
			return repo.E(repo.ErrUnavailable, pool.MarkTransient(err))
		case pe.Code == "40001", pe.Code == "40P01":
			return repo.E(nil, pool.MarkTransient(err))
		}
		return repo.E(nil, err)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return repo.E(repo.ErrNotFound, nil)
	}
	if errors.Is(err, pgx.ErrTxClosed) {
		return repo.E(repo.ErrClosed, err)
	}
	if isConnErr(err) {
		return repo.E(repo.ErrUnavailable, pool.MarkTransient(err))
	}
	return repo.E(nil, err)
}

func isCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// isConnectErr reports a failure to open a connection (pgconn wraps a connect timeout as a
// *pgconn.ConnectError around context.DeadlineExceeded).
func isConnectErr(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce)
}

// brokenConn reports whether an unavailable error (see mapErr) means that the server or the
// connection failed, so that the pool manager should re-validate the pool: not for a
// statement ended by the command timeout or cancelled on the server (57014, e.g. by
// statement_timeout), which says the statement was slow, not that the server is gone.
func brokenConn(err error) bool {
	if errors.Is(err, ErrCommandTimeout) {
		return false
	}
	var pe *pgconn.PgError
	return !errors.As(err, &pe) || pe.Code != "57014"
}

// isConnErr reports errors of the connection rather than of the statement.
func isConnErr(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), pgconn.Timeout(err), pgconn.SafeToRetry(err),
		pool.IsTransient(err), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed):
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "closed pool")
}
