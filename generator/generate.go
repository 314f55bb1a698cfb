package generator

import "path/filepath"

// Render runs the pipeline up to, not including, the write stage and returns the files
// that Generate would write, sorted by name.
func Render(cfg Config) ([]File, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	set, err := load(cfg.Paths)
	if err != nil {
		return nil, err
	}
	if err := validate(set); err != nil {
		return nil, err
	}
	m, err := buildModel(set, &cfg)
	if err != nil {
		return nil, err
	}
	files, err := emit(m)
	if err != nil {
		return nil, err
	}
	if err := gofmt(files); err != nil {
		return nil, err
	}
	return files, nil
}

// Generate runs the whole pipeline: it renders every file and writes them all to
// cfg.OutDir, or none of them, removing generated files that are no longer produced.
func Generate(cfg Config) error {
	files, err := Render(cfg)
	if err != nil {
		return err
	}
	queries, err := queryFiles(cfg.Paths)
	if err != nil {
		return err
	}
	if len(queries) == 0 {
		return write(cfg.OutDir, files)
	}
	// sqlc runs before anything is written: when it fails, nothing is.
	gen, err := sqlcOutput(&cfg, queries, files)
	if err != nil {
		return err
	}
	if err := write(cfg.OutDir, files); err != nil {
		return err
	}
	return writeSQLC(filepath.Join(cfg.OutDir, SQLCPackage(cfg.Package)), gen)
}
