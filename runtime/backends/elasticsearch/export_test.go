package elasticsearch

import (
	"context"
	"net/http"
	"time"

	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/record"
)

// DirectDecode reports whether records of desc are decoded with one json.Unmarshal.
func DirectDecode[T any](desc *record.Desc[T]) bool { return newCodec(desc).direct }

// FastDecode reports whether _mget responses for records of desc are decoded by codec.fast.
func FastDecode[T any](desc *record.Desc[T]) bool { return newCodec(desc).fast != nil }

// SetUniqueClock replaces the clock of reservation times of d (before any use).
func SetUniqueClock[T any](d *Driver[T], now func() time.Time) { d.uq.now = now }

// WrapTransport makes d send its requests through a client of cfg whose HTTP transport is
// wrap(the usual one), for tests that put faults between the driver and the server. The
// client it replaces stays with the pool manager.
func WrapTransport[T any](ctx context.Context, d *Driver[T], cfg pool.Config, wrap func(http.RoundTripper) http.RoundTripper) error {
	c, err := newClient(ctx, cfg, wrap)
	if err != nil {
		return err
	}
	d.c = c
	return nil
}
