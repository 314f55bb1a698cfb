package pool

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSeedYAMLLoads(t *testing.T) {
	fc, err := LoadFile("testdata/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pg := NewPostgresPoolConfig()
	pg.Database, pg.MinSize, pg.MaxSize, pg.ConnectTimeout = "mydb", 10, 20, 30*time.Second
	es := NewElasticsearchPoolConfig()
	es.Hosts, es.Connections, es.MaxSize = []string{"http://node1:9200", "http://node2:9200"}, 10, 20
	s3 := NewS3PoolConfig("my-bucket")
	s3.MaxConnections = 50
	want := &FileConfig{Postgres: &pg, Elasticsearch: &es, S3: &s3}
	if !reflect.DeepEqual(fc, want) {
		t.Fatalf("loaded\n%#v\nwant\n%#v", fc, want)
	}
	if got, want := fc.Postgres.ConnectionString(), "postgres://postgres@localhost:5432/mydb?connect_timeout=30&pool_max_conns=20&pool_min_conns=10"; got != want {
		t.Fatalf("ConnectionString = %s, want %s", got, want)
	}
}

func TestBadConfigFiles(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"type.yaml", `testdata/bad/type.yaml:6: databases.postgres.pool.max_size: expected an integer, got "twenty"`},
		{"unknown.yaml", `testdata/bad/unknown.yaml:3: databases.postgres.hots: unknown key (did you mean host?)`},
		{"nobucket.yaml", `testdata/bad/nobucket.yaml:2: databases.s3.bucket: required`},
		{"port.yaml", `testdata/bad/port.yaml:3: databases.postgres.port: must be between 1 and 65535, got 70000`},
		{"minmax.yaml", `testdata/bad/minmax.yaml:5: databases.postgres.pool.max_size: must not be less than min_size (10), got 5`},
		{"esurl.yaml", `testdata/bad/esurl.yaml:5: databases.elasticsearch.hosts[1]: expected an http:// or https:// URL, got "node2:9200"`},
		{"dup.yaml", `testdata/bad/dup.yaml:4: databases.postgres.host: duplicate key (first at line 3)`},
		{"section.yaml", `testdata/bad/section.yaml:2: databases.mysql: unknown key`},
		{"top.yaml", `testdata/bad/top.yaml:1: database: unknown key (did you mean databases?)`},
		{"secret.yaml", `testdata/bad/secret.yaml:3: databases.postgres.password: expected a string, got an integer`},
		{"missing.yaml", `open testdata/bad/missing.yaml: no such file or directory`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := LoadFile("testdata/bad/" + tc.file)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v\nwant    %s", err, tc.want)
			}
			if tc.file != "missing.yaml" && !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("%v does not wrap ErrInvalidConfig", err)
			}
			if strings.Contains(err.Error(), "12345") {
				t.Fatalf("secret value in %v", err)
			}
		})
	}
}

func TestParseFileErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"not yaml", "databases: [", "c.yaml: invalid YAML: yaml: line 1: did not find expected node content"},
		{"empty", "", "c.yaml:1: empty file (expected a databases: mapping)"},
		{"no databases", "{}", "c.yaml:1: databases: missing"},
		{"section not a mapping", "databases:\n  s3: my-bucket\n", `c.yaml:2: databases.s3: expected a mapping, got "my-bucket"`},
		{"several errors", "databases:\n  postgres:\n    port: abc\n    min_size: -1\n", "c.yaml:3: databases.postgres.port: expected an integer, got \"abc\"\nc.yaml:4: databases.postgres.min_size: must be at least 0, got -1"},
		{"bad duration", "databases:\n  postgres:\n    pool:\n      timeout: soon\n", `c.yaml:4: databases.postgres.pool.timeout: expected a duration (seconds, or a string like "30s"), got "soon"`},
		{"negative duration", "databases:\n  postgres:\n    command_timeout: -1.5\n", `c.yaml:3: databases.postgres.command_timeout: must not be negative, got -1.5s`},
		{"set twice", "databases:\n  postgres:\n    max_size: 9\n    pool:\n      max_size: 8\n", `c.yaml:5: databases.postgres.pool.max_size: max_size is already set by databases.postgres.max_size (line 3)`},
		{"es host and hosts", "databases:\n  elasticsearch:\n    hosts: [http://a:9200]\n    host: b\n", `c.yaml:4: databases.elasticsearch.host: cannot be combined with hosts (line 3)`},
		{"es port conflict", "databases:\n  elasticsearch:\n    host: localhost:9200\n    port: 9300\n", `c.yaml:4: databases.elasticsearch.port: 9300 conflicts with the port in host "localhost:9200"`},
		{"bad bool", "databases:\n  elasticsearch:\n    verify_certs: sometimes\n", `c.yaml:3: databases.elasticsearch.verify_certs: expected a boolean, got "sometimes"`},
		{"es shards", "databases:\n  elasticsearch:\n    shards: 2000\n", `c.yaml:3: databases.elasticsearch.shards: must be between 0 and 1024, got 2000`},
		{"es replicas", "databases:\n  elasticsearch:\n    replicas: -1\n", `c.yaml:3: databases.elasticsearch.replicas: must be at least 0, got -1`},
		{"es active shards", "databases:\n  elasticsearch:\n    wait_for_active_shards: most\n", `c.yaml:3: databases.elasticsearch.wait_for_active_shards: expected "all" or a number of copies from 1, got "most"`},
		{"es active shards zero", "databases:\n  elasticsearch:\n    wait_for_active_shards: 0\n", `c.yaml:3: databases.elasticsearch.wait_for_active_shards: expected "all" or a number of copies from 1, got "0"`},
		{"es shards hint", "databases:\n  elasticsearch:\n    number_of_shards: 3\n", `c.yaml:3: databases.elasticsearch.number_of_shards: unknown key (use shards)`},
		{"bad bucket", "databases:\n  s3:\n    bucket: My_Bucket\n", `c.yaml:3: databases.s3.bucket: invalid bucket name "My_Bucket" (3-63 characters: lowercase letters, digits, dots, hyphens)`},
		{"bad endpoint", "databases:\n  s3:\n    bucket: b1b\n    endpoint_url: localhost:4566\n", `c.yaml:4: databases.s3.endpoint_url: expected an http:// or https:// URL, got "localhost:4566"`},
		{"keys without secret", "databases:\n  s3:\n    bucket: b1b\n    aws_access_key_id: AKIA\n", `c.yaml:2: databases.s3.aws_secret_access_key: aws_access_key_id and aws_secret_access_key must be given together`},
		{"hint", "databases:\n  postgres:\n    max_connections: 3\n", `c.yaml:3: databases.postgres.max_connections: unknown key (use max_size)`},
		{"zero pool", "databases:\n  s3:\n    bucket: b1b\n    pool:\n      max_connections: 0\n", `c.yaml:5: databases.s3.pool.max_connections: must be at least 1, got 0`},
		{"bad sslmode", "databases:\n  postgres:\n    ssl: maybe\n", `c.yaml:3: databases.postgres.ssl: unknown sslmode "maybe" (want one of disable, allow, prefer, require, verify-ca, verify-full)`},
		{"list for string", "databases:\n  postgres:\n    host: [a, b]\n", `c.yaml:3: databases.postgres.host: expected a string, got a list`},
		{"float for int", "databases:\n  postgres:\n    port: 5432.5\n", `c.yaml:3: databases.postgres.port: expected an integer, got 5432.5`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile("c.yaml", []byte(tc.yaml))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v\nwant    %s", err, tc.want)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("%v does not wrap ErrInvalidConfig", err)
			}
		})
	}
}

