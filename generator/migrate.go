package generator

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/schema"
)

// ErrMigrate is wrapped by the errors of `repokit migrate diff` that are not schema errors:
// a destructive change that was not allowed, a change migrations cannot make, a broken
// migration directory.
var ErrMigrate = errors.New("cannot plan the migration")

// DiffConfig is one `repokit migrate diff` run.
type DiffConfig struct {
	Paths            []string  // schema files
	OutDir           string    // the generated package's directory; migrations go to OutDir/migrations
	Name             string    // the new migration's name
	Backends         []Backend // backends to write a migration for (the backend-neutral JSON is always written)
	AllowDestructive bool      // plan changes that can lose stored data
}

// MigrationsDir returns the migration directory of a generated package directory.
func MigrationsDir(outDir string) string { return filepath.Join(outDir, migrate.Dir) }

// SchemaState returns the stored state a validated schema set describes: what migrations
// record and compare.
func SchemaState(set *schema.Set) migrate.Schema {
	var s migrate.Schema
	for _, r := range set.Records() {
		mr := migrate.Record{
			Name: r.Name, Table: r.Table, Index: r.Index, Prefix: r.Prefix,
			ID:          migrate.ID{Name: r.ID.Name, Type: string(r.ID.Type), Generated: r.ID.Generated},
			RenamedFrom: r.RenamedFrom,
		}
		for _, f := range r.Fields {
			mr.Fields = append(mr.Fields, migrate.Field{
				Name: f.Name, Type: string(f.Type), List: f.List, Required: f.Required,
				Default: f.Default, Values: slices.Clone(f.Values), Unique: f.Unique, Indexed: f.Indexed,
				Search: f.Search, RenamedFrom: f.RenamedFrom,
			})
		}
		s.Records = append(s.Records, mr)
	}
	return s
}

// LoadHistory reads the migrations of the package in outDir; an empty history when there
// are none.
func LoadHistory(outDir string) (migrate.History, error) {
	if info, err := os.Stat(MigrationsDir(outDir)); err != nil || !info.IsDir() {
		return nil, nil // no migrations (a missing or unusable output directory is write's to report)
	}
	h, err := migrate.Load(os.DirFS(MigrationsDir(outDir)))
	if errors.Is(err, migrate.ErrNoMigrations) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMigrate, MigrationsDir(outDir), err)
	}
	return h, nil
}

// migrationRenderers renders the migration of each backend that applies files of its own
// (PostgreSQL's goose SQL); the other backends plan their steps from the JSON at apply time.
// The function gets the state before the migration and the migration, and returns the file
// name relative to the migration directory and its content.
var migrationRenderers = map[Backend]func(before migrate.Schema, m *migrate.Migration) (string, []byte, error){
	BackendPostgres: pgdialect.MigrationFile,
}

// PlanMigration loads the schema files and the package's history and returns the next
// migration and its files (paths relative to cfg.OutDir), without writing anything; nil
// when the schema matches the newest migration.
func PlanMigration(cfg DiffConfig) (*migrate.Migration, []File, error) {
	if len(cfg.Paths) == 0 {
		return nil, nil, fmt.Errorf("%w: no schema files", ErrConfig)
	}
	if cfg.OutDir == "" {
		return nil, nil, fmt.Errorf("%w: no output directory", ErrConfig)
	}
	if err := migrate.CheckName(cfg.Name); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	set, err := load(cfg.Paths)
	if err != nil {
		return nil, nil, err
	}
	if err := validate(set); err != nil {
		return nil, nil, err
	}
	h, err := LoadHistory(cfg.OutDir)
	if err != nil {
		return nil, nil, err
	}
	m, err := h.Next(SchemaState(set), cfg.Name, cfg.AllowDestructive)
	var de *migrate.DiffError
	if errors.As(err, &de) {
		return nil, nil, placeProblems(set, de)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMigrate, err)
	}
	if m == nil {
		return nil, nil, nil
	}
	data, err := m.Encode()
	if err != nil {
		return nil, nil, err
	}
	files := []File{{Name: filepath.Join(migrate.Dir, m.FileName()), Data: data}}
	before := h.State(h.Version())
	for _, b := range KnownBackends {
		render := migrationRenderers[b]
		if render == nil || !slices.Contains(cfg.Backends, b) {
			continue
		}
		name, data, err := render(before, m)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %s migration: %v", ErrMigrate, b, err)
		}
		files = append(files, File{Name: filepath.Join(migrate.Dir, name), Data: data})
	}
	return m, files, nil
}

