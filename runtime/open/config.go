package open

import (
	"fmt"
	"strings"

	"github.com/repokit/repokit/runtime/pool"
)

// FromMap returns the Target of a backend name and a configuration map, the seed's
// AsyncDatabase.create(backend, config): the map holds the keys of the backend's
// ...FromMap function (pool.PostgresPoolConfigFromMap, pool.S3PoolConfigFromMap,
// pool.ElasticsearchPoolConfigFromMap; docs/pooling.md lists them). The memory backend
// takes no keys.
func FromMap(backend string, config map[string]any) (Target, error) {
	var cfg pool.Config
	var err error
	switch backend {
	case Memory:
		if len(config) > 0 {
			return Target{}, &Error{Target: backend, Msg: "the memory backend takes no configuration"}
		}
		return Target{Backend: Memory}, nil
	case Postgres:
		cfg, err = pool.PostgresPoolConfigFromMap(config)
	case S3:
		cfg, err = pool.S3PoolConfigFromMap(config)
	case Elasticsearch:
		cfg, err = pool.ElasticsearchPoolConfigFromMap(config)
	default:
		return Target{}, unknownBackend(backend)
	}
	if err != nil {
		return Target{}, &Error{Target: backend, Msg: "invalid configuration", Err: err}
	}
	return Target{Backend: backend, Config: cfg}, nil
}

// FromFile returns the Target of one backend's section of a configuration file in the seed's
// layout (databases: postgres/elasticsearch/s3, read with pool.LoadFile), with the seed's
// environment variables (POSTGRES_POOL_MAX_SIZE, ES_POOL_CONNECTIONS,
// S3_POOL_MAX_CONNECTIONS, ...) found through lookup applied over it; a nil lookup applies
// none. Pass os.LookupEnv. The memory backend needs no section.
func FromFile(path, backend string, lookup func(string) (string, bool)) (Target, error) {
	if !isBackend(backend) {
		return Target{}, unknownBackend(backend)
	}
	if backend == Memory {
		return Target{Backend: Memory}, nil
	}
	fc, err := pool.LoadFile(path)
	if err != nil {
		return Target{}, &Error{Target: path, Msg: "cannot read the configuration", Err: err}
	}
	var env interface {
		ApplyEnv(func(string) (string, bool)) error
	}
	switch {
	case backend == Postgres && fc.Postgres != nil:
		env = fc.Postgres
	case backend == S3 && fc.S3 != nil:
		env = fc.S3
	case backend == Elasticsearch && fc.Elasticsearch != nil:
		env = fc.Elasticsearch
	default:
		return Target{}, &Error{Target: path, Msg: fmt.Sprintf("no databases.%s section (sections: %s)", backend, sections(fc))}
	}
	if lookup != nil {
		if err := env.ApplyEnv(lookup); err != nil {
			return Target{}, &Error{Target: path, Msg: "environment override of databases." + backend, Err: err}
		}
	}
	// The section as a value: the Target keeps no pointer into fc.
	switch c := env.(type) {
	case *pool.PostgresPoolConfig:
		return Target{Backend: backend, Config: *c}, nil
	case *pool.S3PoolConfig:
		return Target{Backend: backend, Config: *c}, nil
	}
	return Target{Backend: backend, Config: *env.(*pool.ElasticsearchPoolConfig)}, nil
}

// sections lists the sections fc has.
func sections(fc *pool.FileConfig) string {
	var s []string
	if fc.Postgres != nil {
		s = append(s, Postgres)
	}
	if fc.Elasticsearch != nil {
		s = append(s, Elasticsearch)
	}
	if fc.S3 != nil {
		s = append(s, S3)
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func isBackend(name string) bool {
	for _, b := range Backends {
		if b == name {
			return true
		}
	}
	return false
}

func unknownBackend(name string) error {
	return &Error{Target: name, Msg: fmt.Sprintf("unknown backend %q (accepted: %s)", name, strings.Join(Backends, ", "))}
}
