package generator

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

const migrateUsage = `usage:
  repokit migrate diff -out DIR -name NAME [-backends LIST] [-allow-destructive] SCHEMA_PATH...
  repokit migrate plan|apply|status -backend NAME (-url URL | -config FILE) DIR

repokit migrate diff compares the schema files with the state the newest migration under
DIR/migrations recorded and writes the next migration: DIR/migrations/<version>_<NAME>.json
(the changes and the state they lead to) and, with the postgres backend,
DIR/migrations/postgres/<version>_<NAME>.sql (goose's format). It prints the files it wrote,
or "no changes". The first diff writes the baseline: what the constructors of the package
create today. Changes that can lose stored data (removing a field or record, a narrowing
type change, removing enum values) are refused with the schema position unless
-allow-destructive is given.

plan, apply and status run the migrations of the package in DIR against a store: plan prints
what apply would do, apply applies the pending migrations (reporting progress on long
steps), status lists applied and pending versions and the live drift and exits 1 when
anything is pending or drifted. They link the database drivers, so they run the separate
repokit-migrate command (REPOKIT_MIGRATE, else repokit-migrate on PATH, else
"go run github.com/repokit/repokit/cmd/repokit-migrate" in the current module).
`

// EnvMigrate names the repokit-migrate binary `repokit migrate plan|apply|status` runs.
const EnvMigrate = "REPOKIT_MIGRATE"

// MigrateToolPackage is the package of the command that applies migrations.
const MigrateToolPackage = ModulePath + "/cmd/repokit-migrate"

func mainMigrate(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, migrateUsage)
		return 2
	}
	switch args[0] {
	case "diff":
		return mainMigrateDiff(args[1:], stdout, stderr)
	case "plan", "apply", "status":
		return runMigrateTool(args, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, migrateUsage)
		return 0
	}
	fmt.Fprintf(stderr, "repokit migrate: unknown command %q\n\n%s", args[0], migrateUsage)
	return 2
}

func mainMigrateDiff(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("repokit migrate diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "the generated package's `DIR`ectory; migrations are under DIR/migrations")
	name := fs.String("name", "", "`NAME` of the new migration ([a-z0-9_]+)")
	backends := fs.String("backends", strings.Join(backendNames(KnownBackends), ","), "comma-separated backends to write a migration for")
	allow := fs.Bool("allow-destructive", false, "plan changes that can lose stored data")
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, migrateUsage, "\nflags of migrate diff:\n")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintln(stderr, "usage: repokit migrate diff -out DIR -name NAME [-backends LIST] [-allow-destructive] SCHEMA_PATH...")
		return 2
	}
	bs, err := ParseBackends(*backends)
	if err == nil && *out == "" {
		err = fmt.Errorf("%w: no output directory (-out)", ErrConfig)
	}
	if err == nil && *name == "" {
		err = fmt.Errorf("%w: no migration name (-name)", ErrConfig)
	}
	if err == nil && fs.NArg() == 0 {
		err = fmt.Errorf("%w: no schema files", ErrConfig)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%v\nusage: repokit migrate diff -out DIR -name NAME [-backends LIST] [-allow-destructive] SCHEMA_PATH...\n", err)
		return 2
	}
	paths, err := MigrateDiff(DiffConfig{Paths: fs.Args(), OutDir: *out, Name: *name, Backends: bs, AllowDestructive: *allow})
	if err != nil {
		if errors.Is(err, ErrConfig) {
			fmt.Fprintln(stderr, err)
			return 2
		}
		fmt.Fprintln(stderr, strings.TrimRight(err.Error(), "\n"))
		return 1
	}
	if len(paths) == 0 {
		fmt.Fprintln(stdout, "no changes")
		return 0
	}
	for _, p := range paths {
		fmt.Fprintln(stdout, p)
	}
	return 0
}

func backendNames(bs []Backend) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

// runMigrateTool runs repokit-migrate with args (plan|apply|status ...), passing its output
// and exit status through.
func runMigrateTool(args []string, stdout, stderr io.Writer) int {
	var cmd *exec.Cmd
	switch tool, err := exec.LookPath("repokit-migrate"); {
	case os.Getenv(EnvMigrate) != "":
		cmd = exec.Command(os.Getenv(EnvMigrate), args...)
	case err == nil:
		cmd = exec.Command(tool, args...)
	default:
		cmd = exec.Command("go", append([]string{"run", MigrateToolPackage}, args...)...)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	fmt.Fprintf(stderr, "repokit migrate %s: cannot run %s: %v (install it with: go install %s@%s, or set %s)\n",
		args[0], strings.Join(cmd.Args[:min(len(cmd.Args), 3)], " "), err, MigrateToolPackage, moduleVersion(), EnvMigrate)
	return 1
}

// moduleVersion is the version to install repokit-migrate at: this binary's, or latest.
func moduleVersion() string {
	v := Version()
	if v == "" || strings.HasPrefix(v, "(") || strings.Contains(v, " ") {
		return "latest"
	}
	return v
}