func TestBadConfigMaps(t *testing.T) {
	const pw = "Sup3r$ecret"
	for _, tc := range []struct {
		name string
		fn   func() error
		want string
	}{
		{"pg unknown key", func() error { _, err := PostgresPoolConfigFromMap(map[string]any{"hostname": "x"}); return err }, "hostname: unknown key (did you mean host?)"},
		{"pg port string", func() error { _, err := PostgresPoolConfigFromMap(map[string]any{"port": "abc"}); return err }, `port: expected an integer, got "abc"`},
		{"pg port zero", func() error { _, err := PostgresPoolConfigFromMap(map[string]any{"port": 0}); return err }, "port: must be between 1 and 65535, got 0"},
		{"pg negative size", func() error {
			_, err := PostgresPoolConfigFromMap(map[string]any{"pool": map[string]any{"min_size": -2}})
			return err
		}, "pool.min_size: must be at least 0, got -2"},
		{"pg host with port", func() error { _, err := PostgresPoolConfigFromMap(map[string]any{"host": "db:5432"}); return err }, `host: must not contain a port (use port), got "db:5432"`},
		{"pg bad url", func() error {
			_, err := PostgresPoolConfigFromMap(map[string]any{"connection_string": "postgres://u:" + pw + "@h:abc/db"})
			return err
		}, `connection_string: invalid URL: invalid port ":abc" after host`},
		{"pg unescaped slash in password", func() error {
			_, err := PostgresPoolConfigFromMap(map[string]any{"connection_string": "postgres://u:" + pw + "/x@h/db"})
			return err
		}, `connection_string: invalid URL: the password holds characters that must be escaped (e.g. / as %2F, ? as %3F, @ as %40)`},
		{"pg not a url", func() error {
			_, err := PostgresPoolConfigFromMap(map[string]any{"connection_string": "host=h password=" + pw})
			return err
		}, "connection_string: expected a postgres:// or postgresql:// URL"},
		{"pg url and fields", func() error {
			_, err := PostgresPoolConfigFromMap(map[string]any{"connection_string": "postgres://h/db", "host": "h"})
			return err
		}, "host: cannot be combined with connection_string"},
		{"pg url bad param", func() error {
			_, err := PostgresPoolConfigFromMap(map[string]any{"connection_string": "postgres://h/db?pool_max_conns=many"})
			return err
		}, `connection_string (pool_max_conns): expected an integer, got "many"`},
		{"pg url unknown param", func() error {
			_, err := PostgresPoolConfigFromMap(map[string]any{"connection_string": "postgres://h/db?password=" + pw})
			return err
		}, `connection_string: unsupported URL parameter "password" (accepted: connect_timeout, pool_health_check_period, pool_max_conn_idle_time, pool_max_conn_lifetime, pool_max_conns, pool_min_conns, replica_max_lag, replicas, sslcert, sslkey, sslmode, sslrootcert)`},
		{"pg non-integral float", func() error { _, err := PostgresPoolConfigFromMap(map[string]any{"max_size": 2.5}); return err }, "max_size: expected an integer, got 2.5"},
		{"pg unsupported go type", func() error {
			_, err := PostgresPoolConfigFromMap(map[string]any{"port": struct{}{}})
			return err
		}, "port: unsupported value of Go type struct {}"},
		{"es no hosts", func() error { _, err := ElasticsearchPoolConfigFromMap(map[string]any{"hosts": []any{}}); return err }, "hosts: at least one host is required"},
		{"es port only", func() error { _, err := ElasticsearchPoolConfigFromMap(map[string]any{"port": 9200}); return err }, "port: needs host"},
		{"es bad port", func() error {
			_, err := ElasticsearchPoolConfigFromMap(map[string]any{"host": "localhost", "port": 70000})
			return err
		}, "port: must be between 1 and 65535, got 70000"},
		{"es bad host port", func() error {
			_, err := ElasticsearchPoolConfigFromMap(map[string]any{"host": "localhost:abc"})
			return err
		}, `host: invalid port "abc" in "localhost:abc"`},
		{"es both auths", func() error {
			_, err := ElasticsearchPoolConfigFromMap(map[string]any{"api_key": pw, "basic_auth": []any{"elastic", pw}})
			return err
		}, "api_key: cannot be combined with basic_auth"},
		{"es basic auth shape", func() error {
			_, err := ElasticsearchPoolConfigFromMap(map[string]any{"basic_auth": pw})
			return err
		}, "basic_auth: expected a mapping with username and password, got a string"},
		{"es cert without key", func() error {
			_, err := ElasticsearchPoolConfigFromMap(map[string]any{"client_cert": "/c.pem"})
			return err
		}, "client_key: client_cert and client_key must be given together"},
		{"es connections over maxsize", func() error {
			_, err := ElasticsearchPoolConfigFromMap(map[string]any{"pool": map[string]any{"connections": 30, "maxsize": 20}})
			return err
		}, "pool.maxsize: must not be less than connections (30), got 20"},
		{"s3 missing bucket", func() error { _, err := S3PoolConfigFromMap(map[string]any{"region": "eu-west-1"}); return err }, "bucket: required"},
		{"s3 region twice", func() error {
			_, err := S3PoolConfigFromMap(map[string]any{"bucket": "b1b", "region": "a", "region_name": "b"})
			return err
		}, "region_name: region_name is already set by region"},
		{"s3 token without keys", func() error {
			_, err := S3PoolConfigFromMap(map[string]any{"bucket": "b1b", "aws_session_token": pw})
			return err
		}, "aws_session_token: needs aws_access_key_id and aws_secret_access_key"},
		{"s3 secret wrong type", func() error {
			_, err := S3PoolConfigFromMap(map[string]any{"bucket": "b1b", "aws_secret_access_key": 42})
			return err
		}, "aws_secret_access_key: expected a string, got an integer"},
		{"s3 endpoint bad port", func() error {
			_, err := S3PoolConfigFromMap(map[string]any{"bucket": "b1b", "endpoint_url": "http://h:99999"})
			return err
		}, `endpoint_url: invalid port "99999" in "http://h:99999"`},
		{"s3 pool unknown", func() error {
			_, err := S3PoolConfigFromMap(map[string]any{"bucket": "b1b", "pool": map[string]any{"max_conns": 3}})
			return err
		}, "pool.max_conns: unknown key (did you mean max_connections?)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.fn()
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v\nwant    %s", err, tc.want)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("%v does not wrap ErrInvalidConfig", err)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("%v is not a *ConfigError", err)
			}
			if strings.Contains(err.Error(), "Sup3r") {
				t.Fatalf("secret in %v", err)
			}
		})
	}
}

