// Command repokit-migrate applies a generated package's migrations to a store: it is what
// `repokit migrate plan|apply|status` runs (the generator links no database driver; this
// command links them all).
//
//	repokit-migrate plan   -backend NAME (-url URL | -config FILE) DIR
//	repokit-migrate apply  -backend NAME (-url URL | -config FILE) DIR
//	repokit-migrate status -backend NAME (-url URL | -config FILE) DIR
//
// DIR is the generated package's directory: its migrations are DIR/migrations, and its Go
// package name (read from DIR's package clause) names the package's migration state in the
// store. plan prints what apply would do without changing the store; apply applies the
// pending migrations in order (each exactly once, even when several processes apply at
// once) and reports progress of long steps on standard error; status prints the applied and
// pending versions and the live drift, read-only, and exits 1 when anything is pending or
// drifted. See docs/migrations.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
