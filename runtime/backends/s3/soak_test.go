package s3_test

import (
	"context"
	"testing"

	"github.com/repokit/repokit/internal/faulttest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// TestSoak runs the soak test (internal/faulttest) on the MinIO test server.
func TestSoak(t *testing.T) {
	cfg := testConfig(t)
	m := pool.New(pool.Options{KeepIdle: true}) // for the prefix's cleanup
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	cfg.Prefix = freshPrefix(t, m, cfg)
	faulttest.Soak(t, faulttest.SoakBackend{
		Name:    "s3",
		Package: "./runtime/backends/s3/",
		Secrets: []string{cfg.AWSSecretAccessKey},
		Open: func(ctx context.Context, t *testing.T, m *pool.Manager) (repo.Repository[things.Thing], error) {
			d, err := s3.New(ctx, m, cfg, things.ThingSchema)
			if err != nil {
				return nil, err
			}
			return repo.New(things.ThingSchema, d), nil
		},
	})
}