func TestElasticsearchHostPortRule(t *testing.T) {
	for _, tc := range []struct {
		in   map[string]any
		want string
	}{
		{map[string]any{"host": "localhost"}, "http://localhost:9200"},
		{map[string]any{"host": "localhost", "port": 9201}, "http://localhost:9201"},
		{map[string]any{"host": "localhost:9200"}, "http://localhost:9200"},
		{map[string]any{"host": "localhost:9200", "port": 9200}, "http://localhost:9200"},
		{map[string]any{"host": "https://es.example:9243", "port": 9243}, "https://es.example:9243"},
		{map[string]any{"host": "https://es.example"}, "https://es.example:9200"},
		{map[string]any{"host": "::1"}, "http://[::1]:9200"},
		{map[string]any{"host": "[::1]:9300"}, "http://[::1]:9300"},
		{map[string]any{}, "http://localhost:9200"},
	} {
		c, err := ElasticsearchPoolConfigFromMap(tc.in)
		if err != nil {
			t.Fatalf("%v: %v", tc.in, err)
		}
		if len(c.Hosts) != 1 || c.Hosts[0] != tc.want {
			t.Fatalf("%v: hosts = %v, want [%s]", tc.in, c.Hosts, tc.want)
		}
	}
}

// TestElasticsearchIndexSettings reads shards, replicas and wait_for_active_shards from a map
// and a file: they show in Redacted and stay out of the identity.
func TestElasticsearchIndexSettings(t *testing.T) {
	c, err := ElasticsearchPoolConfigFromMap(map[string]any{"hosts": []any{"http://a:9200", "http://b:9200"},
		"shards": 3, "replicas": 1, "wait_for_active_shards": "all"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Shards != 3 || c.Replicas != 1 || c.WaitForActiveShards != "all" {
		t.Fatalf("got shards %d, replicas %d, wait_for_active_shards %q", c.Shards, c.Replicas, c.WaitForActiveShards)
	}
	if got, want := c.Redacted(), "http://a:9200,http://b:9200 index=records shards=3 replicas=1 wait_for_active_shards=all connections=10 maxsize=10"; got != want {
		t.Fatalf("Redacted = %s, want %s", got, want)
	}
	plain := NewElasticsearchPoolConfig()
	plain.Hosts = c.Hosts
	if plain.Key() != c.Key() {
		t.Fatal("index settings changed the pool identity")
	}
	fc, err := ParseFile("c.yaml", []byte("databases:\n  elasticsearch:\n    hosts: [http://a:9200]\n    wait_for_active_shards: 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fc.Elasticsearch.WaitForActiveShards; got != "2" {
		t.Fatalf("wait_for_active_shards: 2 in YAML = %q, want \"2\"", got)
	}
	for v, ok := range map[string]bool{"all": true, "1": true, "3": true, "": false, "0": false, "-1": false, "01": false, "ALL": false, "1.5": false} {
		if ValidWaitForActiveShards(v) != ok {
			t.Errorf("ValidWaitForActiveShards(%q) = %v, want %v", v, !ok, ok)
		}
	}
}

func TestPostgresFromMap(t *testing.T) {
	const pw = "p@ss:w/rd?#% é"
	c := NewPostgresPoolConfig()
	c.Host, c.Port, c.Database, c.User, c.Password = "db.internal", 6543, "my db", "app user", pw
	c.MinSize, c.MaxSize, c.SSLMode, c.ConnectTimeout = 1, 7, "require", 5*time.Second
	c.MaxConnLifetime, c.MaxConnIdleTime, c.HealthCheckPeriod = time.Hour, 10*time.Minute, 30*time.Second
	dsn := c.ConnectionString()
	back, err := PostgresPoolConfigFromMap(map[string]any{"connection_string": dsn})
	if err != nil {
		t.Fatalf("parse %s: %v", c.Redacted(), err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("round trip:\n%#v\n%#v", back, c)
	}
	if back.Password != pw || back.Key() != c.Key() {
		t.Fatal("password or key changed in the round trip")
	}
	if strings.Contains(c.Redacted(), "p@ss") || !strings.Contains(c.Redacted(), "app%20user:xxxxx@") {
		t.Fatalf("Redacted = %s", c.Redacted())
	}
	fields, err := PostgresPoolConfigFromMap(map[string]any{
		"host": "db.internal", "port": 6543, "database": "my db", "user": "app user", "password": pw,
		"ssl": true, "pool": map[string]any{"min_size": 1, "max_size": 7, "timeout": "5s",
			"max_conn_lifetime": 3600, "max_conn_idle_time": "10m", "health_check_period": 30.0},
	})
	if err != nil || !reflect.DeepEqual(fields, c) {
		t.Fatalf("from fields: %v\n%#v\n%#v", err, fields, c)
	}
}

func TestFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	pg, err := PostgresPoolConfigFromEnv(env(map[string]string{
		"POSTGRES_POOL_MIN_SIZE": "10", "POSTGRES_POOL_MAX_SIZE": "20", "POSTGRES_POOL_TIMEOUT": "30"}))
	if err != nil || pg.MinSize != 10 || pg.MaxSize != 20 || pg.ConnectTimeout != 30*time.Second || pg.Host != "localhost" {
		t.Fatalf("postgres from env: %v %#v", err, pg)
	}
	es, err := ElasticsearchPoolConfigFromEnv(env(map[string]string{"ES_POOL_CONNECTIONS": "10", "ES_POOL_MAXSIZE": "20"}))
	if err != nil || es.Connections != 10 || es.MaxSize != 20 {
		t.Fatalf("es from env: %v %#v", err, es)
	}
	s3, err := S3PoolConfigFromEnv("b1b", env(map[string]string{"S3_POOL_MAX_CONNECTIONS": "50"}))
	if err != nil || s3.MaxConnections != 50 {
		t.Fatalf("s3 from env: %v %#v", err, s3)
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"POSTGRES_POOL_MIN_SIZE": "ten"}, `$POSTGRES_POOL_MIN_SIZE: expected an integer, got "ten"`},
		{map[string]string{"POSTGRES_POOL_MAX_SIZE": ""}, `$POSTGRES_POOL_MAX_SIZE: expected an integer, got ""`},
		{map[string]string{"POSTGRES_POOL_MIN_SIZE": "9"}, `max_size: must not be less than min_size (9), got 5`},
		{map[string]string{"POSTGRES_POOL_TIMEOUT": "-3"}, `$POSTGRES_POOL_TIMEOUT: must not be negative, got -3s`},
	} {
		_, err := PostgresPoolConfigFromEnv(env(tc.env))
		if err == nil || err.Error() != tc.want || !errors.Is(err, ErrInvalidConfig) {
			t.Fatalf("%v: error = %v, want %s", tc.env, err, tc.want)
		}
	}
	if _, err := ElasticsearchPoolConfigFromEnv(env(map[string]string{"ES_POOL_MAXSIZE": "0"})); err == nil || err.Error() != "$ES_POOL_MAXSIZE: must be at least 1, got 0" {
		t.Fatalf("es bad env: %v", err)
	}
	fc, err := LoadFile("testdata/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := fc.ApplyEnv(env(map[string]string{"POSTGRES_POOL_MAX_SIZE": "40", "S3_POOL_MAX_CONNECTIONS": "5"})); err != nil {
		t.Fatal(err)
	}
	if fc.Postgres.MaxSize != 40 || fc.S3.MaxConnections != 5 || fc.Elasticsearch.MaxSize != 20 {
		t.Fatalf("env over file: %#v", fc)
	}
}

func TestPrintingNeverShowsSecrets(t *testing.T) {
	pg := NewPostgresPoolConfig()
	pg.Password = "pg-SECRET"
	es := NewElasticsearchPoolConfig()
	es.BasicAuthUser, es.BasicAuthPassword = "elastic", "es-SECRET"
	esKey := NewElasticsearchPoolConfig()
	esKey.APIKey = "key-SECRET"
	s3 := NewS3PoolConfig("b1b")
	s3.AWSAccessKeyID, s3.AWSSecretAccessKey, s3.AWSSessionToken = "AKIA1", "s3/SECRET+x", "tok-SECRET"
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	for _, c := range []Config{pg, es, esKey, s3, Prepare(pg)} {
		log.Info("cfg", "c", c)
		out := fmt.Sprintf("%v %+v %#v %s", c, c, c, c.Redacted()) + buf.String()
		if strings.Contains(out, "SECRET") {
			t.Fatalf("secret printed: %s", out)
		}
		if !strings.Contains(out, Mask) {
			t.Fatalf("no mask in %s", out)
		}
	}
	if got := s3.ConnectionString(); got != "s3://AKIA1:s3%2FSECRET+x@b1b/?max_connections=10&session_token=tok-SECRET" {
		t.Fatalf("S3 ConnectionString = %s", got)
	}
	if got := es.ConnectionString(); got != "http://elastic:es-SECRET@localhost:9200" {
		t.Fatalf("ES ConnectionString = %s", got)
	}
	if got := s3.RedactSecrets("denied for s3%2FSECRET%2Bx and tok-SECRET"); got != "denied for xxxxx and xxxxx" {
		t.Fatalf("RedactSecrets = %s", got)
	}
}

func TestIdentityFields(t *testing.T) {
	a := NewElasticsearchPoolConfig()
	b := NewElasticsearchPoolConfig()
	b.Index = "other"
	if a.Key() != b.Key() {
		t.Fatal("the index must not split Elasticsearch clients")
	}
	b.APIKey = "k"
	if a.Key() == b.Key() {
		t.Fatal("credentials must be part of the identity")
	}
	s1, s2 := NewS3PoolConfig("b1b"), NewS3PoolConfig("b2b")
	s2.Prefix = "x/"
	if s1.Key() != s2.Key() {
		t.Fatal("bucket and prefix must not split S3 clients")
	}
	s2.EndpointURL = "http://127.0.0.1:9000"
	if s1.Key() == s2.Key() {
		t.Fatal("the endpoint must be part of the identity")
	}
	p1, p2 := NewPostgresPoolConfig(), NewPostgresPoolConfig()
	p2.User = "other"
	if p1.Key() == p2.Key() {
		t.Fatal("the user must be part of the identity")
	}
}
