package generator

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// ModulePath is the module repokit is built from.
const ModulePath = "github.com/repokit/repokit"

const shortUsage = "usage: repokit generate -out DIR -package NAME [-backends LIST] [-import PATH] SCHEMA_PATH... (repokit help for more)"

const usage = `usage:
  repokit generate -out DIR -package NAME [-backends LIST] [-import PATH] SCHEMA_PATH...
  repokit migrate diff -out DIR -name NAME [-backends LIST] [-allow-destructive] SCHEMA_PATH...
  repokit migrate plan|apply|status -backend NAME (-url URL | -config FILE) DIR
  repokit version

repokit generate reads the schema files (YAML; paths relative to the current directory),
validates them and writes a Go package to DIR: one file per record (struct, field handles,
query constructor, repository alias, descriptor), repokit.go (package documentation), one
file per backend that has generated code, and open.go (the openers: a repository of any
generated backend from a URL, a config file or a runtime/open Target). All files are written or none; generated
files that are no longer produced are removed; other files in DIR are never touched.

From a go:generate line, with repokit a tool of the module (go get -tool
github.com/repokit/repokit/generator/cmd/repokit):
  //go:generate go tool repokit generate -out . -package $GOPACKAGE schema.yaml

With the postgres backend the generator runs sqlc: $REPOKIT_SQLC, else sqlc on PATH, else
the one it builds once into the user cache directory (go install
github.com/sqlc-dev/sqlc/cmd/sqlc@v1.31.1; needs cgo).

Exit status: 0 on success, 1 when the schema or the output is bad (errors name
file:line:col), 2 on a usage error.
`

// Main runs the repokit command with args (without the program name) and returns its
// exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "generate":
		return mainGenerate(args[1:], stdout, stderr)
	case "migrate":
		return mainMigrate(args[1:], stdout, stderr)
	case "version":
		if len(args) > 1 {
			fmt.Fprintln(stderr, "repokit version takes no arguments")
			return 2
		}
		fmt.Fprintln(stdout, "repokit", Version())
		return 0
	case "help", "-h", "-help", "--help":
		printHelp(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "repokit: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// printHelp prints the usage and the flags of generate; the migrate commands list theirs
// with repokit migrate help.
func printHelp(w io.Writer) {
	fmt.Fprint(w, usage, "\nflags of generate:\n")
	fs := flag.NewFlagSet("repokit generate", flag.ContinueOnError)
	generateFlags(fs)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprint(w, "\nflags of migrate: repokit migrate help\n")
}

// generateFlags defines the flags of repokit generate in fs.
func generateFlags(fs *flag.FlagSet) (out, pkg, importPath, backends *string) {
	out = fs.String("out", "", "output `DIR`ectory (created if missing)")
	pkg = fs.String("package", "", "Go package `NAME` of the output")
	importPath = fs.String("import", "", "import `PATH` of the output package (default: from the go.mod above -out; the postgres backend needs it)")
	backends = fs.String("backends", string(BackendMemory),
		"comma-separated `LIST` of backends: "+knownBackendList()+"; empty for none")
	return out, pkg, importPath, backends
}

func mainGenerate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("repokit generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out, pkg, importPath, backends := generateFlags(fs)
	fs.Usage = func() {} // the flag package prints the error; Main adds a short usage line
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(stdout)
			return 0
		}
		fmt.Fprintln(stderr, shortUsage)
		return 2
	}
	bs, err := ParseBackends(*backends)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n%s\n", err, shortUsage)
		return 2
	}
	cfg := Config{Paths: fs.Args(), OutDir: *out, Package: *pkg, Backends: bs, ImportPath: *importPath, Stderr: stderr}
	if err := cfg.check(); err != nil {
		fmt.Fprintf(stderr, "%v\n%s\n", err, shortUsage)
		return 2
	}
	if err := Generate(cfg); err != nil {
		fmt.Fprintln(stderr, strings.TrimRight(err.Error(), "\n"))
		return 1
	}
	return 0
}

// Version returns the version of the repokit module this binary was built from, or
// "(devel)" when built inside the repokit repository.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	if bi.Main.Path == ModulePath {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == ModulePath {
			if d.Replace != nil {
				return d.Version + " (replaced by " + d.Replace.Path + ")"
			}
			return d.Version
		}
	}
	return "(devel)"
}
