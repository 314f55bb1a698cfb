package elasticsearch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// ErrMappingDrift is wrapped by the error of an ensure-index call that found the live
// mapping different from the schema's (see DriftError).
var ErrMappingDrift = errors.New("elasticsearch: index mapping differs from the schema")

// ServerError is an error response of Elasticsearch: its HTTP status, error type and reason.
type ServerError struct {
	Status int    // HTTP status
	Type   string // error.type, e.g. "version_conflict_engine_exception"
	Reason string // error.reason
}

func (e *ServerError) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("elasticsearch: HTTP %d", e.Status)
	}
	return fmt.Sprintf("elasticsearch: HTTP %d %s: %s", e.Status, e.Type, clip(e.Reason, 300))
}

// Unwrap returns pool.ErrInvalidConfig for a 401: the credentials (api_key, basic_auth)
// were refused, which is a property of the settings, not of the node's state.
func (e *ServerError) Unwrap() error {
	if e.Status == http.StatusUnauthorized {
		return pool.ErrInvalidConfig
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

type errorBody struct {
	Error  json.RawMessage `json:"error"`
	Status int             `json:"status"`
}

type errorDetail struct {
	Type      string        `json:"type"`
	Reason    string        `json:"reason"`
	RootCause []errorDetail `json:"root_cause"`
	CausedBy  *errorDetail  `json:"caused_by"`
}

// parseError reads an error response body into a ServerError.
func parseError(status int, body []byte) *ServerError {
	se := &ServerError{Status: status}
	var b errorBody
	if json.Unmarshal(body, &b) == nil && len(b.Error) > 0 {
		var d errorDetail
		if json.Unmarshal(b.Error, &d) == nil {
			se.Type, se.Reason = d.Type, d.Reason
			// The root cause of a search_phase_execution_exception says what was wrong.
			if len(d.RootCause) > 0 && d.Type == "search_phase_execution_exception" {
				se.Type, se.Reason = d.RootCause[0].Type, d.RootCause[0].Reason
			}
			if d.CausedBy != nil && d.CausedBy.Reason != "" && se.Type == d.Type {
				se.Reason += ": " + d.CausedBy.Reason
			}
		} else {
			var s string
			if json.Unmarshal(b.Error, &s) == nil {
				se.Reason = s
			}
		}
	}
	return se
}

// kindOf maps an HTTP status to a repo error kind; conflict tells what a 409 means.
func kindOf(status int, conflict error) error {
	switch {
	case status == http.StatusNotFound:
		return repo.ErrNotFound
	case status == http.StatusConflict:
		return conflict
	case status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge:
		return repo.ErrInvalidInput
	case status == http.StatusTooManyRequests || status >= 500:
		return repo.ErrUnavailable
	}
	return nil
}

// responseError turns a non-success response into a *repo.Error; conflict is the kind of a
// 409 (ErrAlreadyExists for creates, ErrVersionConflict for conditional writes).
func responseError(res *esapi.Response, conflict error) error {
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	se := parseError(res.StatusCode, body)
	kind := kindOf(res.StatusCode, conflict)
	if kind == repo.ErrNotFound && se.Type == "index_not_found_exception" {
		kind = nil
	}
	return repo.E(kind, se)
}

// transportError classifies an error of the HTTP round trip. The caller's context errors
// are returned as they are; anything else is ErrUnavailable (and pool.IsTransient).
func transportError(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		if errors.Is(err, cerr) {
			return cerr
		}
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	if pool.IsCertificateError(err) {
		// A certificate that does not verify (ca_certs, verify_certs, client_cert): retrying
		// cannot help.
		return fmt.Errorf("%w: elasticsearch: %w", pool.ErrInvalidConfig, err)
	}
	// Connection failures, and deadlines inside the transport (not the caller's): the server
	// did not answer.
	return repo.E(repo.ErrUnavailable, pool.MarkTransient(err))
}

// isConnectionError reports whether err says the node could not be reached.
func isConnectionError(err error) bool {
	return errors.Is(err, repo.ErrUnavailable)
}
