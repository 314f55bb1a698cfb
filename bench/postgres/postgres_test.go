// Package postgres compares repokit's PostgreSQL backend with hand-written pgx, a per-row
// INSERT loop, GORM and ent on the same server, table layout and data. Run it against the
// test server (fsync=off), from the repository root:
//
//	eval "$(scripts/services/postgres.sh start)"
//	cd bench && go test ./postgres -run '^$' -bench . -benchtime 10x -count 2
//
// or against a separate durable server (fsync, full_page_writes and synchronous_commit on),
// which durable.sh starts, benchmarks and removes:
//
//	bench/postgres/durable.sh
package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib"
	gormpg "gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/repokit/repokit/bench/postgres/ent"
	"github.com/repokit/repokit/bench/postgres/ent/schema"
	"github.com/repokit/repokit/examples/shop/shopdb"
	"github.com/repokit/repokit/internal/servicetest"
	rkpg "github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

const table = "bench_products"

// freshDatabase drops and creates the database db on the test server and returns the test
// URL with db as its database.
func freshDatabase(b *testing.B, db string) string {
	b.Helper()
	u := servicetest.PostgresURL(b)
	ctx := context.Background()
	admin, err := pgxpool.New(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	for _, s := range []string{"DROP DATABASE IF EXISTS " + db + " WITH (FORCE)", "CREATE DATABASE " + db} {
		if _, err := admin.Exec(ctx, s); err != nil {
			b.Fatalf("%s: %v", s, err)
		}
	}
	pu, err := url.Parse(u)
	if err != nil {
		b.Fatal(err)
	}
	pu.Path = "/" + db
	return pu.String()
}

// columns are the table's columns in the order every peer writes them.
var columns = []string{"sku", "name", "description", "price", "stock", "status", "categories", "ratings", "attributes", "thumbnail", "updated_at", "repokit_version"}

type env struct {
	ctx  context.Context
	pool *pgxpool.Pool
	repo *repo.Collection[shopdb.Product]
	gorm *gorm.DB
	ent  *ent.Client
}

func setup(b *testing.B) *env {
	b.Helper()
	// A database of its own, as the other benchmarks have.
	u := freshDatabase(b, "repokit_bench_batch")
	ctx := context.Background()
	cfg, err := pool.PostgresPoolConfigFromMap(map[string]any{"connection_string": u})
	if err != nil {
		b.Fatal(err)
	}
	m := pool.New(pool.Options{})
	b.Cleanup(func() { _ = m.CloseAll(ctx) })
	p, err := pgxpool.New(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.Close)
	if _, err := p.Exec(ctx, "DROP TABLE IF EXISTS "+table); err != nil {
		b.Fatal(err)
	}
	// The driver on a table of the bench's own (the peers' models name it), created from
	// the schema: the generated constructor would require package shopdb's migrations,
	// which make table products, and its static statements serve that table only.
	d, err := rkpg.New(ctx, m, cfg, shopdb.ProductSchema, rkpg.WithTable(table))
	if err != nil {
		b.Fatal(err)
	}
	r := repo.New(shopdb.ProductSchema, d)
	b.Cleanup(func() { _ = r.Close() })
	g, err := gorm.Open(gormpg.Open(u), &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if db, err := g.DB(); err == nil {
			_ = db.Close()
		}
	})
	sdb, err := sql.Open("pgx", u)
	if err != nil {
		b.Fatal(err)
	}
	ec := ent.NewClient(ent.Driver(entsql.OpenDB(dialect.Postgres, sdb)))
	b.Cleanup(func() { _ = ec.Close() })
	return &env{ctx: ctx, pool: p, repo: r, gorm: g, ent: ec}
}

func (e *env) truncate(b *testing.B) {
	b.StopTimer()
	if _, err := e.pool.Exec(e.ctx, "TRUNCATE "+table); err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
}

// products returns n products with every scalar field set and the lists filled.
func products(n int) []shopdb.Product {
	out := make([]shopdb.Product, n)
	for i := range out {
		out[i] = product(i)
	}
	return out
}

