package generator

import (
	"errors"
	"fmt"

	"github.com/repokit/repokit/schema"
)

// CollisionError reports two schema names that map to the same Go identifier (or file) in
// the generated package, with both schema positions.
type CollisionError struct {
	Noun     string     // "Go identifier" or "file name"
	Ident    string     // the Go identifier or file name
	What     string     // what the later name declares, e.g. "record ProductStatus"
	Pos      schema.Pos // where the later name is declared
	Other    string     // what the earlier name declares, e.g. "enum type of Product.status"
	OtherPos schema.Pos // where the earlier name is declared; zero for names repokit reserves
}

func (e *CollisionError) Error() string {
	if e.OtherPos == (schema.Pos{}) {
		return fmt.Sprintf("%s: %s %s of %s collides with %s", e.Pos, e.Noun, e.Ident, e.What, e.Other)
	}
	return fmt.Sprintf("%s: %s %s of %s collides with %s at %s", e.Pos, e.Noun, e.Ident, e.What, e.Other, e.OtherPos)
}

// Unwrap returns ErrCollision.
func (e *CollisionError) Unwrap() error { return ErrCollision }

type decl struct {
	what string
	pos  schema.Pos
}

// scope is one Go namespace: the package block, or the fields of one struct.
type scope struct {
	noun  string
	names map[string]decl
	errs  *[]error
}

func newScope(noun string, errs *[]error) *scope {
	return &scope{noun: noun, names: map[string]decl{}, errs: errs}
}

func (s *scope) declare(ident, what string, pos schema.Pos) {
	if prev, ok := s.names[ident]; ok {
		*s.errs = append(*s.errs, &CollisionError{Noun: s.noun, Ident: ident, What: what, Pos: pos, Other: prev.what, OtherPos: prev.pos})
		return
	}
	s.names[ident] = decl{what, pos}
}

// checkCollisions reports every pair of names whose Go identifiers coincide: in the
// package block (types, constants, variables, functions of every record and of every
// selected backend), in each record struct (field names, and the reserved RecordVersion)
// and among the generated file names.
func (m *Model) checkCollisions() error {
	var errs []error
	m.declare(newScope("Go identifier", &errs), newScope("file name", &errs))
	return errors.Join(errs...)
}

// declare declares in pkg every package-level name the generator emits for m, in files
// every file name, and checks each record struct's field names in a scope of its own.
func (m *Model) declare(pkg, files *scope) {
	files.declare(packageFile, "the package documentation", schema.Pos{})
	backends := m.backendDefs()
	if m.History != nil {
		files.declare(migrationsFile, "the embedded migrations", schema.Pos{})
		pkg.declare(migrationsFunc, "the migrations of the package", schema.Pos{})
		pkg.declare(migrationsVar, "the embedded migration files", schema.Pos{})
		if len(backends) > 0 {
			pkg.declare(migrateURLFunc, "the URL migration function of the package", schema.Pos{})
			pkg.declare(migrateTargetFunc, "the target migration function of the package", schema.Pos{})
		}
	}
	m.declareOpeners(pkg, files)
	for _, b := range backends {
		if m.History != nil && b.migrates {
			pkg.declare(b.migrateFunc(), "the migration function of the "+string(b.name)+" backend", schema.Pos{})
		}
		for _, g := range b.globals {
			pkg.declare(g.ident, g.what, schema.Pos{})
		}
		for _, f := range b.files {
			files.declare(f, "a file of the "+string(b.name)+" backend", schema.Pos{})
		}
	}
	for _, r := range m.Records {
		rn := r.Name()
		pos := r.s.Pos
		what := "record " + rn
		pkg.declare(r.GoName(), what, pos)
		pkg.declare(r.FieldsVar(), "the field handles of "+what, pos)
		pkg.declare(r.QueryFunc(), "the query function of "+what, pos)
		pkg.declare(r.RepositoryType(), "the repository type of "+what, pos)
		pkg.declare(r.SchemaVar(), "the descriptor of "+what, pos)
		pkg.declare(r.CloneFunc(), "the clone function of "+what, pos)
		pkg.declare(r.PrepareFunc(), "the prepare function of "+what, pos)
		pkg.declare(r.ProjectFunc(), "the project function of "+what, pos)
		pkg.declare(r.AddrFunc(), "the address function of "+what, pos)
		for _, b := range backends {
			for _, n := range b.recordNames(r) {
				pkg.declare(n.ident, "the "+string(b.name)+" "+n.what+" of "+what, pos)
			}
		}
		files.declare(r.FileName(), what, pos)

		st := newScope("Go identifier", pkg.errs)
		st.declare("RecordVersion", "the version field of every record", schema.Pos{})
		for _, f := range r.All() {
			fw := fmt.Sprintf("field %s.%s", rn, f.Name())
			if f.IsID() {
				fw = fmt.Sprintf("id %s.%s", rn, f.Name())
			}
			st.declare(f.GoName(), fw, f.Pos())
			if f.EnumType() == "" {
				continue
			}
			pkg.declare(f.EnumType(), "the enum type of "+fw, f.Pos())
			pkg.declare(f.ValuesVar(), "the enum values of "+fw, f.Pos())
			for i, c := range f.EnumConsts() {
				pkg.declare(c, fmt.Sprintf("enum value %q of %s", f.Values()[i], fw), f.ValuePos(i))
			}
		}
	}
}

func (m *Model) has(b Backend) bool {
	for _, x := range m.Backends {
		if x == b {
			return true
		}
	}
	return false
}
