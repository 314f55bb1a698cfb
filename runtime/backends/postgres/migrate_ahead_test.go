package postgres_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/migratetest"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/repo"
)

// TestMigrateOlderCodeRestarts is a rolling deploy: after the day-2 migration (a rename,
// a widening, an added required field with a default, a new unique index, a new enum
// value), a process of the previous version starts again and works; once a later version
// drops the old name of the renamed field, it is refused with ErrSchemaAhead naming why.
func TestMigrateOlderCodeRestarts(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	table := tableName(t, h.m, h.cfg, "prod")
	pkg := migPackage(t, h, table, table+"_review")
	v3 := prodState(table, true)
	v3.Records[0].Field("title").RenamedFrom = ""
	dirs := migrationDirs(t, step{Name: "baseline", State: prodState(table, false)}, step{Name: "day2", State: prodState(table, true)},
		step{Name: "drop_label", State: v3, Destructive: true})
	if got, err := newMigrator(t, ctx, h, pkg, dirs[1]).Apply(ctx); err != nil || !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("Apply: %v, %v", got, err)
	}

	v1, err := prodRepo(ctx, h, table, false, postgres.WithMigrations(pkg, dirs[0]))
	if err != nil {
		t.Fatalf("v1 constructor on the store at version 2: %v", err)
	}
	defer v1.Close()
	if _, err := v1.Create(ctx, prod{ID: "a", Name: "n", SKU: ptr("s-a"), Status: ptr("active"), Label: ptr("L"), Stock: ptr(int64(4))}); err != nil {
		t.Fatalf("v1 Create: %v", err)
	}
	if _, err := v1.Create(ctx, prod{ID: "b", Name: "n", SKU: ptr("s-a")}); !errors.Is(err, repo.ErrAlreadyExists) {
		t.Errorf("v1 Create with a taken sku (unique since version 2): %v, want ErrAlreadyExists", err)
	}
	v2, err := prodRepo(ctx, h, table, true, postgres.WithMigrations(pkg, dirs[1]))
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	if got, err := v2.Get(ctx, "a"); err != nil || show(got) != show(prod{ID: "a", Name: "n", SKU: ptr("s-a"), Status: ptr("active"), Label: ptr("L"), StockF: ptr(4.0), Weight: 1}) {
		t.Errorf("v2 Get of the restarted v1's write: %s, %v", show(got), err)
	}
	if got, err := v1.Get(ctx, "a"); err != nil || got.Label == nil || *got.Label != "L" || got.Stock == nil || *got.Stock != 4 {
		t.Errorf("v1 Get: %s, %v", show(got), err)
	}

	if got, err := newMigrator(t, ctx, h, pkg, dirs[2]).Apply(ctx); err != nil || !slices.Equal(got, []int64{3}) {
		t.Fatalf("Apply drop_label: %v, %v", got, err)
	}
	st, err := newMigrator(t, ctx, h, pkg, dirs[0]).Status(ctx)
	if err != nil || len(st.Drift) == 0 || st.Drift[0] != "the store is at version 3, newer than this history (1)" {
		t.Errorf("status with the history of version 1: %v, %v", st.Drift, err)
	}
	_, err = prodRepo(ctx, h, table, false, postgres.WithMigrations(pkg, dirs[0]))
	migratetest.CheckAhead(t, err, 3, 1, true, `column "label" is gone`)
	// Code of version 2 still opens: it does not use the old name, only keeps it for v1.
	v2b, err := prodRepo(ctx, h, table, true, postgres.WithMigrations(pkg, dirs[1]))
	if err != nil {
		t.Fatalf("v2 constructor after drop_label: %v", err)
	}
	defer v2b.Close()
	if _, err := v2b.Create(ctx, prod{ID: "c", Name: "n", Label: ptr("T"), Weight: 2}); err != nil {
		t.Errorf("v2 Create after drop_label: %v", err)
	}
}