// product returns the i-th product of products.
func product(i int) shopdb.Product {
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	desc := "description of product " + strconv.Itoa(i)
	st := shopdb.ProductStatusActive
	t := at.Add(time.Duration(i) * time.Second)
	return shopdb.Product{
		SKU: fmt.Sprintf("sku-%06d", i), Name: "product " + strconv.Itoa(i), Description: &desc,
		Price: float64(i%1000) + 0.99, Stock: int64(i % 97), Status: &st,
		Categories: []shopdb.ProductCategory{shopdb.ProductCategoryBooks, shopdb.ProductCategoryToys},
		Ratings:    []int64{int64(i % 5), 4}, Attributes: json.RawMessage(`{"color":"red","size":` + strconv.Itoa(i%40) + `}`),
		UpdatedAt: &t,
	}
}

// row is what a hand-written program sends for one product.
func row(p *shopdb.Product, version int64) []any {
	cats := make([]string, len(p.Categories))
	for i, c := range p.Categories {
		cats[i] = string(c)
	}
	return []any{p.SKU, p.Name, p.Description, p.Price, p.Stock, (*string)(p.Status), cats, p.Ratings, []byte(p.Attributes), p.Thumbnail, p.UpdatedAt, version}
}

// gormProduct is the GORM model of the same table.
type gormProduct struct {
	SKU            string     `gorm:"column:sku;primaryKey"`
	Name           string     `gorm:"column:name"`
	Description    *string    `gorm:"column:description"`
	Price          float64    `gorm:"column:price"`
	Stock          int64      `gorm:"column:stock"`
	Status         *string    `gorm:"column:status"`
	Categories     textArray  `gorm:"column:categories;type:text[]"`
	Ratings        intArray   `gorm:"column:ratings;type:bigint[]"`
	Attributes     jsonText   `gorm:"column:attributes;type:json"`
	Thumbnail      []byte     `gorm:"column:thumbnail"`
	UpdatedAt      *time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
	RepokitVersion int64      `gorm:"column:repokit_version"`
}

func toGorm(p *shopdb.Product, v int64) gormProduct {
	cats := make(textArray, len(p.Categories))
	for i, c := range p.Categories {
		cats[i] = string(c)
	}
	return gormProduct{SKU: p.SKU, Name: p.Name, Description: p.Description, Price: p.Price, Stock: p.Stock,
		Status: (*string)(p.Status), Categories: cats, Ratings: p.Ratings, Attributes: jsonText(p.Attributes),
		Thumbnail: p.Thumbnail, UpdatedAt: p.UpdatedAt, RepokitVersion: v}
}

const batch = 10000

// entBatch is the rows per INSERT of the ent and GORM peers (PostgreSQL takes at most 65535
// parameters per statement: 5461 rows of 12 columns).
const entBatch = 1000

func (e *env) reset(b *testing.B) func() {
	return func() {
		if _, err := e.pool.Exec(e.ctx, "TRUNCATE "+table); err != nil {
			b.Fatal(err)
		}
	}
}

func repokitBatch(b *testing.B, e *env, recs []shopdb.Product) {
	res, err := e.repo.CreateBatch(e.ctx, recs)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}

