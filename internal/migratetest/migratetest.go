// Package migratetest plans the migration histories of the backends' migration tests, as
// `repokit migrate diff` does: one migration per step with migrate.History.Next, and the
// migrations directory after each step.
package migratetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/repo"
)

// Step is one planned migration: its name, the schema it leads to, and whether it may drop
// what records stored (History.Next's allowDestructive).
type Step struct {
	Name        string
	State       migrate.Schema
	Destructive bool
}

// Files renders a backend's own file of migration m, planned from the state before it (the
// goose file of PostgreSQL, pgdialect.MigrationFile).
type Files func(before migrate.Schema, m *migrate.Migration) (name string, data []byte, err error)

// Dirs plans each step's migration from the previous state and returns the migrations
// directory after each step (each a copy: a later step does not change it), with the file
// extra renders for each migration when extra is not nil, and the history. A step that
// plans no migration, or fails to, fails t.
func Dirs(t testing.TB, extra Files, steps ...Step) ([]fstest.MapFS, migrate.History) {
	t.Helper()
	var h migrate.History
	files := fstest.MapFS{}
	out := make([]fstest.MapFS, 0, len(steps))
	for _, s := range steps {
		before := h.State(h.Version())
		m, err := h.Next(s.State, s.Name, s.Destructive)
		if err != nil || m == nil {
			t.Fatalf("planning %s: %v (migration %v)", s.Name, err, m)
		}
		data, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		files[m.FileName()] = &fstest.MapFile{Data: data}
		if extra != nil {
			name, data, err := extra(before, m)
			if err != nil {
				t.Fatal(err)
			}
			files[name] = &fstest.MapFile{Data: data}
		}
		h = append(h, m)
		snap := make(fstest.MapFS, len(files))
		for k, v := range files {
			snap[k] = v
		}
		out = append(out, snap)
	}
	return out, h
}

// Named returns the steps to states, step i named names[i] ("step<i+1>" past the end of
// names), each destructive when destructive is set.
func Named(destructive bool, names []string, states ...migrate.Schema) []Step {
	steps := make([]Step, len(states))
	for i, s := range states {
		name := fmt.Sprintf("step%d", i+1)
		if i < len(names) {
			name = names[i]
		}
		steps[i] = Step{Name: name, State: s, Destructive: destructive}
	}
	return steps
}

// CheckAhead fails t unless err is repo.ErrSchemaAhead with a *migrate.AheadError for a
// store at version applied and code whose history ends at known, and each of want begins
// one of its problems (with len(want) problems in all when exact).
func CheckAhead(t testing.TB, err error, applied, known int64, exact bool, want ...string) {
	t.Helper()
	var ae *migrate.AheadError
	if !errors.Is(err, repo.ErrSchemaAhead) || !errors.As(err, &ae) {
		t.Fatalf("older code's constructor: %v, want ErrSchemaAhead with a *migrate.AheadError", err)
	}
	if ae.Applied != applied || ae.Known != known || (exact && len(ae.Problems) != len(want)) {
		t.Errorf("AheadError %+v, want applied %d, known %d and the problems %q", ae, applied, known, want)
	}
	for _, w := range want {
		if !slices.ContainsFunc(ae.Problems, func(p string) bool { return strings.HasPrefix(p, w) }) {
			t.Errorf("AheadError problems %q lack one beginning %q", ae.Problems, w)
		}
	}
}

// CheckBehind fails t unless err is repo.ErrSchemaBehind with a *migrate.BehindError for a
// store at version applied whose code's history has the versions pending still to apply.
func CheckBehind(t testing.TB, err error, applied int64, pending ...int64) {
	t.Helper()
	var be *migrate.BehindError
	if !errors.Is(err, repo.ErrSchemaBehind) || !errors.As(err, &be) {
		t.Fatalf("constructor on a store behind: %v, want ErrSchemaBehind with a *migrate.BehindError", err)
	}
	var got []int64
	for _, m := range be.Pending {
		got = append(got, m.Version)
	}
	if be.Applied != applied || !slices.Equal(got, pending) {
		t.Errorf("BehindError applied %d pending %v, want %d %v (%v)", be.Applied, got, applied, pending, err)
	}
}
