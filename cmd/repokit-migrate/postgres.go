package main

import (
	"context"
	"io/fs"

	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/pool"
)

func init() {
	migrators["postgres"] = func(ctx context.Context, m *pool.Manager, cfg pool.Config, pkg string, fsys fs.FS, report func(migrate.Progress)) (migrate.Migrator, error) {
		return postgres.NewMigrator(ctx, m, cfg, pkg, fsys, postgres.WithProgress(report))
	}
}
