package s3_test

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/repokit/repokit/internal/migratetest"
	"github.com/repokit/repokit/internal/recordtest"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// The records of the migration tests: Item at version 1 (written by a driver without
// migrations) and at version 2, after the day-2 changes: name indexed, label renamed to
// title, qty widened from int to float, status gets the value "gone", code made unique,
// note (optional) and prio (required, default 5) added, and the record Tag added.

type itemV1 struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	Label         *string `json:"label,omitempty"`
	Qty           int64   `json:"qty"`
	Status        *string `json:"status,omitempty" record:",enum=new|done"`
	Code          *string `json:"code,omitempty"`
	RecordVersion string  `json:"-"`
}

type itemV2 struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	Title         *string `json:"title,omitempty"`
	Qty           float64 `json:"qty"`
	Status        *string `json:"status,omitempty" record:",enum=new|done|gone"`
	Code          *string `json:"code,omitempty" record:",unique"`
	Note          *string `json:"note,omitempty"`
	Prio          int64   `json:"prio"`
	RecordVersion string  `json:"-"`
}

func ptr[V any](v V) *V { return &v }

var (
	itemV1Schema = recordtest.MustNew[itemV1]("Item")
	itemV2Schema = recordtest.MustNew[itemV2]("Item")
	// itemV2PlainCodeSchema is itemV2 with code not unique (the older-code tests' version 3).
	itemV2PlainCodeSchema = recordtest.MustNew[itemV2]("Item", recordtest.Tag("Code", ""))
)

// Schemas of the migration tests, as `repokit migrate diff` records them.
func itemRecordV1() migrate.Record {
	return migrate.Record{Name: "Item", Table: "item", Index: "item", Prefix: "item", ID: migrate.ID{Name: "id", Type: "string"},
		Fields: []migrate.Field{
			{Name: "name", Type: "string", Required: true},
			{Name: "label", Type: "string"},
			{Name: "qty", Type: "int", Required: true},
			{Name: "status", Type: "enum", Values: []string{"new", "done"}},
			{Name: "code", Type: "string"},
		}}
}

func schemaV2() migrate.Schema {
	item := migrate.Record{Name: "Item", Table: "item", Index: "item", Prefix: "item", ID: migrate.ID{Name: "id", Type: "string"},
		Fields: []migrate.Field{
			{Name: "name", Type: "string", Required: true, Indexed: true},
			{Name: "title", Type: "string", RenamedFrom: "label"},
			{Name: "qty", Type: "float", Required: true},
			{Name: "status", Type: "enum", Values: []string{"new", "done", "gone"}},
			{Name: "code", Type: "string", Unique: true},
			{Name: "note", Type: "string"},
			{Name: "prio", Type: "int", Required: true, Default: int64(5)},
		}}
	tag := migrate.Record{Name: "Tag", Table: "tag", Index: "tag", Prefix: "tag", ID: migrate.ID{Name: "id", Type: "string"},
		Fields: []migrate.Field{{Name: "name", Type: "string", Required: true}}}
	return migrate.Schema{Records: []migrate.Record{item, tag}}
}

// schemaV3 drops Item's note (a destructive change).
func schemaV3() migrate.Schema {
	s := schemaV2()
	item := &s.Records[0]
	for i, f := range item.Fields {
		item.Fields[i].RenamedFrom = ""
		if f.Name == "note" {
			item.Fields = append(item.Fields[:i], item.Fields[i+1:]...)
			break
		}
	}
	return s
}

// history returns the migration directory of the first n versions: 1 the baseline (Item
// at version 1), 2 the day-2 changes, 3 the drop of note.
func history(t testing.TB, n int) fstest.MapFS {
	t.Helper()
	dirs, _ := dirsOf(t, true, []string{"baseline", "day2", "drop_note"}, []migrate.Schema{{Records: []migrate.Record{itemRecordV1()}}, schemaV2(), schemaV3()}[:n]...)
	return dirs[n-1]
}

// dirsOf plans a version per schema in want (named by names, destructive changes allowed or
// not) and returns the migration directory after each version, and the history.
func dirsOf(t testing.TB, destructive bool, names []string, want ...migrate.Schema) ([]fstest.MapFS, migrate.History) {
	t.Helper()
	return migratetest.Dirs(t, nil, migratetest.Named(destructive, names, want...)...)
}

// openItems returns a Collection of items of version V on cfg.
func openItems[T any](ctx context.Context, t testing.TB, m *pool.Manager, cfg pool.S3PoolConfig, desc *record.Desc[T], opts ...s3.Option) (*repo.Collection[T], error) {
	t.Helper()
	d, err := s3.New(ctx, m, cfg, desc, opts...)
	if err != nil {
		return nil, err
	}
	r := repo.New(desc, d)
	t.Cleanup(func() { _ = r.Close() })
	return r, nil
}

// newMigrator returns a migrator of package "shop" over fsys, closed when the test ends.
func newMigrator(ctx context.Context, t testing.TB, m *pool.Manager, cfg pool.S3PoolConfig, fsys fstest.MapFS, opts ...s3.MigrateOption) *s3.Migrator {
	t.Helper()
	mg, err := s3.NewMigrator(ctx, m, cfg, "shop", fsys, append([]s3.MigrateOption{s3.WithOlderCodeGrace(0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mg.Close() })
	return mg
}
