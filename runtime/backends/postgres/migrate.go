package postgres

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/pool"
)

// MigrateOption configures NewMigrator.
type MigrateOption func(*migrateOptions)

type migrateOptions struct {
	progress    func(migrate.Progress)
	lockTimeout time.Duration
}

// WithProgress reports each migration file as Apply starts it (Done: files applied so
// far, Total: files pending) and when it finishes.
func WithProgress(f func(migrate.Progress)) MigrateOption {
	return func(o *migrateOptions) { o.progress = f }
}

// WithLockTimeout bounds how long Apply waits for the migration lock that another process
// applying the same package holds (default 5 minutes).
func WithLockTimeout(d time.Duration) MigrateOption {
	return func(o *migrateOptions) { o.lockTimeout = d }
}

// Migrator applies a package's PostgreSQL migrations (the goose files under postgres/ of
// its migration directory) with goose: a version table per package
// (VersionTable), and a session-level advisory lock, so that two processes applying at
// once apply each file once. It implements migrate.Migrator.
type Migrator struct {
	pkg     string
	hist    migrate.History
	files   fs.FS // the postgres/ directory
	lease   pool.Lease[*pgxpool.Pool]
	db      *sql.DB
	goose   *goose.Provider
	opts    migrateOptions
	closeMu sync.Once
}

var _ migrate.Migrator = (*Migrator)(nil)

// NewMigrator returns a Migrator for package pkg's migrations in fsys (the package's
// migration directory: the JSON history at its root, the goose files in postgres/) on the
// database of cfg (a pool.PostgresPoolConfig; the manager's pool serves Plan and Status,
// and goose runs on its own database/sql connections made from the same settings).
func NewMigrator(ctx context.Context, m *pool.Manager, cfg pool.Config, pkg string, fsys fs.FS, opts ...MigrateOption) (*Migrator, error) {
	o := migrateOptions{lockTimeout: 5 * time.Minute}
	for _, f := range opts {
		f(&o)
	}
	h, err := loadHistory(pkg, fsys)
	if err != nil {
		return nil, err
	}
	files, err := fs.Sub(fsys, pgdialect.MigrationDir)
	if err != nil {
		return nil, err
	}
	for _, mg := range h {
		if _, err := fs.Stat(files, mg.BaseName()+".sql"); err != nil {
			return nil, fmt.Errorf("postgres: migration %s of package %s has no PostgreSQL file %s: run repokit migrate diff with the postgres backend", mg.BaseName(), pkg, pgdialect.MigrationFileName(mg))
		}
	}
	pc, err := pool.ConfigAs[pool.PostgresPoolConfig](cfg)
	if err != nil {
		return nil, err
	}
	pgxc, err := PgxConfig(pc)
	if err != nil {
		return nil, err
	}
	lease, err := getPool(ctx, m, cfg)
	if err != nil {
		return nil, err
	}
	mg := &Migrator{pkg: pkg, hist: h, files: files, lease: lease, opts: o, db: stdlib.OpenDB(*pgxc.ConnConfig)}
	period := uint64(2)
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID(pkg)),
		lock.WithLockTimeout(period, max(1, uint64(o.lockTimeout/time.Second)/period)))
	if err != nil {
		mg.Close()
		return nil, err
	}
	mg.goose, err = goose.NewProvider(goose.DialectPostgres, mg.db, files,
		goose.WithTableName(VersionTable(pkg)), goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		mg.Close()
		return nil, fmt.Errorf("postgres: migrations of package %s: %w", pkg, err)
	}
	return mg, nil
}

// lockID is the advisory lock of a package's migrations.
func lockID(pkg string) int64 {
	h := fnv.New64a()
	h.Write([]byte("repokit-migrate:" + pkg))
	return int64(h.Sum64() >> 1)
}

// Close releases the migrator's connections; safe to call more than once.
func (mg *Migrator) Close() error {
	var err error
	mg.closeMu.Do(func() {
		if mg.goose != nil {
			err = mg.goose.Close() // closes mg.db
		} else if mg.db != nil {
			err = mg.db.Close()
		}
		mg.lease.Release()
	})
	return err
}

// current returns the applied versions and the newest.
func (mg *Migrator) current(ctx context.Context) ([]int64, int64, error) {
	applied, err := appliedVersions(ctx, mg.lease.Pool(), mg.pkg)
	if err != nil {
		return nil, 0, err
	}
	if len(applied) == 0 {
		return nil, 0, nil
	}
	return applied, applied[len(applied)-1], nil
}

