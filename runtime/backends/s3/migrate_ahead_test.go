package s3_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/repo"
)

// TestMigrateOlderCodeRestarts is a rolling deploy: code of version 1 starts again after
// newer versions were applied. It works after a new field, enum value and an int → float
// widening, and is refused with ErrSchemaAhead, saying why, after a rename and a new unique
// field.
func TestMigrateOlderCodeRestarts(t *testing.T) {
	ctx, m, cfg := migEnv(t)
	loadV1(ctx, t, m, cfg, 5, codeOfIndex)
	v1 := migrate.Schema{Records: []migrate.Record{itemRecordV1()}}
	v2 := v1.Clone()
	v2.Records[0].Fields = append(v2.Records[0].Fields, migrate.Field{Name: "note", Type: "string"})
	v2.Records[0].Field("status").Values = []string{"new", "done", "gone"}
	v2.Records[0].Field("qty").Type = "float"
	dirs, _ := dirsOf(t, false, []string{"baseline", "additive", "day2"}, v1, v2, schemaV2())
	if _, err := newMigrator(ctx, t, m, cfg, dirs[1]).Apply(ctx); err != nil {
		t.Fatal(err)
	}
	r1, err := openItems(ctx, t, m, cfg, itemV1Schema, s3.WithMigrations("shop", dirs[0]))
	if err != nil {
		t.Fatalf("version-1 constructor on a store at version 2: %v", err)
	}
	if _, err := r1.Create(ctx, itemV1{ID: "new", Name: "n", Label: ptr("l"), Qty: 3}); err != nil {
		t.Fatalf("version-1 Create: %v", err)
	}
	if got, err := r1.Get(ctx, "i000001"); err != nil || got.Label == nil || *got.Label != "label 1" || got.Qty != 1 {
		t.Errorf("version-1 Get: %+v, %v", got, err)
	}

	if _, err := newMigrator(ctx, t, m, cfg, dirs[2]).Apply(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = openItems(ctx, t, m, cfg, itemV1Schema, s3.WithMigrations("shop", dirs[0]))
	var ae *migrate.AheadError
	if !errors.Is(err, repo.ErrSchemaAhead) || !errors.As(err, &ae) {
		t.Fatalf("version-1 constructor on a store at version 3: %v, want ErrSchemaAhead with a *migrate.AheadError", err)
	}
	for _, want := range []string{"version 3: field label was renamed title", "version 3: field code became unique"} {
		if !slices.ContainsFunc(ae.Problems, func(p string) bool { return strings.HasPrefix(p, want) }) {
			t.Errorf("AheadError problems %q lack %q", ae.Problems, want)
		}
	}
	if ae.Applied != 3 || ae.Known != 1 || len(ae.Problems) != 2 {
		t.Errorf("AheadError %+v, want applied 3, known 1, two problems", ae)
	}
}
