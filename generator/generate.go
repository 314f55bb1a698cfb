package generator

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Render runs the pipeline up to, not including, the write stage and returns the files
// that Generate would write, sorted by name.
// The files of the package sqlc generates (with the postgres backend) are not among them.
func Render(cfg Config) ([]File, error) {
	_, files, err := render(cfg)
	return files, err
}

func render(cfg Config) (*Model, []File, error) {
	if err := cfg.check(); err != nil {
		return nil, nil, err
	}
	set, err := load(cfg.Paths)
	if err != nil {
		return nil, nil, err
	}
	if err := validate(set); err != nil {
		return nil, nil, err
	}
	m, err := buildModel(set, &cfg)
	if err != nil {
		return nil, nil, err
	}
	if m.History, err = loadModelHistory(set, cfg.OutDir); err != nil {
		return nil, nil, err
	}
	files, err := emit(m)
	if err != nil {
		return nil, nil, err
	}
	if err := gofmt(files); err != nil {
		return nil, nil, err
	}
	return m, files, nil
}

// Generate runs the whole pipeline: it renders every file and writes them all to
// cfg.OutDir, or none of them, removing generated files that are no longer produced. With
// the postgres backend it runs sqlc (see EnvSQLC; built once when missing) on postgres_schema.sql,
// postgres_queries.sql and the schema set's *.queries.sql files, and writes its package to
// cfg.OutDir/SQLCPackage(cfg.Package).
func Generate(cfg Config) error {
	m, files, err := render(cfg)
	if err != nil {
		return err
	}
	queries, err := queryFiles(cfg.Paths)
	if err != nil {
		return err
	}
	sqlcDir := filepath.Join(cfg.OutDir, SQLCPackage(cfg.Package))
	if !m.has(BackendPostgres) {
		if len(queries) > 0 {
			return fmt.Errorf("%w: SQL query files (%s) need the postgres backend", ErrConfig, strings.Join(queries, ", "))
		}
		if err := write(cfg.OutDir, files); err != nil {
			return err
		}
		if _, err := os.Stat(sqlcDir); err == nil {
			// Remove what sqlc generated for an earlier run, and the directory when that
			// leaves it empty.
			if err := writeSQLC(sqlcDir, nil); err != nil {
				return err
			}
			_ = os.Remove(sqlcDir)
		}
		return nil
	}
	// sqlc runs before anything is written: when it fails, nothing is.
	log := cfg.Stderr
	if log == nil {
		log = os.Stderr
	}
	gen, err := sqlcOutput(m, queries, files, log)
	if err != nil {
		return err
	}
	if err := write(cfg.OutDir, files); err != nil {
		return err
	}
	return writeSQLC(sqlcDir, gen)
}