func pgxCopy(b *testing.B, e *env, recs []shopdb.Product) {
	rows := make([][]any, len(recs))
	for i := range recs {
		rows[i] = row(&recs[i], int64(i+1))
	}
	n, err := e.pool.CopyFrom(e.ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
	if err != nil || n != int64(len(recs)) {
		b.Fatal(n, err)
	}
}

const insertSQL = "INSERT INTO " + table + " (sku, name, description, price, stock, status, categories, ratings, attributes, thumbnail, updated_at, repokit_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"

func pgxInsertLoop(b *testing.B, e *env, recs []shopdb.Product) {
	for i := range recs {
		if _, err := e.pool.Exec(e.ctx, insertSQL, row(&recs[i], int64(i+1))...); err != nil {
			b.Fatal(err)
		}
	}
}

func gormBatches(b *testing.B, e *env, recs []shopdb.Product) {
	gs := make([]gormProduct, len(recs))
	for i := range recs {
		gs[i] = toGorm(&recs[i], int64(i+1))
	}
	if err := e.gorm.Table(table).CreateInBatches(gs, entBatch).Error; err != nil {
		b.Fatal(err)
	}
}

func entBulk(b *testing.B, e *env, recs []shopdb.Product) {
	for start := 0; start < len(recs); start += entBatch {
		part := recs[start:min(start+entBatch, len(recs))]
		builders := make([]*ent.ProductCreate, len(part))
		for i := range part {
			p := &part[i]
			cats := make(schema.TextArray, len(p.Categories))
			for j, c := range p.Categories {
				cats[j] = string(c)
			}
			builders[i] = e.ent.Product.Create().SetID(p.SKU).SetName(p.Name).SetNillableDescription(p.Description).
				SetPrice(p.Price).SetStock(p.Stock).SetNillableStatus((*string)(p.Status)).SetCategories(cats).
				SetRatings(schema.IntArray(p.Ratings)).SetAttributes(p.Attributes).SetNillableUpdatedAt(p.UpdatedAt).
				SetRepokitVersion(int64(start + i + 1))
		}
		if err := e.ent.Product.CreateBulk(builders...).Exec(e.ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateBatch10k stores 10,000 products into an empty table, repokit's
// CreateBatch interleaved with each peer (see interleave for the metrics). It also reports
// each side's time per row (repokit-ns/row, peer-ns/row): for the per-row INSERT loop,
// peer-ns/row is the cost of one autocommit INSERT on the server under test.
func BenchmarkCreateBatch10k(b *testing.B) {
	e := setup(b)
	recs := products(batch)
	rk := func() { repokitBatch(b, e, recs) }
	for _, peer := range []struct {
		name string
		fn   func(*testing.B, *env, []shopdb.Product)
	}{
		{"vs_pgx_copyfrom", pgxCopy},
		{"vs_pgx_insert_loop", pgxInsertLoop},
		{"vs_gorm_create_in_batches", gormBatches},
		{"vs_ent_create_bulk", entBulk},
	} {
		b.Run(peer.name, func(b *testing.B) {
			rkOp, peerOp := interleave(b, e.reset(b), rk, func() { peer.fn(b, e, recs) })
			b.ReportMetric(float64(rkOp.Nanoseconds())/batch, "repokit-ns/row")
			b.ReportMetric(float64(peerOp.Nanoseconds())/batch, "peer-ns/row")
		})
	}
}

const findSQL = "SELECT sku, name, description, price, stock, status, categories, ratings, attributes, thumbnail, updated_at, repokit_version FROM " + table + " ORDER BY sku"

// pgxFind is the hand-written peer: the same columns and order, scanned into the same
// struct, the version formatted as repokit does.
func pgxFind(b *testing.B, e *env) []shopdb.Product {
	rows, err := e.pool.Query(e.ctx, findSQL)
	if err != nil {
		b.Fatal(err)
	}
	var out []shopdb.Product
	for rows.Next() {
		var p shopdb.Product
		var v int64
		if err := rows.Scan(&p.SKU, &p.Name, &p.Description, &p.Price, &p.Stock, &p.Status, &p.Categories, &p.Ratings, &p.Attributes, &p.Thumbnail, &p.UpdatedAt, &v); err != nil {
			b.Fatal(err)
		}
		p.RecordVersion = strconv.FormatInt(v, 10)
		out = append(out, p)
	}
	if rows.Err() != nil {
		b.Fatal(rows.Err())
	}
	return out
}

// BenchmarkFind1k reads 1,000 products, repokit's Find interleaved with hand-written pgx.
func BenchmarkFind1k(b *testing.B) {
	e := setup(b)
	if _, err := e.repo.CreateBatch(e.ctx, products(1000)); err != nil {
		b.Fatal(err)
	}
	q := shopdb.ProductQuery()
	interleave(b, func() {}, func() {
		out, err := e.repo.Find(e.ctx, q)
		if err != nil || len(out) != 1000 {
			b.Fatal(len(out), err)
		}
	}, func() {
		if out := pgxFind(b, e); len(out) != 1000 {
			b.Fatal(len(out))
		}
	})
}
