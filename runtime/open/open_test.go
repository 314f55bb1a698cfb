package open_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/repokit/repokit/runtime/open"
	"github.com/repokit/repokit/runtime/pool"
)

func pg(mod func(*pool.PostgresPoolConfig)) pool.PostgresPoolConfig {
	c := pool.NewPostgresPoolConfig()
	mod(&c)
	return c
}

func s3cfg(mod func(*pool.S3PoolConfig)) pool.S3PoolConfig {
	c := pool.NewS3PoolConfig("")
	mod(&c)
	return c
}

func es(mod func(*pool.ElasticsearchPoolConfig)) pool.ElasticsearchPoolConfig {
	c := pool.NewElasticsearchPoolConfig()
	mod(&c)
	return c
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want open.Target
	}{
		{"mem://", open.Target{Backend: "memory"}},
		{"MEMORY://", open.Target{Backend: "memory"}},
		{"postgres://app:s3cr%2Ft@db.example:6543/shop?sslmode=require&pool_max_conns=20", open.Target{Backend: "postgres", Config: pg(func(c *pool.PostgresPoolConfig) {
			c.Host, c.Port, c.Database, c.User, c.Password, c.SSLMode, c.MaxSize = "db.example", 6543, "shop", "app", "s3cr/t", "require", 20
		})}},
		{"postgresql://localhost/shop", open.Target{Backend: "postgres", Config: pg(func(c *pool.PostgresPoolConfig) { c.Database = "shop" })}},
		{"s3://my-bucket", open.Target{Backend: "s3", Config: s3cfg(func(c *pool.S3PoolConfig) { c.Bucket = "my-bucket" })}},
		{"s3://my-bucket/apps/shop/?endpoint=http://127.0.0.1:9000&region=eu-west-1&path_style=true&max_connections=32",
			open.Target{Backend: "s3", Config: s3cfg(func(c *pool.S3PoolConfig) {
				c.Bucket, c.Prefix, c.EndpointURL, c.RegionName, c.PathStyle, c.MaxConnections = "my-bucket", "apps/shop", "http://127.0.0.1:9000", "eu-west-1", true, 32
			})}},
		{"s3://b-1?endpoint_url=https://s3.example&region_name=x", open.Target{Backend: "s3", Config: s3cfg(func(c *pool.S3PoolConfig) {
			c.Bucket, c.EndpointURL, c.RegionName = "b-1", "https://s3.example", "x"
		})}},
		{"elasticsearch://127.0.0.1", open.Target{Backend: "elasticsearch", Config: es(func(c *pool.ElasticsearchPoolConfig) { c.Hosts = []string{"http://127.0.0.1:9200"} })}},
		{"elasticsearch+http://node1:9201,node2,[::1]:9202,[::1]", open.Target{Backend: "elasticsearch", Config: es(func(c *pool.ElasticsearchPoolConfig) {
			c.Hosts = []string{"http://node1:9201", "http://node2:9200", "http://[::1]:9202", "http://[::1]:9200"}
		})}},
		{"elasticsearch+https://elastic:pa%40ss@es.example:9243?verify_certs=false&connections=4&maxsize=8", open.Target{Backend: "elasticsearch", Config: es(func(c *pool.ElasticsearchPoolConfig) {
			c.Hosts, c.BasicAuthUser, c.BasicAuthPassword = []string{"https://es.example:9243"}, "elastic", "pa@ss"
			c.VerifyCerts, c.Connections, c.MaxSize = false, 4, 8
		})}},
		{"elasticsearch://n1:9200,n2:9200,n3:9200?shards=3&replicas=1&wait_for_active_shards=2", open.Target{Backend: "elasticsearch", Config: es(func(c *pool.ElasticsearchPoolConfig) {
			c.Hosts = []string{"http://n1:9200", "http://n2:9200", "http://n3:9200"}
			c.Shards, c.Replicas, c.WaitForActiveShards = 3, 1, "2"
		})}},
		{"elasticsearch://h?wait_for_active_shards=all", open.Target{Backend: "elasticsearch", Config: es(func(c *pool.ElasticsearchPoolConfig) {
			c.Hosts, c.WaitForActiveShards = []string{"http://h:9200"}, "all"
		})}},
	} {
		got, err := open.Parse(tc.url)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.url, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", tc.url, diff)
		}
	}
}

