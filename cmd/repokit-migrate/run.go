package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/open"
	"github.com/repokit/repokit/runtime/pool"
)

const usage = `usage: repokit-migrate plan|apply|status -backend NAME (-url URL | -config FILE) DIR

  plan    print what apply would do (the SQL for PostgreSQL, the steps for Elasticsearch
          and S3), without changing the store
  apply   apply the pending migrations in order, reporting progress of long steps
  status  print the applied and pending versions and the live drift (read-only); exit 1
          when anything is pending or drifted

DIR is the generated package's directory (its migrations are DIR/migrations).
-url takes a target URL (postgres://..., elasticsearch://..., s3://...; see docs/opening.md);
-config the seed's databases: YAML, whose entry -backend names (environment overrides apply).
`

// Exit statuses.
const (
	exitOK      = 0
	exitFailed  = 1 // the store could not be migrated or read, or status found work
	exitUsage   = 2
	progressGap = 2 * time.Second // at most one progress line per step this often
)

// opener opens the migrator of one backend. report receives progress of long steps.
type opener func(ctx context.Context, m *pool.Manager, cfg pool.Config, pkg string, fsys fs.FS, report func(migrate.Progress)) (migrate.Migrator, error)

// migrators holds one opener per backend this command is built with; each backend's file
// registers its own.
var migrators = map[string]opener{}

// command is one parsed invocation.
type command struct {
	verb    string // plan, apply or status
	backend string
	target  open.Target
	dir     string
	pkg     string
	fsys    fs.FS
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parse(args, stdout, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "repokit-migrate: %v\n\n%s", err, usage)
		return exitUsage
	}
	m := pool.New(pool.Options{})
	defer func() { _ = m.CloseAll(context.Background()) }()
	progress := progressPrinter(stderr)
	mg, err := migrators[c.backend](ctx, m, c.target.Config, c.pkg, c.fsys, progress)
	if err != nil {
		fmt.Fprintf(stderr, "repokit-migrate %s: %s: %v\n", c.verb, c.target, err)
		return exitFailed
	}
	defer func() { _ = mg.Close() }()
	switch c.verb {
	case "plan":
		err = printPlan(ctx, mg, stdout)
	case "apply":
		err = apply(ctx, mg, stdout)
	default:
		var ok bool
		if ok, err = printStatus(ctx, mg, stdout); err == nil && !ok {
			return exitFailed
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "repokit-migrate %s: %s: %v\n", c.verb, c.target, err)
		return exitFailed
	}
	return exitOK
}

// parse reads the command line. Errors are usage errors; flag.ErrHelp means help was
// printed.
func parse(args []string, stdout, stderr io.Writer) (*command, error) {
	if len(args) == 0 {
		return nil, errors.New("no command")
	}
	c := &command{verb: args[0]}
	switch c.verb {
	case "plan", "apply", "status":
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil, flag.ErrHelp
	default:
		return nil, fmt.Errorf("unknown command %q", c.verb)
	}
	fl := flag.NewFlagSet("repokit-migrate "+c.verb, flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	backend := fl.String("backend", "", "the backend: "+strings.Join(migratingBackends(), ", "))
	url := fl.String("url", "", "the store's URL")
	config := fl.String("config", "", "the seed's databases: YAML file")
	if err := fl.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
		}
		return nil, err
	}
	c.backend = *backend
	if err := c.resolveTarget(*url, *config); err != nil {
		return nil, err
	}
	if fl.NArg() != 1 {
		return nil, fmt.Errorf("want one package directory, got %d arguments", fl.NArg())
	}
	c.dir = fl.Arg(0)
	return c, c.readPackage()
}

// resolveTarget sets the target from -url or -config and checks it against -backend.
func (c *command) resolveTarget(url, config string) error {
	var err error
	switch {
	case url != "" && config != "":
		return errors.New("-url and -config exclude each other")
	case url != "":
		if c.target, err = open.Parse(url); err != nil {
			return err
		}
		if c.backend == "" {
			c.backend = c.target.Backend
		} else if c.backend != c.target.Backend {
			return fmt.Errorf("-backend %s, but the URL is a %s URL", c.backend, c.target.Backend)
		}
	case config != "":
		if c.backend == "" {
			return errors.New("-config needs -backend: the databases: entry to use")
		}
		if c.target, err = open.FromFile(config, c.backend, os.LookupEnv); err != nil {
			return err
		}
	default:
		return errors.New("no store: give -url URL or -config FILE")
	}
	if c.backend == open.Memory {
		return errors.New("the memory backend keeps no store between runs: there is nothing to migrate (it upgrades documents as it loads them)")
	}
	if migrators[c.backend] == nil {
		return fmt.Errorf("backend %q cannot be migrated by this command (it migrates %s)", c.backend, strings.Join(migratingBackends(), ", "))
	}
	return nil
}

