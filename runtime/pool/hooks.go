package pool

import (
	"context"
	"fmt"
)

// Hooks are the functions that make, check and dispose of one kind of pool (the seed's
// create_pool_func, validate_pool_func and close_pool_func). P is the pool type: a
// *pgxpool.Pool, an Elasticsearch client, an S3 client, anything goroutine-safe.
type Hooks[P any] struct {
	// Create makes a new pool from cfg (the snapshot taken by Prepare). It must honour ctx and
	// must not return a live pool together with an error. Required.
	Create func(ctx context.Context, cfg Config) (P, error)
	// Validate checks a pool before it is reused; an error makes the Manager close the pool and
	// create a new one. nil means pools are trusted until reported broken, and a broken report
	// recreates the pool directly.
	Validate func(ctx context.Context, pool P) error
	// Close disposes of a pool. nil means nothing needs to be done.
	Close func(ctx context.Context, pool P) error
	// Stats, when not nil, returns the pool's own statistics for Manager.Stats (e.g. an adapter
	// around pgxpool's Stat). When nil, pools implementing StatsProvider are asked instead.
	Stats func(pool P) any
}

// hookError carries a hook's error with secrets removed from its text.
type hookError struct {
	msg    string
	err    error
	create bool // the Create hook failed: errors.Is(h, ErrCreate)
}

func (h *hookError) Error() string { return h.msg }

func (h *hookError) Unwrap() error { return h.err }

// Is reports whether target is ErrCreate and h is a failed create.
func (h *hookError) Is(target error) bool { return h.create && target == ErrCreate }

// callHook runs fn, turning a panic into an error so waiters are never left hanging; the
// panic value is returned for re-panicking once bookkeeping is done.
func callHook(fn func() error) (err error, panicked any) {
	defer func() {
		if r := recover(); r != nil {
			panicked = r
			err = fmt.Errorf("pool: hook panicked: %v", r)
		}
	}()
	return fn(), nil
}
