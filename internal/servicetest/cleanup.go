package servicetest

import (
	"context"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/pool"
)

// CleanupTimeout bounds the work of one Cleanup.
const CleanupTimeout = time.Minute

// Cleanup registers fn to run when t ends, on the pool (client) that m holds for cfg, made with
// hooks: it removes what a test left on a test server (a table, the objects under a prefix).
// A failure to get the pool, or fn's error, fails the test with what in front.
func Cleanup[P any](t testing.TB, m *pool.Manager, cfg pool.Config, hooks pool.Hooks[P], what string, fn func(ctx context.Context, p P) error) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), CleanupTimeout)
		defer cancel()
		lease, err := pool.Get(ctx, m, cfg, hooks)
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		defer lease.Release()
		if err := fn(ctx, lease.Pool()); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	})
}