// readPackage finds DIR's Go package name and its migrations.
func (c *command) readPackage() error {
	files, err := filepath.Glob(filepath.Join(c.dir, "*.go"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly)
		if err != nil {
			return fmt.Errorf("%s: %v", f, err)
		}
		c.pkg = af.Name.Name
		break
	}
	if c.pkg == "" {
		return fmt.Errorf("%s: no Go package here (give the directory of a generated package)", c.dir)
	}
	dir := filepath.Join(c.dir, migrate.Dir)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s: no migrations (run repokit migrate diff -out %s -name NAME SCHEMA... first)", dir, c.dir)
	}
	c.fsys = os.DirFS(dir)
	return nil
}

// migratingBackends lists the backends this command can migrate, sorted.
func migratingBackends() []string {
	names := make([]string, 0, len(migrators))
	for n := range migrators {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func printPlan(ctx context.Context, mg migrate.Migrator, w io.Writer) error {
	steps, err := mg.Plan(ctx)
	if err != nil {
		return err
	}
	if len(steps) == 0 {
		fmt.Fprintln(w, "nothing to apply: the store is up to date")
		return nil
	}
	v := int64(-1)
	for _, s := range steps {
		if s.Version != v {
			v = s.Version
			fmt.Fprintf(w, "-- version %d (%s)\n", v, s.Backend)
		}
		if !s.Online {
			fmt.Fprintln(w, "-- blocking:")
		}
		fmt.Fprintln(w, strings.TrimRight(s.Text, "\n"))
	}
	return nil
}

func apply(ctx context.Context, mg migrate.Migrator, w io.Writer) error {
	applied, err := mg.Apply(ctx)
	for _, v := range applied {
		fmt.Fprintf(w, "applied version %d\n", v)
	}
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(w, "nothing to apply: the store is up to date")
	}
	return nil
}

// printStatus prints st and reports whether nothing is pending or drifted.
func printStatus(ctx context.Context, mg migrate.Migrator, w io.Writer) (bool, error) {
	st, err := mg.Status(ctx)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(w, "applied: %s\n", versions(st.Applied))
	if len(st.Pending) == 0 {
		fmt.Fprintln(w, "pending: none")
	} else {
		fmt.Fprintln(w, "pending:")
		for _, m := range st.Pending {
			fmt.Fprintf(w, "  %s\n", m.BaseName())
		}
	}
	if len(st.Drift) == 0 {
		fmt.Fprintln(w, "drift: none")
	} else {
		fmt.Fprintln(w, "drift:")
		for _, d := range st.Drift {
			fmt.Fprintf(w, "  %s\n", d)
		}
	}
	return st.OK(), nil
}

func versions(vs []int64) string {
	if len(vs) == 0 {
		return "none"
	}
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ", ")
}

// progressPrinter returns a progress reporter writing to w at most once per progressGap
// per step, and always the last report of a step (Done == Total). It is safe for
// concurrent use.
func progressPrinter(w io.Writer) func(migrate.Progress) {
	var mu sync.Mutex
	var step string
	var last time.Time
	return func(p migrate.Progress) {
		mu.Lock()
		defer mu.Unlock()
		done := p.Total > 0 && p.Done >= p.Total
		if p.Step == step && !done && time.Since(last) < progressGap {
			return
		}
		step, last = p.Step, time.Now()
		if p.Total > 0 {
			fmt.Fprintf(w, "version %d: %s: %d/%d (%d%%) after %v\n", p.Version, p.Step, p.Done, p.Total, p.Done*100/p.Total, p.Elapsed.Round(time.Millisecond))
			return
		}
		fmt.Fprintf(w, "version %d: %s: %d after %v\n", p.Version, p.Step, p.Done, p.Elapsed.Round(time.Millisecond))
	}
}