// TestParseErrors checks that every bad URL fails with an error that wraps
// pool.ErrInvalidConfig, says what is wrong and what is accepted, and never shows a secret.
func TestParseErrors(t *testing.T) {
	const secret = "hunter2-SECRET"
	for _, tc := range []struct {
		url  string
		want []string // substrings of the message
	}{
		{"", []string{"not a URL", "mem://, memory://, postgres://, postgresql://, s3://, elasticsearch://, elasticsearch+http://, elasticsearch+https://"}},
		{"localhost:5432", []string{"not a URL"}},
		{"ftp://u:" + secret + "@host/x", []string{`"ftp://u:xxxxx@host/x"`, `unknown scheme "ftp" (accepted: mem://`}},
		{"http://127.0.0.1:9200", []string{`unknown scheme "http"`, "elasticsearch://HOST:PORT"}},
		{"es://h", []string{"did you mean elasticsearch://?"}},
		{"mem://shop", []string{"mem:// takes no host, path or query"}},
		{"postgres://app:" + secret + "@db/shop?application_name=x", []string{`"postgres://app:xxxxx@db/shop?application_name=x"`, `unsupported URL parameter "application_name"`, "sslmode"}},
		{"postgres://app:" + secret + "@db:99999/shop", []string{`invalid port`}},
		{"postgres://app:" + secret + "/x@db/shop", []string{"xxxxx"}},
		{"postgres://db/shop?password=" + secret, []string{"password=xxxxx"}},
		{"s3://", []string{"no bucket", "expected s3://BUCKET[/PREFIX][?endpoint=URL"}},
		{"s3:///prefix", []string{"no bucket"}},
		{"s3://AK:" + secret + "@bucket/p", []string{"user information is not accepted", "AWS_ACCESS_KEY_ID"}},
		{"s3://bucket/p?aws_secret_access_key=" + secret, []string{"aws_secret_access_key is not accepted in a URL", "default chain"}},
		{"s3://bucket?endpoint=http://x&endpoint_url=http://y", []string{"endpoint_url given twice (as endpoint and endpoint_url)"}},
		{"s3://bucket?region=a&region=b", []string{"region_name given twice"}},
		{"s3://bucket?pathstyle=true", []string{`unknown parameter "pathstyle" (accepted: endpoint, endpoint_url, max_connections, path_style, region, region_name)`}},
		{"s3://bucket?path_style=yes", []string{"parameter path_style: expected true or false"}},
		{"s3://bucket?max_connections=ten", []string{"parameter max_connections: expected an integer"}},
		{"s3://Bad_Bucket", []string{"invalid bucket name"}},
		{"s3://bucket:9000/p", []string{"a bucket name has no port"}},
		{"s3://bucket?endpoint=ftp://x", []string{"endpoint_url: expected an http:// or https:// URL"}},
		{"elasticsearch://", []string{"no host", "elasticsearch://[USER:PASSWORD@]HOST[:PORT]"}},
		{"elasticsearch://u:" + secret + "@", []string{"no host", "u:xxxxx@"}},
		{"elasticsearch://a,,b", []string{"empty host in a list"}},
		{"elasticsearch://h:9200/records", []string{"a path is not accepted"}},
		{"elasticsearch://h?api_key=" + secret, []string{"api_key is not accepted in a URL", "api_key=xxxxx"}},
		{"elasticsearch://h?index=x", []string{`unknown parameter "index"`}},
		{"elasticsearch://:" + secret + "@h", []string{"empty user name"}},
		{"elasticsearch://h:99999", []string{"invalid port"}},
		{"elasticsearch://h?connections=20&maxsize=10", []string{"must not be less than connections"}},
		{"elasticsearch://h?shards=three", []string{"parameter shards: expected an integer"}},
		{"elasticsearch://h?replicas=-1", []string{"replicas: must be at least 0, got -1"}},
		{"elasticsearch://h?wait_for_active_shards=0", []string{`wait_for_active_shards: expected "all" or a number of copies from 1, got "0"`}},
		{"elasticsearch://h?number_of_shards=3", []string{`unknown parameter "number_of_shards"`, "shards"}},
	} {
		_, err := open.Parse(tc.url)
		if err == nil {
			t.Errorf("Parse(%q) succeeded", tc.url)
			continue
		}
		msg := err.Error()
		if !errors.Is(err, pool.ErrInvalidConfig) {
			t.Errorf("Parse(%q): %v does not wrap pool.ErrInvalidConfig", tc.url, err)
		}
		if strings.Contains(msg, secret) {
			t.Errorf("Parse(%q): the error shows the secret: %s", tc.url, msg)
		}
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("Parse(%q) = %q, want it to contain %q", tc.url, msg, w)
			}
		}
	}
}

