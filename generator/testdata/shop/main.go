// Command shop exercises the generated shop package on the memory backend; the golden test
// builds, vets and runs it, and expects it to print "ok".
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"gentest/shop"

	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/open"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

func check(cond bool, format string, args ...any) {
	if !cond {
		fmt.Printf("FAIL: "+format+"\n", args...)
		os.Exit(1)
	}
}

func main() {
	ctx := context.Background()
	products := shop.NewProductMemoryRepository()
	defer products.Close()
	var r shop.ProductRepository = products

	now := time.Date(2025, 1, 2, 3, 4, 5, 6789, time.FixedZone("CET", 3600))
	lamp, err := r.Create(ctx, shop.Product{
		SKU: "A-1", Name: "Lamp", Price: 19.5, Active: true, CreatedAt: now,
		Tags: []string{"home", "light"}, Attributes: json.RawMessage(`{"watts": 40}`),
	})
	check(err == nil, "create lamp: %v", err)
	check(lamp.ID != "" && lamp.RecordVersion != "", "generated id %q and version %q", lamp.ID, lamp.RecordVersion)
	check(lamp.Status != nil && *lamp.Status == shop.ProductStatusDraft, "default status: %v", lamp.Status)
	check(lamp.CreatedAt.Equal(query.NormalizeTime(now)) && lamp.CreatedAt.Location() == time.UTC, "normalized time: %v", lamp.CreatedAt)

	stock := int64(3)
	active := shop.ProductStatusActive
	_, err = r.Create(ctx, shop.Product{SKU: "B-2", Name: "Desk", Price: 120, Stock: &stock, Status: &active, Active: true, CreatedAt: now})
	check(err == nil, "create desk: %v", err)

	got, err := r.Get(ctx, lamp.ID)
	// JSON comes back compacted, on every backend (docs/semantics.md, "Round trip").
	check(err == nil && got.Name == "Lamp" && string(got.Attributes) == `{"watts":40}`, "get: %+v, %v", got, err)

	found, err := r.Find(ctx, shop.ProductQuery().Where(shop.ProductFields.Price.GT(50)))
	check(err == nil && len(found) == 1 && found[0].Name == "Desk", "find price > 50: %+v, %v", found, err)

	found, err = r.Find(ctx, shop.ProductQuery().
		Where(query.Or(shop.ProductFields.Tags.Contains("home"), shop.ProductFields.Status.EQ(shop.ProductStatusActive))).
		OrderBy(shop.ProductFields.Name.Asc()))
	check(err == nil && len(found) == 2 && found[0].Name == "Desk" && found[1].Name == "Lamp", "find or: %+v, %v", found, err)

	found, err = r.Find(ctx, shop.ProductQuery().Where(shop.ProductFields.Stock.NotExists(), shop.ProductFields.Name.Like("L%")).
		Select(shop.ProductFields.Name))
	check(err == nil && len(found) == 1 && found[0].Name == "Lamp" && found[0].Tags == nil, "find projected: %+v, %v", found, err)

	n, err := r.Count(ctx, shop.ProductQuery().Where(shop.ProductFields.Attributes.Exists()))
	check(err == nil && n == 1, "count: %d, %v", n, err)

	bad := shop.ProductStatus("nope")
	_, err = r.Create(ctx, shop.Product{SKU: "C-3", Name: "Bad", Status: &bad, CreatedAt: now})
	check(errors.Is(err, repo.ErrInvalidInput), "bad enum: %v", err)
	_, err = r.Create(ctx, shop.Product{SKU: "C-3", Name: "Bad", Attributes: json.RawMessage(`{`), CreatedAt: now})
	check(errors.Is(err, repo.ErrInvalidInput), "bad json: %v", err)

	lines := shop.NewOrderLineMemoryRepository()
	orderID, productID := "0190a0a0-0000-7000-8000-000000000001", "0190a0a0-0000-7000-8000-000000000002"
	_, err = lines.Create(ctx, shop.OrderLine{ID: "l1", OrderID: orderID, ProductID: productID, Quantity: 1, UnitPrice: 2})
	check(errors.Is(err, repo.ErrInvalidInput), "required json, bytes and list are empty: %v", err)
	line, err := lines.Create(ctx, shop.OrderLine{ID: "l1", OrderID: orderID, ProductID: productID, Quantity: 1, UnitPrice: 2,
		Receipt: json.RawMessage(`{}`), Signature: []byte{1}, Sizes: []int64{38, 40}, ShippedAt: []time.Time{now}})
	check(err == nil && line.ShippedAt[0].Location() == time.UTC, "create line: %+v, %v", line, err)
	found2, err := lines.Find(ctx, shop.OrderLineQuery().Where(shop.OrderLineFields.Sizes.Contains(40)))
	check(err == nil && len(found2) == 1, "find line: %v", err)

	cats := shop.NewCategoryMemoryRepository()
	_, err = cats.Create(ctx, shop.Category{Title: "No slug"})
	check(errors.Is(err, repo.ErrInvalidInput), "missing provided id: %v", err)
	_, err = cats.Create(ctx, shop.Category{Slug: "lamps", Title: "Lamps", Position: 1})
	check(err == nil, "create category: %v", err)
	_, err = cats.Create(ctx, shop.Category{Slug: "lamps", Title: "Again", Position: 2})
	check(errors.Is(err, repo.ErrAlreadyExists), "duplicate slug: %v", err)

	// The openers: one repository per record on the target a URL names; mem:// needs no manager.
	db, err := shop.Open(ctx, nil, "mem://")
	check(err == nil && db.Product != nil && db.Category != nil && db.OrderLine != nil, "open mem://: %+v, %v", db, err)
	_, err = db.Category.Create(ctx, shop.Category{Slug: "lamps", Title: "Lamps", Position: 1})
	check(err == nil, "a new in-memory store per Open: %v", err)
	check(db.Close() == nil, "close")
	_, err = db.Category.Get(ctx, "lamps")
	check(errors.Is(err, repo.ErrClosed), "closed by Repositories.Close: %v", err)
	_, err = shop.NewProductRepository(ctx, nil, "ftp://host")
	check(err != nil && strings.Contains(err.Error(), `unknown scheme "ftp"`), "unknown scheme: %v", err)
	_, err = shop.NewProductRepository(ctx, nil, "postgres://app:hunter2@db/shop")
	check(err != nil && strings.Contains(err.Error(), "no *pool.Manager") && !strings.Contains(err.Error(), "hunter2"), "nil manager: %v", err)
	t, err := open.FromMap("memory", nil)
	check(err == nil, "FromMap: %v", err)
	p2, err := shop.NewProductRepositoryFromTarget(ctx, nil, t, postgres.WithoutSchemaCheck())
	check(err == nil && p2 != nil, "memory target, another backend's option ignored: %v", err)

	fmt.Println("ok")
}