// Plan returns the statements of the pending migration files, in order, without running
// them.
func (mg *Migrator) Plan(ctx context.Context) ([]migrate.Step, error) {
	_, cur, err := mg.current(ctx)
	if err != nil {
		return nil, err
	}
	var steps []migrate.Step
	for _, m := range mg.hist.After(cur) {
		data, err := fs.ReadFile(mg.files, m.BaseName()+".sql")
		if err != nil {
			return nil, err
		}
		for _, s := range splitGoose(string(data)) {
			steps = append(steps, migrate.Step{Version: m.Version, Backend: backendName, Text: s, Online: online(s)})
		}
	}
	return steps, nil
}

// splitGoose returns the statements of the Up section of a goose file (StatementBegin/End
// blocks kept whole), without comments.
func splitGoose(text string) []string {
	var out []string
	var cur strings.Builder
	block, up := false, false
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		line := sc.Text()
		switch t := strings.TrimSpace(line); {
		case strings.HasPrefix(t, "-- +goose Up"):
			up = true
			continue
		case strings.HasPrefix(t, "-- +goose Down"):
			up = false
			continue
		case strings.HasPrefix(t, "-- +goose StatementBegin"):
			block = true
			continue
		case strings.HasPrefix(t, "-- +goose StatementEnd"):
			block = false
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
			continue
		case !up || (!block && (t == "" || strings.HasPrefix(t, "--"))):
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if !block && strings.HasSuffix(strings.TrimSpace(line), ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// online reports whether writers keep going while a statement runs: all but a column type
// change (a table rewrite under an exclusive lock), a backfilling UPDATE (row locks on every
// row it changes) and an index built without CONCURRENTLY on an existing table.
func online(stmt string) bool {
	u := strings.ToUpper(stmt)
	switch {
	case strings.Contains(u, " TYPE ") && strings.Contains(u, " USING "):
		return false
	case strings.HasPrefix(u, "UPDATE "):
		return false
	}
	return true
}

// Apply applies the pending migrations in order, one file at a time under goose's session
// lock (a second process waits, then finds them applied), and returns the versions this
// call applied. A failed file stops it: the error names the file and the failed statement
// (and, for a unique index over duplicates, the values); running Apply again finishes the
// job (see docs/migrations-postgres.md).
func (mg *Migrator) Apply(ctx context.Context) ([]int64, error) {
	_, cur, err := mg.current(ctx)
	if err != nil {
		return nil, err
	}
	total := int64(len(mg.hist.After(cur)))
	start := time.Now()
	var done []int64
	for {
		if mg.opts.progress != nil && int64(len(done)) < total {
			mg.opts.progress(migrate.Progress{Version: cur + int64(len(done)) + 1, Step: "apply " + mg.hist.After(cur)[len(done)].BaseName() + ".sql",
				Done: int64(len(done)), Total: total, Elapsed: time.Since(start)})
		}
		res, err := mg.goose.UpByOne(ctx)
		if errors.Is(err, goose.ErrNoNextVersion) {
			break
		}
		if err != nil {
			return done, mg.applyError(ctx, err)
		}
		done = append(done, res.Source.Version)
		if mg.opts.progress != nil {
			mg.opts.progress(migrate.Progress{Version: res.Source.Version, Step: "applied " + res.Source.Path,
				Done: int64(len(done)), Total: total, Elapsed: time.Since(start)})
		}
	}
	return done, nil
}

// applyError adds the server's detail (the duplicate key of a unique index) to goose's error.
func (mg *Migrator) applyError(ctx context.Context, err error) error {
	msg := err.Error()
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Detail != "" && !strings.Contains(msg, pe.Detail) {
		msg += " (" + pe.Detail + ")"
	}
	if ctx.Err() != nil {
		return fmt.Errorf("postgres: applying the migrations of package %s: %s: %w", mg.pkg, msg, ctx.Err())
	}
	return fmt.Errorf("postgres: applying the migrations of package %s: %s", mg.pkg, msg)
}

// Status reports the applied and pending versions and how the live tables differ from the
// state of the newest applied version: columns, types, NOT NULL, defaults, indexes, unique
// indexes (an INVALID index left by a failed build included) and enum CHECK constraints.
// It only reads.
func (mg *Migrator) Status(ctx context.Context) (migrate.Status, error) {
	applied, cur, err := mg.current(ctx)
	if err != nil {
		return migrate.Status{}, err
	}
	st := migrate.Status{Applied: applied, Pending: mg.hist.After(cur)}
	if cur > 0 {
		st.Drift, err = stateDrift(ctx, mg.lease.Pool(), mg.hist.State(cur))
	}
	if cur > mg.hist.Version() {
		st.Drift = append([]string{fmt.Sprintf("the store is at version %d, newer than this history (%d)", cur, mg.hist.Version())}, st.Drift...)
	}
	return st, err
}
