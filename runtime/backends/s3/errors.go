package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// statusOf returns the HTTP status of an S3 error response, or 0 when there was none.
func statusOf(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.HTTPStatusCode()
	}
	return 0
}

// codeOf returns the S3 error code (NoSuchKey, PreconditionFailed, ...), or "".
func codeOf(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func isNotFound(err error) bool {
	switch codeOf(err) {
	case "NoSuchKey", "NotFound":
		return true
	}
	return statusOf(err) == http.StatusNotFound && codeOf(err) != "NoSuchBucket"
}

func isPrecondition(err error) bool {
	return statusOf(err) == http.StatusPreconditionFailed || codeOf(err) == "PreconditionFailed"
}

// isConditionalConflict is S3's 409 ConditionalRequestConflict: a concurrent conditional
// write to the same key won.
func isConditionalConflict(err error) bool {
	return codeOf(err) == "ConditionalRequestConflict"
}

// rejectsConfig reports an error that retrying cannot mend because the settings are wrong:
// a certificate that does not verify against ca_certs or the system's CAs, or a 403 (an
// unknown access key, a wrong secret key, a key without the permission).
func rejectsConfig(err error) bool {
	return pool.IsCertificateError(err) || statusOf(err) == http.StatusForbidden
}

// mapErr converts an SDK error into a repository error. The caller's context error is
// returned as it is; a failure without an HTTP response or with a 5xx is ErrUnavailable
// (and reported to the pool so it validates the client), a 4xx the server rejects as
// malformed is ErrInvalidInput, and other errors keep their cause without a kind.
func (d *Driver[T]) mapErr(ctx context.Context, err error) error {
	return mapErr(ctx, err, d.lease.ReportBroken)
}

// mapErr is Driver.mapErr for callers without a driver; broken is told of failures without
// an answer from the server.
func mapErr(ctx context.Context, err error, broken func(error)) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	var re *repo.Error
	if errors.As(err, &re) {
		return err
	}
	if rejectsConfig(err) {
		return repo.E(nil, fmt.Errorf("%w: s3: %w", pool.ErrInvalidConfig, err))
	}
	st := statusOf(err)
	switch {
	case st == 0 || st >= 500 || st == http.StatusTooManyRequests || st == http.StatusRequestTimeout:
		if st == 0 && errors.Is(err, context.DeadlineExceeded) {
			return repo.E(repo.ErrUnavailable, err)
		}
		if st == 0 {
			broken(err)
		}
		return repo.E(repo.ErrUnavailable, err)
	case isNotFound(err):
		return repo.E(repo.ErrNotFound, err)
	case st == http.StatusBadRequest || st == http.StatusRequestEntityTooLarge ||
		st == http.StatusRequestURITooLong || st == http.StatusLengthRequired:
		return repo.E(repo.ErrInvalidInput, err)
	}
	return repo.E(nil, err)
}
