package main

import (
	"context"
	"io/fs"

	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/pool"
)

func init() {
	migrators["s3"] = func(ctx context.Context, m *pool.Manager, cfg pool.Config, pkg string, fsys fs.FS, report func(migrate.Progress)) (migrate.Migrator, error) {
		return s3.NewMigrator(ctx, m, cfg, pkg, fsys, s3.WithProgress(report))
	}
}
