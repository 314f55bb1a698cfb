package memory_test

import (
	"context"
	"testing"

	"github.com/repokit/repokit/internal/faulttest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/memory"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// TestSoak runs the soak test (internal/faulttest) on the memory backend: goroutines and
// heap return to their baseline (it has no sockets or server).
func TestSoak(t *testing.T) {
	faulttest.Soak(t, faulttest.SoakBackend{
		Name:    "memory",
		Package: "./runtime/backends/memory/",
		Open: func(context.Context, *testing.T, *pool.Manager) (repo.Repository[things.Thing], error) {
			return repo.New(things.ThingSchema, memory.New(things.ThingSchema)), nil
		},
	})
}
