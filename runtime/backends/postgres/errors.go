package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// errCommandTimeout is the cause of an unavailable error when PostgresPoolConfig's
// CommandTimeout, not the caller's context, ended a statement.
var errCommandTimeout = errors.New("postgres: statement exceeded the pool's command timeout")

// mapErr turns a pgx error into a repository error:
//
//   - the caller's context ended: ctx.Err() itself;
//   - unique violation (23505): repo.ErrAlreadyExists;
//   - pgx.ErrNoRows: repo.ErrNotFound;
//   - data exceptions (class 22), NOT NULL and CHECK violations (23502, 23514), values the
//     server rejects: repo.ErrInvalidInput;
//   - connection failures (class 08, refused/reset connections, EOF, timeouts, server
//     shutdown 57P01-57P03, too many connections 53300, a closed pool): repo.ErrUnavailable,
//     marked transient for pool.Retry;
//   - transaction already closed: repo.ErrClosed;
//   - anything else: an *repo.Error without a kind.
func mapErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ce := ctx.Err(); ce != nil {
		return ce
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// A context that is not the caller's (the command timeout) ended the call.
		return repo.E(repo.ErrUnavailable, pool.MarkTransient(errors.Join(errCommandTimeout, err)))
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505":
			return repo.E(repo.ErrAlreadyExists, err)
		case strings.HasPrefix(pe.Code, "22"), pe.Code == "23502", pe.Code == "23514":
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
