package pool_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/pool"
)

// TestTLSSettings: the seed's TLS keys (ca_certs, client_cert, client_key) and libpq's URL
// parameters reach PostgresPoolConfig and its connection string, ca_certs reaches
// S3PoolConfig, every one of them is part of the pool identity, and a client certificate
// without its key is rejected.
func TestTLSSettings(t *testing.T) {
	pg := func(m map[string]any) pool.PostgresPoolConfig {
		t.Helper()
		c, err := pool.PostgresPoolConfigFromMap(m)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	fromKeys := pg(map[string]any{"host": "db", "ssl": "verify-full", "ca_certs": "/ca.pem",
		"client_cert": "/c.pem", "client_key": "/k.pem"})
	fromURL := pg(map[string]any{"connection_string": "postgres://u@db/x?sslmode=verify-full&sslrootcert=/ca.pem&sslcert=/c.pem&sslkey=/k.pem"})
	for _, c := range []pool.PostgresPoolConfig{fromKeys, fromURL} {
		if c.CACerts != "/ca.pem" || c.ClientCert != "/c.pem" || c.ClientKey != "/k.pem" || c.SSLMode != "verify-full" {
			t.Errorf("config %+v lost a TLS setting", c)
		}
		cs := c.ConnectionString()
		for _, want := range []string{"sslmode=verify-full", "sslrootcert=%2Fca.pem", "sslcert=%2Fc.pem", "sslkey=%2Fk.pem"} {
			if !strings.Contains(cs, want) {
				t.Errorf("connection string %s has no %s", cs, want)
			}
		}
	}
	for _, change := range []func(*pool.PostgresPoolConfig){
		func(c *pool.PostgresPoolConfig) { c.CACerts = "/other.pem" },
		func(c *pool.PostgresPoolConfig) { c.ClientCert, c.ClientKey = "/c2.pem", "/k2.pem" },
	} {
		c := fromKeys
		change(&c)
		if c.Key() == fromKeys.Key() {
			t.Errorf("%+v and %+v share a pool key", c, fromKeys)
		}
	}
	if _, err := pool.PostgresPoolConfigFromMap(map[string]any{"client_cert": "/c.pem"}); !errors.Is(err, pool.ErrInvalidConfig) ||
		!strings.Contains(err.Error(), "client_key") {
		t.Errorf("client_cert without client_key: %v", err)
	}
	s3a, err := pool.S3PoolConfigFromMap(map[string]any{"bucket": "bucket", "ca_certs": "/ca.pem"})
	if err != nil || s3a.CACerts != "/ca.pem" {
		t.Fatalf("S3 ca_certs: %+v, %v", s3a, err)
	}
	s3b := s3a
	s3b.CACerts = ""
	if s3a.Key() == s3b.Key() {
		t.Error("S3 configs with and without ca_certs share a pool key")
	}
}
