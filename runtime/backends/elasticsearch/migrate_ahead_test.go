package elasticsearch_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// item3 is item1 with an optional note, and sku unique (see TestMigrateOlderCodeRestarts).
type item3 struct {
	item1
	Note *string `json:"note,omitempty"`
}

var item3Desc = func() *record.Desc[item3] {
	str := func(name string, get func(*item3) *string) record.Field[item3] {
		return strField(name, get)
	}
	sku := str("sku", func(r *item3) *string { return &r.Sku })
	sku.Unique = true
	return descOf([]record.Field[item3]{
		str("id", func(r *item3) *string { return &r.ID }),
		str("name", func(r *item3) *string { return &r.Name }),
		intField("qty", func(r *item3) *int64 { return &r.Qty }),
		str("kind", func(r *item3) *string { return &r.Kind }),
		sku,
		str("label", func(r *item3) *string { return &r.Label }),
		intField("score", func(r *item3) *int64 { return &r.Score }),
		{Name: "note", GoName: "Note", Kind: query.KindString, Optional: true, JSON: "note", Str: func(r *item3) (string, bool) {
			if r.Note == nil {
				return "", false
			}
			return *r.Note, true
		}},
	}, func(r *item3) *string { return &r.ID }, func(r *item3) *string { return &r.RecordVersion },
		func(r *item3) []any {
			return []any{&r.ID, &r.Name, &r.Qty, &r.Kind, &r.Sku, &r.Label, &r.Score, &r.Note}
		})
}()

// checkAhead checks that err is ErrSchemaAhead for a store at applied and code at known,
// with a problem containing want.
func checkAhead(t *testing.T, err error, applied, known int64, want string) {
	t.Helper()
	var ae *migrate.AheadError
	if !errors.Is(err, repo.ErrSchemaAhead) || !errors.As(err, &ae) {
		t.Fatalf("older code's constructor: %v, want ErrSchemaAhead with a *migrate.AheadError", err)
	}
	if ae.Applied != applied || ae.Known != known || !slices.ContainsFunc(ae.Problems, func(p string) bool { return strings.Contains(p, want) }) {
		t.Errorf("AheadError %+v, want applied %d, known %d and a problem with %q", ae, applied, known, want)
	}
}

// TestMigrateOlderCodeRestarts is a rolling deploy: code of version 1 starts again after
// newer versions were applied. It works after additive changes (a new field, an enum
// value), and is refused with ErrSchemaAhead, saying why, once a field became unique (its
// writes would not reserve values) or a field it uses was renamed away.
func TestMigrateOlderCodeRestarts(t *testing.T) {
	t.Run("additive then unique", func(t *testing.T) {
		e := newMigEnv(t)
		loadItems(t, e, e.v1Repo(t), 10)
		v2 := e.v1.Clone()
		v2.Records[0].Fields = append(v2.Records[0].Fields, migrate.Field{Name: "note", Type: "string"})
		v2.Records[0].Field("kind").Values = []string{"a", "b", "c"}
		v3 := v2.Clone()
		v3.Records[0].Field("sku").Unique = true
		dirs := history(t, false, e.v1, v2, v3)
		if _, err := e.migrator(t, dirs[1]).Apply(e.ctx); err != nil {
			t.Fatal(err)
		}
		open := func(desc *record.Desc[item1], dir int) (*repo.Collection[item1], error) {
			return elasticsearch.NewRepository(e.ctx, e.m, e.cfg, desc, elasticsearch.WithIndex(e.index),
				elasticsearch.WithMigrations(e.pkg, dirs[dir]), elasticsearch.WithMigrationStateIndex(e.state))
		}
		r1, err := open(item1Desc, 0)
		if err != nil {
			t.Fatalf("version-1 constructor on a cluster at version 2: %v", err)
		}
		defer r1.Close()
		if _, err := r1.Create(e.ctx, item1{ID: "new", Name: "n", Sku: "s-new", Label: "l"}); err != nil {
			t.Fatalf("version-1 Create: %v", err)
		}
		if got, err := r1.Get(e.ctx, "new"); err != nil || got.Label != "l" {
			t.Errorf("version-1 Get: %+v, %v", got, err)
		}

		if _, err := e.migrator(t, dirs[2]).Apply(e.ctx); err != nil {
			t.Fatal(err)
		}
		r3, err := elasticsearch.NewRepository(e.ctx, e.m, e.cfg, item3Desc, elasticsearch.WithIndex(e.index),
			elasticsearch.WithMigrations(e.pkg, dirs[2]), elasticsearch.WithMigrationStateIndex(e.state))
		if err != nil { // version-3 code reserves the stored values
			t.Fatal(err)
		}
		defer r3.Close()
		_, err = open(item1Desc, 0)
		checkAhead(t, err, 3, 1, "field sku is unique in a newer version")
		_, err = open(item1Desc, 1)
		checkAhead(t, err, 3, 2, "field sku is unique in a newer version")
	})
	t.Run("renamed", func(t *testing.T) {
		e := newMigEnv(t)
		loadItems(t, e, e.v1Repo(t), 10)
		if _, err := e.migrator(t, e.all).Apply(e.ctx); err != nil {
			t.Fatal(err)
		}
		_, err := elasticsearch.NewRepository(e.ctx, e.m, e.cfg, item1Desc, elasticsearch.WithIndex(e.index),
			elasticsearch.WithMigrations(e.pkg, e.migrationsV1), elasticsearch.WithMigrationStateIndex(e.state))
		checkAhead(t, err, 2, 1, `label: missing in the index`)
		st, err := e.migrator(t, e.migrationsV1).Status(e.ctx)
		if err != nil || !slices.Contains(st.Drift, "the store is at version 2, newer than this history (1)") {
			t.Errorf("status with the history of version 1: %q, %v", st.Drift, err)
		}
	})
}
