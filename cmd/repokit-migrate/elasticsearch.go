package main

import (
	"context"
	"io/fs"

	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/pool"
)

func init() {
	migrators["elasticsearch"] = func(ctx context.Context, m *pool.Manager, cfg pool.Config, pkg string, fsys fs.FS, report func(migrate.Progress)) (migrate.Migrator, error) {
		return elasticsearch.NewMigrator(ctx, m, cfg, pkg, fsys, elasticsearch.WithProgress(report))
	}
}
