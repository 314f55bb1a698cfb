package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/repo"
)

var errFromStatements = errors.New("statement ran by the Statements")

// failingStatements fails every statement with errFromStatements.
type failingStatements struct{}

func (failingStatements) Get(context.Context, postgres.DB, string) (things.Thing, int64, error) {
	return things.Thing{}, 0, errFromStatements
}
func (failingStatements) Insert(context.Context, postgres.DB, *things.Thing, int64) (int64, error) {
	return 0, errFromStatements
}
func (failingStatements) Upsert(context.Context, postgres.DB, *things.Thing, int64) error {
	return errFromStatements
}
func (failingStatements) Update(context.Context, postgres.DB, *things.Thing, int64) (int64, error) {
	return 0, errFromStatements
}
func (failingStatements) UpdateIfVersion(context.Context, postgres.DB, *things.Thing, int64, int64) (int64, error) {
	return 0, errFromStatements
}
func (failingStatements) Delete(context.Context, postgres.DB, string) (int64, error) {
	return 0, errFromStatements
}
func (failingStatements) DeleteIfVersion(context.Context, postgres.DB, string, int64) (int64, error) {
	return 0, errFromStatements
}
func (failingStatements) Exists(context.Context, postgres.DB, string) (bool, error) {
	return false, errFromStatements
}

// WithStatements routes every statement by id through the Statements, on the record's own
// table only; a Statements of another record type is refused.
func TestWithStatements(t *testing.T) {
	h := newGenHarness(t) // a database of its own: the table keeps its name
	ctx := context.Background()
	d, err := postgres.New(ctx, h.m, h.cfg, things.ThingSchema, postgres.WithStatements[things.Thing](failingStatements{}))
	if err != nil {
		t.Fatal(err)
	}
	r := repo.New(things.ThingSchema, d)
	defer r.Close()
	th := things.Thing{ID: "a", Name: "a"}
	calls := map[string]error{}
	_, calls["Get"] = r.Get(ctx, "a")
	_, calls["Create"] = r.Create(ctx, th)
	_, calls["Upsert"] = r.Upsert(ctx, th)
	_, calls["Update"] = r.Update(ctx, th)
	_, calls["Update IfVersion"] = r.Update(ctx, th, repo.IfVersion("7"))
	calls["Delete"] = r.Delete(ctx, "a")
	calls["Delete IfVersion"] = r.Delete(ctx, "a", repo.IfVersion("7"))
	_, calls["Exists"] = r.Exists(ctx, "a")
	for name, err := range calls {
		if !errors.Is(err, errFromStatements) {
			t.Errorf("%s: got %v, want the error of the Statements", name, err)
		}
	}

	// On another table the driver runs its own statements.
	other := tableName(t, h.m, h.cfg, "stmts")
	d2, err := postgres.New(ctx, h.m, h.cfg, things.ThingSchema, postgres.WithTable(other), postgres.WithStatements[things.Thing](failingStatements{}))
	if err != nil {
		t.Fatal(err)
	}
	r2 := repo.New(things.ThingSchema, d2)
	defer r2.Close()
	if _, err := r2.Create(ctx, th); err != nil {
		t.Errorf("Create on table %s: %v", other, err)
	}
	if _, err := r2.Get(ctx, "a"); err != nil {
		t.Errorf("Get on table %s: %v", other, err)
	}

	// A Statements of another record type is refused.
	_, err = postgres.New(ctx, h.m, h.cfg, things.OtherSchema, postgres.WithStatements[things.Thing](failingStatements{}))
	if err == nil || !strings.Contains(err.Error(), "WithStatements") || !strings.Contains(err.Error(), "Other") {
		t.Errorf("New with the Statements of another record: got %v", err)
	}
}
