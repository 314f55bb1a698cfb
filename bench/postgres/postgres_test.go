// Package postgres compares repokit's PostgreSQL backend with hand-written pgx, a per-row
// INSERT loop and GORM on the same server, table layout and data. Run it against the test
// server:
//
//	eval "$(scripts/services/postgres.sh start)"
//	cd bench && go test ./postgres -run '^$' -bench . -benchmem -count 3
package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	gormpg "gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/repokit/repokit/examples/shop/shopdb"
	rkpg "github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

const table = "bench_products"

// columns are the table's columns in the order every peer writes them.
var columns = []string{"sku", "name", "description", "price", "stock", "status", "categories", "ratings", "attributes", "thumbnail", "updated_at", "repokit_version"}

type env struct {
	ctx  context.Context
	pool *pgxpool.Pool
	repo *repo.Collection[shopdb.Product]
	gorm *gorm.DB
}

func setup(b *testing.B) *env {
	b.Helper()
	u := os.Getenv("REPOKIT_POSTGRES_URL")
	if u == "" {
		b.Skip("REPOKIT_POSTGRES_URL is not set; start the server with: eval \"$(scripts/services/postgres.sh start)\"")
	}
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
	r, err := shopdb.NewProductPostgresRepository(ctx, m, cfg, rkpg.WithTable(table))
	if err != nil {
		b.Fatal(err)
	}
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
	return &env{ctx: ctx, pool: p, repo: r, gorm: g}
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
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range out {
		desc := "description of product " + strconv.Itoa(i)
		st := shopdb.ProductStatusActive
		t := at.Add(time.Duration(i) * time.Second)
		out[i] = shopdb.Product{
			SKU: fmt.Sprintf("sku-%06d", i), Name: "product " + strconv.Itoa(i), Description: &desc,
			Price: float64(i%1000) + 0.99, Stock: int64(i % 97), Status: &st,
			Categories: []shopdb.ProductCategory{shopdb.ProductCategoryBooks, shopdb.ProductCategoryToys},
			Ratings:    []int64{int64(i % 5), 4}, Attributes: json.RawMessage(`{"color":"red","size":` + strconv.Itoa(i%40) + `}`),
			UpdatedAt: &t,
		}
	}
	return out
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

func BenchmarkCreateBatch10k(b *testing.B) {
	e := setup(b)
	recs := products(batch)
	b.Run("repokit", func(b *testing.B) {
		for b.Loop() {
			e.truncate(b)
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
		b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("pgx_copyfrom", func(b *testing.B) {
		for b.Loop() {
			e.truncate(b)
			rows := make([][]any, len(recs))
			for i := range recs {
				rows[i] = row(&recs[i], int64(i+1))
			}
			n, err := e.pool.CopyFrom(e.ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
			if err != nil || n != batch {
				b.Fatal(n, err)
			}
		}
		b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("pgx_insert_loop", func(b *testing.B) {
		sql := "INSERT INTO " + table + " (sku, name, description, price, stock, status, categories, ratings, attributes, thumbnail, updated_at, repokit_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
		for b.Loop() {
			e.truncate(b)
			for i := range recs {
				if _, err := e.pool.Exec(e.ctx, sql, row(&recs[i], int64(i+1))...); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("gorm_create_in_batches", func(b *testing.B) {
		for b.Loop() {
			e.truncate(b)
			gs := make([]gormProduct, len(recs))
			for i := range recs {
				gs[i] = toGorm(&recs[i], int64(i+1))
			}
			if err := e.gorm.Table(table).CreateInBatches(gs, 1000).Error; err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "records/s")
	})
}

func BenchmarkFind1k(b *testing.B) {
	e := setup(b)
	recs := products(1000)
	if _, err := e.repo.CreateBatch(e.ctx, recs); err != nil {
		b.Fatal(err)
	}
	b.Run("repokit", func(b *testing.B) {
		q := shopdb.ProductQuery()
		for b.Loop() {
			out, err := e.repo.Find(e.ctx, q)
			if err != nil || len(out) != 1000 {
				b.Fatal(len(out), err)
			}
		}
	})
	b.Run("pgx", func(b *testing.B) {
		sql := "SELECT sku, name, description, price, stock, status, categories, ratings, attributes, thumbnail, updated_at, repokit_version FROM " + table + " ORDER BY sku"
		for b.Loop() {
			rows, err := e.pool.Query(e.ctx, sql)
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
			if rows.Err() != nil || len(out) != 1000 {
				b.Fatal(len(out), rows.Err())
			}
		}
	})
}
