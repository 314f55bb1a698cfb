package repo

import (
	"fmt"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Option configures a Collection: pass it to New, to Collection.Configure, or to a generated
// opener (New<R>Repository, Open, ...), which applies it on whichever backend the target
// names.
type Option func(*options) error

// ForBackend returns "": an Option applies to the repository of every backend. It makes an
// Option a runtime/open Option, so the generated openers take it beside the backends' own.
func (Option) ForBackend() string { return "" }

type options struct {
	cursorKeys     [][]byte             // signing key first, then keys still accepted
	tracerProvider trace.TracerProvider // nil: the driver's, else otel's global one
	meterProvider  metric.MeterProvider // nil: the driver's, else otel's global one
}

// MinCursorKeyBytes is the shortest key WithCursorKey accepts.
const MinCursorKeyBytes = 16

// WithCursorKey makes the repository sign the cursors Page returns with HMAC-SHA256 under
// key and accept only cursors signed for the same query: a cursor whose bytes were edited,
// signed with another key, or made by a Page call with another record type, filter or sort
// order fails with ErrInvalidInput ("invalid cursor: ..."). Use it when cursors go to
// clients that are not trusted. previous are retired keys whose cursors are still accepted
// (never used to sign), for key rotation. Keys must be at least MinCursorKeyBytes long;
// they are copied, and never appear in errors. Without the option cursors are unsigned:
// they still name their record type and sort order, but not the filter.
func WithCursorKey(key []byte, previous ...[]byte) Option {
	return func(o *options) error {
		keys := make([][]byte, 0, 1+len(previous))
		for i, k := range append([][]byte{key}, previous...) {
			if len(k) < MinCursorKeyBytes {
				what := "the cursor key"
				if i > 0 {
					what = fmt.Sprintf("previous cursor key %d", i)
				}
				return fmt.Errorf("%s has %d bytes; at least %d are required", what, len(k), MinCursorKeyBytes)
			}
			keys = append(keys, append([]byte(nil), k...))
		}
		o.cursorKeys = keys
		return nil
	}
}

// Configure applies opts to c. Call it before c is used: it is not safe for concurrent use
// with c's other methods. An invalid option (a cursor key too short) is an *Error of kind
// ErrInvalidInput and leaves c unchanged.
func (c *Collection[T]) Configure(opts ...Option) error {
	o := c.opts
	for _, f := range opts {
		if err := f(&o); err != nil {
			return &Error{Kind: ErrInvalidInput, Record: c.desc.Name, Op: "Configure", Err: err}
		}
	}
	c.opts = o
	c.obs = newObserver(c.desc.Name, o.telemetry(c.drv))
	return nil
}