func TestFromMap(t *testing.T) {
	got, err := open.FromMap("elasticsearch", map[string]any{"host": "localhost:9200", "pool": map[string]any{"maxsize": 20}})
	if err != nil {
		t.Fatal(err)
	}
	want := open.Target{Backend: "elasticsearch", Config: es(func(c *pool.ElasticsearchPoolConfig) { c.MaxSize = 20 })}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FromMap (-want +got):\n%s", diff)
	}
	if got, err := open.FromMap("memory", nil); err != nil || got.Backend != "memory" || got.String() != "mem://" {
		t.Errorf("FromMap(memory) = %v, %v", got, err)
	}
	for _, tc := range []struct {
		backend string
		cfg     map[string]any
		want    string
	}{
		{"mysql", nil, `unknown backend "mysql" (accepted: memory, postgres, elasticsearch, s3)`},
		{"memory", map[string]any{"x": 1}, "the memory backend takes no configuration"},
		{"s3", map[string]any{"prefix": "p"}, "bucket: required"},
		{"postgres", map[string]any{"password": 42}, "password: expected a string, got an integer"},
	} {
		_, err := open.FromMap(tc.backend, tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, pool.ErrInvalidConfig) {
			t.Errorf("FromMap(%s, %v) = %v, want an invalid-config error containing %q", tc.backend, tc.cfg, err, tc.want)
		}
	}
}

func TestFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	err := os.WriteFile(path, []byte(`databases:
  postgres:
    host: db
    password: file-secret
    pool: {min_size: 1, max_size: 4}
  s3:
    bucket: my-bucket
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"POSTGRES_POOL_MAX_SIZE": "12", "S3_POOL_MAX_CONNECTIONS": "7"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	got, err := open.FromFile(path, "postgres", lookup)
	if err != nil {
		t.Fatal(err)
	}
	want := open.Target{Backend: "postgres", Config: pg(func(c *pool.PostgresPoolConfig) {
		c.Host, c.Password, c.MinSize, c.MaxSize = "db", "file-secret", 1, 12
	})}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FromFile(postgres) (-want +got):\n%s", diff)
	}
	if got, err := open.FromFile(path, "s3", nil); err != nil || got.Config.(pool.S3PoolConfig).MaxConnections != pool.DefaultS3MaxConnections {
		t.Errorf("FromFile(s3) without lookup = %v, %v; want no environment override", got, err)
	}
	if got, err := open.FromFile(filepath.Join(t.TempDir(), "absent.yaml"), "memory", lookup); err != nil || got.Backend != "memory" {
		t.Errorf("FromFile(memory) = %v, %v; want the memory target without reading the file", got, err)
	}
	env["POSTGRES_POOL_MAX_SIZE"] = "twelve"
	for _, tc := range []struct{ path, backend, want string }{
		{path, "elasticsearch", "no databases.elasticsearch section (sections: postgres, s3)"},
		{path, "postgres", `$POSTGRES_POOL_MAX_SIZE: expected an integer, got "twelve"`},
		{path, "es", `unknown backend "es"`},
		{filepath.Join(t.TempDir(), "absent.yaml"), "s3", "cannot read the configuration"},
	} {
		_, err := open.FromFile(tc.path, tc.backend, lookup)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "file-secret") {
			t.Errorf("FromFile(%s, %s) = %v, want an error containing %q and no secret", tc.path, tc.backend, err, tc.want)
		}
	}
}

func TestNotGenerated(t *testing.T) {
	tg, err := open.Parse("postgres://app:hunter2@db/shop")
	if err != nil {
		t.Fatal(err)
	}
	err = open.NotGenerated(tg, "shopdb", "memory", "s3")
	want := `open "postgres://app:xxxxx@db:5432/shop?pool_max_conns=5&pool_min_conns=2": package shopdb was not generated with the postgres backend (it has: memory, s3); regenerate it with -backends=memory,s3,postgres`
	if err == nil || err.Error() != want {
		t.Errorf("NotGenerated = %v\nwant %s", err, want)
	}
	if !errors.Is(err, open.ErrNotGenerated) || !errors.Is(err, pool.ErrInvalidConfig) {
		t.Errorf("NotGenerated: %v wraps neither ErrNotGenerated nor pool.ErrInvalidConfig", err)
	}
	if err := open.NotGenerated(open.Target{}, "shopdb", "memory"); err == nil || !strings.Contains(err.Error(), "empty target") || errors.Is(err, open.ErrNotGenerated) {
		t.Errorf("NotGenerated(zero Target) = %v", err)
	}
	if err := open.NotGenerated(open.Target{Backend: "mongo"}, "shopdb", "memory"); err == nil || !strings.Contains(err.Error(), `unknown backend "mongo" (accepted: memory)`) {
		t.Errorf("NotGenerated(unknown backend) = %v", err)
	}
}

type optA func()
type optB func()

func (optA) ForBackend() string { return "a" }
func (optB) ForBackend() string { return "b" }

func TestOptionsFor(t *testing.T) {
	var calls []string
	opts := []open.Option{optA(func() { calls = append(calls, "a1") }), optB(func() { calls = append(calls, "b") }), optA(func() { calls = append(calls, "a2") })}
	for _, o := range open.OptionsFor[optA](opts) {
		o()
	}
	if diff := cmp.Diff([]string{"a1", "a2"}, calls); diff != "" {
		t.Errorf("OptionsFor[optA] ran (-want +got):\n%s", diff)
	}
	if got := open.OptionsFor[optB](nil); got != nil {
		t.Errorf("OptionsFor of no options = %v", got)
	}
}

func TestFromPoolConfig(t *testing.T) {
	cfg := pool.NewS3PoolConfig("b")
	if got := open.FromPoolConfig(cfg); got.Backend != "s3" || got.Config != pool.Config(cfg) {
		t.Errorf("FromPoolConfig = %v", got)
	}
}

func TestCheckManager(t *testing.T) {
	tg, err := open.Parse("elasticsearch://u:hunter2@h")
	if err != nil {
		t.Fatal(err)
	}
	err = tg.CheckManager(nil)
	if err == nil || !strings.Contains(err.Error(), "no *pool.Manager (nil): the elasticsearch backend") || strings.Contains(err.Error(), "hunter2") || !errors.Is(err, pool.ErrInvalidConfig) {
		t.Errorf("CheckManager(nil) = %v", err)
	}
	if err := tg.CheckManager(pool.New(pool.Options{})); err != nil {
		t.Errorf("CheckManager(m) = %v", err)
	}
	if err := (open.Target{Backend: "memory"}).CheckManager(nil); err != nil {
		t.Errorf("memory: CheckManager(nil) = %v", err)
	}
}
