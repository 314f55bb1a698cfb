package generator

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// SQLCVersion is the sqlc release the generator builds when no sqlc is installed (see
// sqlcCommand), the one repokit's generated code is checked against.
const SQLCVersion = "v1.31.1"

// SQLCPackagePath is the main package of sqlc.
const SQLCPackagePath = "github.com/sqlc-dev/sqlc/cmd/sqlc"

// SQLCCacheDir returns the directory where the generator keeps the sqlc it builds:
// <user cache dir>/repokit-tools/sqlc-<SQLCVersion> ($XDG_CACHE_HOME or ~/.cache on Linux,
// ~/Library/Caches on macOS, %LocalAppData% on Windows), the directory scripts/test.sh uses.
func SQLCCacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "repokit-tools", "sqlc-"+SQLCVersion), nil
}

// sqlcCommand returns the sqlc command to run: $REPOKIT_SQLC, else sqlc on PATH, else the
// one in SQLCCacheDir, which it builds there first when it is missing (go install
// SQLCPackagePath@SQLCVersion; cgo, about a minute once per machine), saying so on one line
// to log. It fails only when none of these is possible, saying what to do.
func sqlcCommand(log io.Writer) (string, error) {
	if bin := os.Getenv(EnvSQLC); bin != "" {
		return bin, nil
	}
	if p, err := exec.LookPath("sqlc"); err == nil {
		return p, nil
	}
	install := fmt.Sprintf("go install %s@%s, or set %s", SQLCPackagePath, SQLCVersion, EnvSQLC)
	dir, err := SQLCCacheDir()
	if err != nil {
		return "", fmt.Errorf("%w: the postgres backend runs sqlc, which is not installed, and there is no user cache directory to build it in (%v): %s", ErrSQLC, err, install)
	}
	bin := filepath.Join(dir, "sqlc")
	if filepath.Separator == '\\' {
		bin += ".exe"
	}
	if st, err := os.Stat(bin); err == nil && !st.IsDir() {
		return bin, nil
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("%w: the postgres backend runs sqlc, which is not installed, and the go command that would build it is not on PATH: %s", ErrSQLC, install)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("%w: cannot create %s to build sqlc in (%v): %s", ErrSQLC, dir, err, install)
	}
	fmt.Fprintf(log, "repokit: sqlc is not installed; building %s@%s into %s (once; needs cgo, about a minute)\n", SQLCPackagePath, SQLCVersion, dir)
	// Build into a directory of its own and rename the binary into place, so that a
	// concurrent run never finds a half-written one.
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", fmt.Errorf("%w: %v: %s", ErrSQLC, err, install)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command(goBin, "install", SQLCPackagePath+"@"+SQLCVersion)
	cmd.Dir = tmp // outside any module: pkg@version ignores go.mod, but not a go.work above it
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "CGO_ENABLED=1", "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if lines := strings.Split(msg, "\n"); len(lines) > 15 {
			msg = strings.Join(append([]string{"..."}, lines[len(lines)-15:]...), "\n")
		}
		return "", fmt.Errorf("%w: the postgres backend runs sqlc, which is not installed, and building it failed (%v; sqlc needs cgo and a C compiler):\n%s\ninstall it yourself (%s)", ErrSQLC, err, msg, install)
	}
	if err := os.Rename(filepath.Join(tmp, filepath.Base(bin)), bin); err != nil {
		return "", fmt.Errorf("%w: %v: %s", ErrSQLC, err, install)
	}
	return bin, nil
}