// MigrateDiff plans the next migration and writes its files under cfg.OutDir, all or none.
// It returns the paths written (joined to cfg.OutDir), none when nothing changed.
func MigrateDiff(cfg DiffConfig) ([]string, error) {
	_, files, err := PlanMigration(cfg)
	if err != nil || len(files) == 0 {
		return nil, err
	}
	return writeNew(cfg.OutDir, files)
}

// writeNew writes files that must not exist yet under dir, all or none.
func writeNew(dir string, files []File) (paths []string, err error) {
	var temps []string
	defer func() {
		if err != nil {
			for _, t := range temps {
				os.Remove(t)
			}
		}
	}()
	for _, f := range files {
		path := filepath.Join(dir, f.Name)
		if _, err := os.Lstat(path); err == nil {
			return nil, fmt.Errorf("%w: %s already exists", ErrWrite, path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrWrite, err)
		}
		tmp, err := os.CreateTemp(filepath.Dir(path), ".repokit-*.tmp")
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrWrite, err)
		}
		temps = append(temps, tmp.Name())
		_, werr := tmp.Write(f.Data)
		if cerr := tmp.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, fmt.Errorf("%w: %v", ErrWrite, werr)
		}
		paths = append(paths, path)
	}
	for i, t := range temps {
		if err := os.Rename(t, paths[i]); err != nil {
			for _, p := range paths[:i] {
				os.Remove(p)
			}
			return nil, fmt.Errorf("%w: %v", ErrWrite, err)
		}
	}
	temps = nil
	return paths, nil
}

// ProblemError is a change `repokit migrate diff` cannot plan, at the schema position of
// what it is about. It wraps ErrMigrate.
type ProblemError struct {
	Pos     schema.Pos
	Problem migrate.Problem
}

func (e *ProblemError) Error() string { return e.Pos.String() + ": " + e.Problem.String() }

// Unwrap returns ErrMigrate.
func (e *ProblemError) Unwrap() error { return ErrMigrate }

// placeProblems turns Diff's problems into errors that name the schema file, line and
// column of what they are about.
func placeProblems(set *schema.Set, de *migrate.DiffError) error {
	var errs []error
	for _, p := range de.Problems {
		errs = append(errs, &ProblemError{Pos: problemPos(set, p), Problem: p})
	}
	return errors.Join(errs...)
}

// problemPos finds the position of what p is about: the field (its renamed_from or type
// when the problem is about them), else the record, else the first file's records list
// (a record that is gone).
func problemPos(set *schema.Set, p migrate.Problem) schema.Pos {
	for _, f := range set.Files {
		for _, r := range f.Records {
			if r.Name != p.Record {
				continue
			}
			if p.Field == "" {
				if strings.HasPrefix(p.Msg, "renamed_from") && r.RenamedFromPos != (schema.Pos{}) {
					return r.RenamedFromPos
				}
				return r.Pos
			}
			if p.Field == r.ID.Name {
				return r.ID.Pos
			}
			for _, fd := range r.Fields {
				if fd.Name != p.Field {
					continue
				}
				switch {
				case strings.HasPrefix(p.Msg, "renamed_from") && fd.RenamedFromPos != (schema.Pos{}):
					return fd.RenamedFromPos
				case strings.HasPrefix(p.Msg, "change type") && fd.TypePos != (schema.Pos{}):
					return fd.TypePos
				case strings.HasPrefix(p.Msg, "drop enum") && fd.ValuesPos != (schema.Pos{}):
					return fd.ValuesPos
				}
				return fd.Pos
			}
			return r.Pos // a dropped field: the record that no longer has it
		}
	}
	f := set.Files[0]
	if f.RecordsPos != (schema.Pos{}) {
		return f.RecordsPos
	}
	return schema.Pos{File: f.Path, Line: 1, Col: 1}
}
