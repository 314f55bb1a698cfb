package pool

import (
	"os"

	"gopkg.in/yaml.v3"
)

// FileConfig is a configuration file in the seed's layout:
//
//	databases:
//	  postgres:      { host, port, database, user, password, connection_string, ..., pool: {...} }
//	  elasticsearch: { hosts | host+port, index, api_key, ..., pool: {connections, maxsize} }
//	  s3:            { bucket, prefix, region_name, ..., pool: {max_connections} }
//
// A section that is absent leaves its field nil.
type FileConfig struct {
	Postgres      *PostgresPoolConfig
	Elasticsearch *ElasticsearchPoolConfig
	S3            *S3PoolConfig
}

// LoadFile reads and parses a YAML configuration file (see FileConfig). Every error names the
// file, the line and the key path, e.g.
//
//	config.yaml:14: databases.postgres.pool.max_size: expected an integer, got "twenty"
//
// and wraps ErrInvalidConfig; several errors are reported together, one per line.
func LoadFile(path string) (*FileConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseFile(path, data)
}

// ParseFile parses YAML data as LoadFile does; name is used in error messages.
func ParseFile(name string, data []byte) (*FileConfig, error) {
	d := &decoder{file: name}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		d.errs = append(d.errs, &ConfigError{File: name, Msg: "invalid YAML: " + err.Error()})
		return nil, d.err()
	}
	root := field{line: 1, v: d.fromYAML(&doc, "")}
	if len(d.errs) > 0 {
		return nil, d.err()
	}
	if root.v.kind == kNull {
		d.fail(root, "empty file (expected a databases: mapping)")
		return nil, d.err()
	}
	top, ok := d.entries(root)
	if !ok {
		return nil, d.err()
	}
	out := &FileConfig{}
	found := false
	for _, f := range top {
		if f.key != "databases" {
			d.unknown(f, []string{"databases"}, nil)
			continue
		}
		found = true
		if f.v.kind == kNull {
			continue
		}
		sections, ok := d.entries(f)
		if !ok {
			continue
		}
		for _, s := range sections {
			switch s.key {
			case "postgres":
				c := d.postgres(s)
				out.Postgres = &c
			case "elasticsearch":
				c := d.elasticsearch(s)
				out.Elasticsearch = &c
			case "s3":
				c := d.s3(s)
				out.S3 = &c
			default:
				d.unknown(s, []string{"postgres", "elasticsearch", "s3"}, map[string]string{"postgresql": "postgres", "es": "elasticsearch"})
			}
		}
	}
	if !found && len(d.errs) == 0 {
		d.fail(root, "databases: missing")
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ApplyEnv applies the seed's environment variables (through lookup) to every section that is
// present, after the file's values.
func (f *FileConfig) ApplyEnv(lookup func(string) (string, bool)) error {
	var errs []error
	if f.Postgres != nil {
		if err := f.Postgres.ApplyEnv(lookup); err != nil {
			errs = append(errs, err)
		}
	}
	if f.Elasticsearch != nil {
		if err := f.Elasticsearch.ApplyEnv(lookup); err != nil {
			errs = append(errs, err)
		}
	}
	if f.S3 != nil {
		if err := f.S3.ApplyEnv(lookup); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return joinConfigErrors(errs)
}
