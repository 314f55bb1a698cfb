package gettingstarted

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/repokit/repokit/internal/servicetest"
)

// block is a fenced code block of README.md, marked by <!-- gettingstarted:NAME --> on the
// line before it, without the list item's indentation.
func blocks(t *testing.T, readme string) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(readme))
	name := ""
	var body []string
	indent, in := "", false
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case in && trimmed == "```":
			out[name] = strings.Join(body, "\n") + "\n"
			name, body, in = "", nil, false
		case in:
			body = append(body, strings.TrimPrefix(line, indent))
		case strings.HasPrefix(trimmed, "<!-- gettingstarted:"):
			name = strings.TrimSuffix(strings.TrimPrefix(trimmed, "<!-- gettingstarted:"), " -->")
		case name != "" && strings.HasPrefix(trimmed, "```"):
			indent, in = line[:len(line)-len(strings.TrimLeft(line, " "))], true
		}
	}
	for _, want := range []string{"init", "local", "catalog/schema.yaml", "catalog/gen.go", "generate", "main.go", "output"} {
		if _, ok := out[want]; !ok {
			t.Fatalf("README.md has no block marked <!-- gettingstarted:%s -->", want)
		}
	}
	return out
}

// memTest is the test the module gets besides the README's program: typed filters, a stream
// and the openers' error for a backend that is not a URL, on mem://.
const memTest = `package catalog_test

import (
	"context"
	"errors"
	"testing"

	"example.com/shopapp/catalog"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

func TestOnMemory(t *testing.T) {
	ctx := context.Background()
	db, err := catalog.Open(ctx, nil, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Book.Create(ctx, catalog.Book{Isbn: "1", Title: "A", Price: 1, Tags: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Book.Create(ctx, catalog.Book{Isbn: "1", Title: "B", Price: 2}); !errors.Is(err, repo.ErrAlreadyExists) {
		t.Errorf("duplicate isbn: %v", err)
	}
	n := 0
	for b, err := range db.Book.Stream(ctx, catalog.BookQuery().Where(catalog.BookFields.Tags.Contains("x"))) {
		if err != nil || b.Isbn != "1" {
			t.Fatal(b, err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("streamed %d books, want 1", n)
	}
	if _, err := catalog.NewBookRepository(ctx, nil, "http://localhost:9200"); !errors.Is(err, pool.ErrInvalidConfig) {
		t.Errorf("an http:// URL: %v", err)
	}
}
`

// TestGettingStarted follows README.md's "Getting started in your own module": its commands,
// its files, its program, its output.
func TestGettingStarted(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module with the go command")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		servicetest.Unavailable(t, "the go command is not on PATH")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	b := blocks(t, string(readme))

	// A machine with Go and no sqlc: no REPOKIT_SQLC, no sqlc on PATH, an empty user cache
	// (the generator builds sqlc there). The build and module caches stay the shared ones,
	// so that nothing is compiled or downloaded twice.
	env := map[string]string{}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		out, err := exec.Command(goBin, "env", k).Output()
		if err != nil {
			t.Fatal(err)
		}
		env[k] = strings.TrimSpace(string(out))
	}
	tmp := t.TempDir()
	for k, v := range env {
		t.Setenv(k, v)
	}
	t.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "cache"))
	t.Setenv("REPOKIT_SQLC", "")
	t.Setenv("GOFLAGS", "")
	t.Setenv("GOWORK", "off")
	var path []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(dir, "sqlc")); err != nil {
			path = append(path, dir)
		}
	}
	t.Setenv("PATH", strings.Join(path, string(filepath.ListSeparator)))

	// ../repokit is the checkout, as the README's replace has it.
	if err := os.Symlink(root, filepath.Join(tmp, "repokit")); err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(tmp, "shopapp")
	sh := func(dir, script string) string {
		t.Helper()
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("in %s:\n%s\n%v:\n%s", dir, script, err, out)
		}
		return string(out)
	}
	sh(tmp, b["init"])
	sh(app, b["local"])
	for _, f := range []string{"catalog/schema.yaml", "catalog/gen.go"} {
		writeFile(t, filepath.Join(app, f), b[f])
	}
	start := time.Now()
	out := sh(app, b["generate"])
	t.Logf("go generate and go mod tidy: %s", time.Since(start).Round(time.Second))
	if !strings.Contains(out, "repokit: sqlc is not installed; building github.com/sqlc-dev/sqlc/cmd/sqlc@v1.31.1 into "+filepath.Join(tmp, "cache")) {
		t.Errorf("go generate did not say that it builds sqlc:\n%s", out)
	}
	for _, f := range []string{"catalog/open.go", "catalog/postgres.go", "catalog/catalogsql/models.go"} {
		if _, err := os.Stat(filepath.Join(app, f)); err != nil {
			t.Errorf("go generate did not write %s: %v", f, err)
		}
	}
	// A second go generate after tidy works (the go tool form keeps the generator's
	// requirements) and changes nothing.
	sh(app, "go generate ./... && git init -q . && git add -A && go generate ./... && git diff --exit-code --stat")
	writeFile(t, filepath.Join(app, "main.go"), b["main.go"])
	sh(app, "go vet ./... && go build -o shopapp .")
	writeFile(t, filepath.Join(app, "catalog", "catalog_test.go"), memTest)
	sh(app, "go test -count=1 ./...")

	want := b["output"]
	runApp := func(t *testing.T, url string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(app, "shopapp"), url)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("shopapp %s: %v\n%s", url, err, out)
		}
		if string(out) != want {
			t.Errorf("shopapp %s printed\n%s\nwant (README.md)\n%s", url, out, want)
		}
	}
	t.Run("mem", func(t *testing.T) { runApp(t, "mem://") })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t.Run("postgres", func(t *testing.T) {
		url := servicetest.PostgresOpenURL(t)
		dropTable(ctx, t, url, "books")
		runApp(t, url)
	})
	t.Run("s3", func(t *testing.T) {
		runApp(t, servicetest.S3OpenURL(t, "getting-started"))
	})
	t.Run("elasticsearch", func(t *testing.T) {
		deleteIndex(ctx, t, servicetest.ElasticsearchURL(t), "books")
		runApp(t, servicetest.ElasticsearchOpenURL(t))
	})
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// dropTable removes what an earlier run of another README left, so that the schema check
// of the repository compares against this README's schema.
func dropTable(ctx context.Context, t *testing.T, url, table string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{table}.Sanitize()); err != nil {
		t.Fatal(err)
	}
}

// deleteIndex is dropTable for Elasticsearch: the index and its companion of unique values.
func deleteIndex(ctx context.Context, t *testing.T, url, index string) {
	t.Helper()
	for _, name := range []string{index, index + "-unique"} {
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, strings.TrimSuffix(url, "/")+"/"+name+"?ignore_unavailable=true", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("DELETE /%s: %s %s", name, resp.Status, body.String())
		}
	}
}
