package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/repokit/repokit/examples/shop/shopdb"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// TestGeneratedSchema applies a generated package's EnsurePostgresSchema (the statements of
// its postgres_schema.sql, defaults included) in a fresh PostgreSQL schema: the tables it
// creates pass the runtime's drift check for every record, a second run changes nothing,
// and a column altered afterwards is reported, not repaired.
func TestGeneratedSchema(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lease, err := pool.Get(ctx, h.m, h.cfg, postgres.Hooks())
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	db := lease.Pool()
	// The unaccent extension of full-text search lives where a database normally has it,
	// not in the throwaway schema: dropping that (CASCADE) would drop the extension and the
	// text search configurations of every other test using it.
	if _, err := db.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS unaccent"); err != nil {
		t.Fatal(err)
	}
	ns := fmt.Sprintf("gen_%d_%d", os.Getpid(), tableSeq.Add(1))
	if _, err := db.Exec(ctx, "CREATE SCHEMA "+pgdialect.Quote(ns)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.Exec(context.Background(), "DROP SCHEMA "+pgdialect.Quote(ns)+" CASCADE") })
	inSchema := func(fn func(tx pgx.Tx) error) error {
		return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+pgdialect.Quote(ns)); err != nil {
				return err
			}
			return fn(tx)
		})
	}
	for range 2 {
		if err := inSchema(func(tx pgx.Tx) error { return shopdb.EnsurePostgresSchema(ctx, tx) }); err != nil {
			t.Fatalf("EnsurePostgresSchema: %v", err)
		}
	}
	// The runtime's own definition agrees with the generated tables.
	err = inSchema(func(tx pgx.Tx) error {
		return errors.Join(
			postgres.EnsureSchema(ctx, tx, shopdb.ProductSchema, "products"),
			postgres.EnsureSchema(ctx, tx, shopdb.CustomerSchema, "customers"),
			postgres.EnsureSchema(ctx, tx, shopdb.OrderSchema, "orders"),
		)
	})
	if err != nil {
		t.Fatalf("runtime drift check on generated tables: %v", err)
	}
	// The generated default applies to rows written by other tools.
	var status string
	err = inSchema(func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO products (sku, name, price, stock, repokit_version) VALUES ('s', 'n', 1, 1, 1) RETURNING status`).Scan(&status)
	})
	if err != nil || status != "draft" {
		t.Errorf("default of products.status: %q, %v", status, err)
	}
	if _, err := db.Exec(ctx, "ALTER TABLE "+pgdialect.Quote(ns)+".products ALTER COLUMN stock TYPE integer, DROP COLUMN thumbnail"); err != nil {
		t.Fatal(err)
	}
	err = inSchema(func(tx pgx.Tx) error { return shopdb.EnsurePostgresSchema(ctx, tx) })
	if !errors.Is(err, postgres.ErrSchemaDrift) {
		t.Fatalf("after altering products: %v, want ErrSchemaDrift", err)
	}
	for _, want := range []string{`column "stock" has type integer, want bigint`, `column "thumbnail" is missing (want bytea)`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("drift error %q does not say %q", err, want)
		}
	}
}

// generatedProducts returns a Product repository made by shopdb's generated constructor on
// a table of the test's own, closed when the test ends, and a context for the test (a
// minute). shopdb has migrations, so its constructors create nothing and check the table
// against the newest migration's state: the table is made from that state. The version
// check reads shopdb's version table: its migrations are applied first (the test must not
// depend on examples/shop having run on the same server before it).
func generatedProducts(t *testing.T) (context.Context, *repo.Collection[shopdb.Product]) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	if _, err := shopdb.MigratePostgres(ctx, h.m, h.cfg); err != nil {
		t.Fatal(err)
	}
	table := tableName(t, h.m, h.cfg, "products")
	h.exec(t, migratedTable(t, "Product", table)...)
	r, err := shopdb.NewProductPostgresRepository(ctx, h.m, pool.Prepare(h.cfg), postgres.WithTable(table))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return ctx, r
}

// TestGeneratedConstructor uses a generated constructor end to end.
func TestGeneratedConstructor(t *testing.T) {
	ctx, r := generatedProducts(t)
	p, err := r.Create(ctx, shopdb.Product{SKU: "sku-1", Name: "Widget", Price: 9.5, Stock: 3,
		Categories: []shopdb.ProductCategory{shopdb.ProductCategoryToys}, Attributes: []byte(`{"color":"red"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if p.Status == nil || *p.Status != shopdb.ProductStatusDraft {
		t.Errorf("status default not applied: %v", p.Status)
	}
	got, err := r.Find(ctx, shopdb.ProductQuery().Where(shopdb.ProductFields.Categories.Contains(shopdb.ProductCategoryToys)))
	if err != nil || len(got) != 1 || string(got[0].Attributes) != `{"color":"red"}` {
		t.Errorf("Find = %+v, %v", got, err)
	}
}

// TestGeneratedBatchRead: GetBatch and Find, which scan rows with the driver's scanner (enum
// fields and lists and json.RawMessage read through the same memory as *string, **string,
// *[]string and *[]byte), give the records Get gives through the generated statements.
func TestGeneratedBatchRead(t *testing.T) {
	ctx, r := generatedProducts(t)
	active, desc, at := shopdb.ProductStatusActive, "a toy", time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	recs := []shopdb.Product{
		{SKU: "sku-1", Name: "Widget", Price: 9.5, Stock: 3, Status: &active, Description: &desc, UpdatedAt: &at,
			Categories: []shopdb.ProductCategory{shopdb.ProductCategoryToys, shopdb.ProductCategoryBooks},
			Ratings:    []int64{4, 5}, Attributes: []byte(`{"color": "red", "size": [1, 2]}`), Thumbnail: []byte{0, 1, 2}},
		{SKU: "sku-2", Name: "Plain"},
	}
	if _, err := r.CreateBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	ids := []string{"sku-2", "sku-missing", "sku-1"}
	got, res, err := r.GetBatch(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res[1].Err, repo.ErrNotFound) {
		t.Errorf("GetBatch of a missing id: %v", res[1].Err)
	}
	found, err := r.Find(ctx, shopdb.ProductQuery().OrderBy(shopdb.ProductFields.SKU.Desc()))
	if err != nil || len(found) != 2 {
		t.Fatalf("Find = %v, %v", found, err)
	}
	for k, i := range []int{0, 2} {
		want, err := r.Get(ctx, ids[i])
		if err != nil {
			t.Fatal(err)
		}
		if res[i].Err != nil || !reflect.DeepEqual(got[i], want) {
			t.Errorf("GetBatch %s = %+v, %v; Get gives %+v", ids[i], got[i], res[i].Err, want)
		}
		if !reflect.DeepEqual(found[k], want) {
			t.Errorf("Find %s = %+v; Get gives %+v", ids[i], found[k], want)
		}
	}
	if *got[2].Status != active || len(got[2].Categories) != 2 || got[2].Categories[1] != shopdb.ProductCategoryBooks || got[2].Attributes == nil {
		t.Errorf("GetBatch sku-1 = %+v", got[2])
	}
}

// migratedTable returns the SQL that makes table as shopdb's migrations make the table of
// record: the table of the newest migration's state, under another name.
func migratedTable(t *testing.T, record, table string) []string {
	t.Helper()
	h, err := migrate.Load(shopdb.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	td, err := pgdialect.RecordTableDef(h.Last().Schema.Record(record))
	if err != nil {
		t.Fatal(err)
	}
	td.Table = table
	return td.SQL()
}
