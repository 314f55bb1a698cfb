package migrate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Format is the version of the migration file format this package writes and reads.
const Format = 1

// Migration is one step of a package's schema history: the changes from the state of the
// migration before it (its parent) and the state it leads to. It is stored as
// <Dir>/<version>_<name>.json; the PostgreSQL form of the same step is
// <Dir>/postgres/<version>_<name>.sql (goose's format).
type Migration struct {
	Format  int      `json:"format"`
	Version int64    `json:"version"` // 1, 2, 3, ... in order, without gaps
	Name    string   `json:"name"`    // [a-z0-9_]+
	Parent  string   `json:"parent"`  // Digest of the previous migration's Schema; "" for the first
	Changes []Change `json:"changes"`
	Schema  Schema   `json:"schema"` // the state after this migration
}

// Dir is the directory, relative to a generated package, that holds its migrations.
const Dir = "migrations"

// VersionDigits is the width of the zero-padded version in file names ("00003_add_color").
const VersionDigits = 5

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_]*$`)

// CheckName reports whether name can name a migration: lower-case ASCII letters, digits
// and underscores, not starting with an underscore, at most 64 bytes.
func CheckName(name string) error {
	if len(name) > 64 || !namePattern.MatchString(name) {
		return fmt.Errorf("migration name %q must match %s and be at most 64 bytes", name, namePattern)
	}
	return nil
}

// BaseName returns the file name of m without extension, e.g. "00003_add_color".
func (m *Migration) BaseName() string {
	return fmt.Sprintf("%0*d_%s", VersionDigits, m.Version, m.Name)
}

// FileName returns the name of m's file in Dir, e.g. "00003_add_color.json".
func (m *Migration) FileName() string { return m.BaseName() + ".json" }

// Encode returns m as indented JSON with a final newline. Keys keep the struct order, so the
// output is stable.
func (m *Migration) Encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Decode parses a migration file; name is used in errors and checked against the content.
func Decode(name string, data []byte) (*Migration, error) {
	var m Migration
	if err := decodeJSON(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("%s: format %d, this version of repokit reads format %d", name, m.Format, Format)
	}
	if err := CheckName(m.Name); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if want := m.FileName(); path.Base(name) != want {
		return nil, fmt.Errorf("%s: holds migration %d %q, whose file name is %s", name, m.Version, m.Name, want)
	}
	if err := m.Schema.normalize(); err != nil {
		return nil, fmt.Errorf("%s: schema: %w", name, err)
	}
	for i := range m.Changes {
		c := &m.Changes[i]
		if c.Default != nil {
			r := m.Schema.Record(c.Record)
			var f *Field
			if r != nil {
				f = r.Field(c.Field)
			}
			if f == nil {
				return nil, fmt.Errorf("%s: change %d (%s) names no field of the schema", name, i+1, c.Kind)
			}
			d, err := normalizeDefault(f.Type, c.Default)
			if err != nil {
				return nil, fmt.Errorf("%s: change %d: %w", name, i+1, err)
			}
			c.Default = d
		}
	}
	return &m, nil
}

// History is a package's migrations in version order.
type History []*Migration

// ErrNoMigrations is returned by Load for a directory without migration files.
var ErrNoMigrations = errors.New("no migrations")

// Load reads every <version>_<name>.json file at the root of fsys (a package's Dir) and
// checks that the versions run from 1 without gaps and that each migration was planned
// from the state of the one before it (its Parent digest). Other files and directories
// (such as postgres/) are ignored.
func Load(fsys fs.FS) (History, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNoMigrations
		}
		return nil, err
	}
	var h History
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		m, err := Decode(e.Name(), data)
		if err != nil {
			return nil, err
		}
		h = append(h, m)
	}
	if len(h) == 0 {
		return nil, ErrNoMigrations
	}
	// ReadDir sorts by name, and names start with the zero-padded version.
	parent := ""
	for i, m := range h {
		if m.Version != int64(i+1) {
			return nil, fmt.Errorf("%s: version %d where %d was expected (versions run 1, 2, 3, ... without gaps or duplicates)", m.FileName(), m.Version, i+1)
		}
		if m.Parent != parent {
			return nil, fmt.Errorf("%s: planned from a state other than that of %s (parent %s, want %s): it was made on another branch; delete it and run repokit migrate diff again", m.FileName(), h[i-1].FileName(), m.Parent, parent)
		}
		parent = m.Schema.Digest()
	}
	return h, nil
}

// Last returns the newest migration, or nil.
func (h History) Last() *Migration {
	if len(h) == 0 {
		return nil
	}
	return h[len(h)-1]
}

// Version returns the newest version, or 0.
func (h History) Version() int64 {
	if m := h.Last(); m != nil {
		return m.Version
	}
	return 0
}

// After returns the migrations newer than version v.
func (h History) After(v int64) History {
	if v < 0 {
		v = 0
	}
	if v >= int64(len(h)) {
		return nil
	}
	return h[v:]
}

// LastChange returns the newest version, at most upTo, whose migration has a change naming
// record name, or 0 when none has. The record's stored form is the same at every version
// from that one to upTo: an object written at any of them needs no upgrade to upTo.
func (h History) LastChange(name string, upTo int64) int64 {
	for v := min(upTo, int64(len(h))); v >= 1; v-- {
		for _, c := range h[v-1].Changes {
			if c.Record == name {
				return v
			}
		}
	}
	return 0
}

// State returns the schema after version v (an empty schema for 0).
func (h History) State(v int64) Schema {
	if v <= 0 || len(h) == 0 {
		return Schema{}
	}
	if v > int64(len(h)) {
		v = int64(len(h))
	}
	return h[v-1].Schema
}

// Next returns the migration that leads from the newest state of h to want, named name,
// or nil when nothing changed. allowDestructive is passed to Diff.
func (h History) Next(want Schema, name string, allowDestructive bool) (*Migration, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	var old *Schema
	parent := ""
	if last := h.Last(); last != nil {
		old = &last.Schema
		parent = last.Schema.Digest()
	}
	changes, oldNames, err := diff(old, want, allowDestructive)
	if err != nil {
		return nil, err
	}
	if len(changes) == 0 {
		return nil, nil
	}
	state := want.Clone()
	for i := range state.Records {
		state.Records[i].RenamedFrom = ""
		for j := range state.Records[i].Fields {
			f := &state.Records[i].Fields[j]
			f.RenamedFrom, f.OldName = "", oldNames[[2]string{state.Records[i].Name, f.Name}]
		}
	}
	if err := state.normalize(); err != nil {
		return nil, err
	}
	return &Migration{Format: Format, Version: h.Version() + 1, Name: name, Parent: parent, Changes: changes, Schema: state}, nil
}

// ParseVersion returns the version a migration file name starts with ("00003_x.sql" → 3).
func ParseVersion(name string) (int64, bool) {
	i := strings.IndexByte(name, '_')
	if i <= 0 {
		return 0, false
	}
	v, err := strconv.ParseInt(name[:i], 10, 64)
	return v, err == nil && v > 0
}
