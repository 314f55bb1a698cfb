package pool

import (
	"errors"
	"reflect"
	"testing"
)

// ConfigAs accepts a config value, a pointer to one and a *Prepared of either, and returns
// the config with every field.
func TestConfigAsAccepts(t *testing.T) {
	pg := NewPostgresPoolConfig()
	pg.Host, pg.Password = "db.example", "s3cret"
	es := NewElasticsearchPoolConfig()
	es.Hosts = []string{"http://a:9200", "http://b:9200"}
	for _, cfg := range []Config{pg, &pg, Prepare(pg), Prepare(&pg), Prepare(Prepare(pg), WithScope("t"))} {
		got, err := ConfigAs[PostgresPoolConfig](cfg)
		if err != nil {
			t.Fatalf("%T: %v", cfg, err)
		}
		if !reflect.DeepEqual(got, pg) {
			t.Errorf("%T: got %+v, want %+v", cfg, got, pg)
		}
	}
	for _, cfg := range []Config{es, &es, Prepare(&es)} {
		got, err := ConfigAs[ElasticsearchPoolConfig](cfg)
		if err != nil || !reflect.DeepEqual(got, es) {
			t.Errorf("%T: got %+v, %v, want %+v", cfg, got, err, es)
		}
	}
	tc := testConfig{name: "x"}
	if got, err := ConfigAs[testConfig](Prepare(tc)); err != nil || got != tc {
		t.Errorf("a config type of the caller's own: got %+v, %v", got, err)
	}
}

// Anything else is one error of kind ErrInvalidConfig naming the backend, the type wanted
// and the type given — also a nil pointer, which must not panic.
func TestConfigAsRefuses(t *testing.T) {
	var nilPG *PostgresPoolConfig
	var nilPrepared *Prepared
	s3 := NewS3PoolConfig("bucket")
	for _, tc := range []struct {
		name string
		get  func() error
		want string
	}{
		{"another backend's config", func() error { _, err := ConfigAs[PostgresPoolConfig](s3); return err },
			"pool: invalid config: postgres: got a config of type pool.S3PoolConfig, want pool.PostgresPoolConfig"},
		{"a pointer to another backend's config", func() error { _, err := ConfigAs[S3PoolConfig](&PostgresPoolConfig{}); return err },
			"pool: invalid config: s3: got a config of type *pool.PostgresPoolConfig, want pool.S3PoolConfig"},
		{"a Prepared of another backend's config", func() error {
			_, err := ConfigAs[ElasticsearchPoolConfig](Prepare(s3))
			return err
		}, "pool: invalid config: elasticsearch: got a config of type pool.S3PoolConfig, want pool.ElasticsearchPoolConfig"},
		{"a nil pointer", func() error { _, err := ConfigAs[PostgresPoolConfig](nilPG); return err },
			"pool: invalid config: postgres: got a nil *pool.PostgresPoolConfig, want pool.PostgresPoolConfig"},
		{"a nil Prepared", func() error { _, err := ConfigAs[PostgresPoolConfig](nilPrepared); return err },
			"pool: invalid config: postgres: got a config of type *pool.Prepared, want pool.PostgresPoolConfig"},
		{"no config", func() error { _, err := ConfigAs[S3PoolConfig](nil); return err },
			"pool: invalid config: s3: got a config of type <nil>, want pool.S3PoolConfig"},
		{"a pointer type wanted", func() error { _, err := ConfigAs[*testConfig](testConfig{}); return err },
			"pool: invalid config: *pool.testConfig: got a config of type pool.testConfig, want *pool.testConfig"},
	} {
		err := tc.get()
		if !errors.Is(err, ErrInvalidConfig) || err.Error() != tc.want {
			t.Errorf("%s: got %v, want %q wrapping ErrInvalidConfig", tc.name, err, tc.want)
		}
	}
}
