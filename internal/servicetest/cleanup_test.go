package servicetest

import (
	"context"
	"testing"

	"github.com/repokit/repokit/runtime/pool"
)

type cleanupConfig struct{}

func (cleanupConfig) Backend() string  { return "cleanup-test" }
func (cleanupConfig) Redacted() string { return "cleanup-test" }
func (cleanupConfig) Key() pool.Key    { return pool.NewKeyBuilder("cleanup-test").Key() }

// TestCleanup: the function runs when the test ends, not before, on the pool the manager
// holds for the config, with a deadline.
func TestCleanup(t *testing.T) {
	m := pool.New(pool.Options{})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	made := 0
	hooks := pool.Hooks[*int]{Create: func(context.Context, pool.Config) (*int, error) { made++; return &made, nil }}
	var got *int
	ran := false
	t.Run("test", func(t *testing.T) {
		Cleanup(t, m, cleanupConfig{}, hooks, "cleanup", func(ctx context.Context, p *int) error {
			if _, ok := ctx.Deadline(); !ok {
				t.Error("the cleanup's context has no deadline")
			}
			ran, got = true, p
			return nil
		})
		if ran {
			t.Error("the cleanup ran before the test ended")
		}
	})
	if !ran || got != &made || made != 1 {
		t.Errorf("cleanup ran %v with pool %p (created %d), want it run once on the manager's pool %p", ran, got, made, &made)
	}
}
