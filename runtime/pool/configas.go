package pool

import (
	"fmt"
	"reflect"
)

// ConfigAs returns the config of type C held by cfg, the way a backend's Hooks.Create and
// constructors read the config they were given. cfg may be a C, a non-nil *C, or a
// *Prepared made from either (the Prepared's snapshot is returned). C is a config value
// type such as PostgresPoolConfig, ElasticsearchPoolConfig or S3PoolConfig.
//
// Anything else — another backend's config, a nil *C, a nil cfg — is an error wrapping
// ErrInvalidConfig that names C's backend, the type wanted and the type given, e.g.
// "pool: invalid config: postgres: got a config of type pool.S3PoolConfig, want
// pool.PostgresPoolConfig".
func ConfigAs[C Config](cfg Config) (C, error) {
	if p, ok := cfg.(*Prepared); ok && p != nil {
		cfg = p.Config()
	}
	var zero C
	switch c := any(cfg).(type) {
	case C:
		return c, nil
	case *C:
		if c != nil {
			return *c, nil
		}
		return zero, configTypeError[C]("a nil " + typeName(cfg))
	}
	return zero, configTypeError[C]("a config of type " + typeName(cfg))
}

// configTypeError is ConfigAs's error for a config that is not a C; got describes it.
func configTypeError[C Config](got string) error {
	want := reflect.TypeFor[C]()
	backend := want.String()
	if want.Kind() != reflect.Pointer && want.Kind() != reflect.Interface {
		// A value type answers Backend on its zero value; a nil pointer might not.
		var zero C
		backend = zero.Backend()
	}
	return fmt.Errorf("%w: %s: got %s, want %s", ErrInvalidConfig, backend, got, want)
}

// typeName is the Go type of cfg as %T prints it, or "<nil>" for a nil interface.
func typeName(cfg Config) string { return fmt.Sprintf("%T", cfg) }
