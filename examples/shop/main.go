// Command shop walks through repokit's generated API: create, batch create with per-item
// errors, typed filters, sorting, keyset pages, streaming, optimistic updates and deletes.
// By default it runs on the in-memory backend and needs no server:
//
//	go run ./examples/shop
//
// The same walkthrough runs unchanged on any backend a URL names (see docs/opening.md):
//
//	go run ./examples/shop -url 'postgres://app:secret@localhost:5432/shop'
//	go run ./examples/shop -url 's3://my-bucket/demo?region=eu-west-1'   # credentials: the AWS SDK's default chain
//	go run ./examples/shop -url 'elasticsearch://localhost:9200'
//
// or on the test services' server of a backend, found through the variables they export
// (see docs/services.md):
//
//	eval "$(scripts/services/all.sh start --with-elasticsearch)"
//	go run ./examples/shop -backend postgres       # REPOKIT_POSTGRES_URL
//	go run ./examples/shop -backend s3             # REPOKIT_S3_ENDPOINT, _ACCESS_KEY, _SECRET_KEY, _BUCKET, _REGION
//	go run ./examples/shop -backend elasticsearch  # REPOKIT_ES_URL
//
// The demo first deletes the records an earlier run left behind. With -trace it prints every
// OpenTelemetry span (repository calls and the clients' requests under them) to standard
// error with the stdout exporter (see docs/observability.md):
//
//	go run ./examples/shop -backend postgres -trace 2> trace.jsonl
//
// The records are declared in schema/shop.yaml; the package shopdb is generated from it
// by `go generate ./...` at the repository root (see gen.go).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/repokit/repokit/examples/shop/shopdb"
	"github.com/repokit/repokit/runtime/open"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

func main() {
	backend := flag.String("backend", "memory", "memory, postgres, s3 or elasticsearch: the test services' server of that backend")
	url := flag.String("url", "", "the `URL` to run on: mem://, postgres://..., s3://BUCKET/PREFIX?..., elasticsearch://HOST:PORT (instead of -backend)")
	traceFlag := flag.Bool("trace", false, "print every OpenTelemetry span to standard error (the stdout exporter)")
	flag.Parse()
	ctx := context.Background()
	if *traceFlag {
		shutdown, err := startTracing(os.Stderr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "shop:", err)
			os.Exit(1)
		}
		defer shutdown(ctx)
	}
	t, err := target(*backend, *url, os.LookupEnv)
	if err == nil {
		err = run(ctx, os.Stdout, t)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "shop:", err)
		os.Exit(1)
	}
}

// target returns where the demo runs: the target url names when it is given, else the test
// services' server of backend, whose endpoint lookup finds in the environment.
func target(backend, url string, lookup func(string) (string, bool)) (open.Target, error) {
	if url != "" {
		return open.Parse(url)
	}
	env := func(names ...string) ([]string, error) {
		vals := make([]string, len(names))
		for i, name := range names {
			v, ok := lookup(name)
			if !ok || v == "" {
				return nil, fmt.Errorf("-backend %s needs %s (start the test services: eval \"$(scripts/services/all.sh start --with-elasticsearch)\"), or give -url", backend, name)
			}
			vals[i] = v
		}
		return vals, nil
	}
	switch backend {
	case "memory":
		return open.Parse("mem://")
	case "postgres":
		v, err := env("REPOKIT_POSTGRES_URL")
		if err != nil {
			return open.Target{}, err
		}
		return open.Parse(v[0])
	case "s3":
		// A map rather than a URL: it may carry the test server's keys, which a URL never does.
		v, err := env("REPOKIT_S3_ENDPOINT", "REPOKIT_S3_ACCESS_KEY", "REPOKIT_S3_SECRET_KEY", "REPOKIT_S3_BUCKET", "REPOKIT_S3_REGION")
		if err != nil {
			return open.Target{}, err
		}
		return open.FromMap("s3", map[string]any{"endpoint_url": v[0], "aws_access_key_id": v[1], "aws_secret_access_key": v[2],
			"bucket": v[3], "region_name": v[4], "path_style": true, "prefix": "repokit-demo"})
	case "elasticsearch":
		v, err := env("REPOKIT_ES_URL")
		if err != nil {
			return open.Target{}, err
		}
		return open.FromMap("elasticsearch", map[string]any{"hosts": []any{v[0]}})
	}
	return open.Target{}, fmt.Errorf("unknown -backend %q (memory, postgres, s3 or elasticsearch)", backend)
}

// run applies the package's migrations to t's store (shopdb/migrations; nothing to do in
// memory or on a store that has them all) and opens the demo's repositories on t, each with
// one call whatever the backend, then runs the demo. Every repository gets its client from
// one pool manager: the three repositories of a backend share one connection pool.
func run(ctx context.Context, w io.Writer, t open.Target) error {
	m := pool.New(pool.Options{})
	defer m.CloseAll(context.Background())
	if _, err := shopdb.MigrateTarget(ctx, m, t); err != nil {
		return err
	}
	db, err := shopdb.OpenFromTarget(ctx, m, t)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := reset(ctx, db); err != nil {
		return err
	}
	return demo(ctx, w, db)
}

// reset deletes every record, so that the demo starts from empty repositories.
func reset(ctx context.Context, db *shopdb.Repositories) error {
	return errors.Join(clear(ctx, db.Customer, shopdb.CustomerSchema.GetID, shopdb.CustomerQuery()),
		clear(ctx, db.Product, shopdb.ProductSchema.GetID, shopdb.ProductQuery()),
		clear(ctx, db.Order, shopdb.OrderSchema.GetID, shopdb.OrderQuery()))
}

func clear[T any](ctx context.Context, rp repo.Repository[T], id func(*T) string, q query.Query[T]) error {
	all, err := rp.Find(ctx, q)
	if err != nil {
		return err
	}
	for i := range all {
		if err := rp.Delete(ctx, id(&all[i])); err != nil && !errors.Is(err, repo.ErrNotFound) {
			return err
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

func demo(ctx context.Context, w io.Writer, db *shopdb.Repositories) error {
	day := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)

	fmt.Fprintln(w, "== Create (the uuid id is generated, the tier default applied)")
	ada, err := db.Customer.Create(ctx, shopdb.Customer{
		Email: "ada@example.com", Name: "Ada Lovelace", SignedUp: day, Active: true,
		Tags: []string{"vip"},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "created customer %s: id is a UUID (%d chars), tier=%s, version=%s\n",
		ada.Name, len(ada.ID), *ada.Tier, ada.RecordVersion)

	fmt.Fprintln(w, "\n== CreateBatch (one result per item; a taken id and a bad value fail alone)")
	catalog := []shopdb.Product{
		{SKU: "BK-001", Name: "Structure and Interpretation", Price: 42.5, Stock: 3,
			Description: ptr("The classic book on programs, programming and the languages they are written in."),
			Status:      ptr(shopdb.ProductStatusActive), Categories: []shopdb.ProductCategory{shopdb.ProductCategoryBooks}},
		{SKU: "GM-001", Name: "Starship Tactics", Price: 29.99, Stock: 12,
			Description: ptr("A tactical game of starships: command a fleet, play cards, win the sector."),
			Status:      ptr(shopdb.ProductStatusActive), Categories: []shopdb.ProductCategory{shopdb.ProductCategoryGames, shopdb.ProductCategoryToys},
			Attributes: json.RawMessage(`{"players":"2-4"}`)},
		{SKU: "GM-002", Name: "Star Gardens", Price: 18, Stock: 0,
			Description: ptr("Grow gardens among the stars: a calm game for families, played in turns."),
			Categories:  []shopdb.ProductCategory{shopdb.ProductCategoryGames}, Ratings: []int64{5, 4, 5}},
		{SKU: "MU-001", Name: "Kind of Blue", Price: 11.5, Stock: 40,
			Description: ptr("The jazz album, played by a sextet in two days; a café classic."),
			Status:      ptr(shopdb.ProductStatusActive), Categories: []shopdb.ProductCategory{shopdb.ProductCategoryMusic}},
		{SKU: "GM-001", Name: "Duplicate SKU", Price: 1, Stock: 1},
		{SKU: "TY-001", Name: "Stardust Kite", Price: 24, Stock: 7,
			Status: ptr(shopdb.ProductStatus("sold-out"))},
	}
	results, err := db.Product.CreateBatch(ctx, catalog)
	if err != nil {
		return err
	}
	for _, res := range results {
		switch {
		case errors.Is(res.Err, repo.ErrAlreadyExists):
			fmt.Fprintf(w, "  %-7s already exists\n", res.ID)
		case errors.Is(res.Err, repo.ErrInvalidInput):
			fmt.Fprintf(w, "  %-7s invalid: %v\n", res.ID, res.Err)
		case res.Err != nil:
			return res.Err
		default:
			fmt.Fprintf(w, "  %-7s stored, version %s\n", res.ID, res.Version)
		}
	}

	fmt.Fprintln(w, "\n== Find with typed filters and a multi-field sort")
	p := shopdb.ProductFields
	games, err := db.Product.Find(ctx, shopdb.ProductQuery().
		Where(
			p.Categories.Contains(shopdb.ProductCategoryGames),
			p.Name.Like("Star%"),
			p.Price.Between(10, 50),
		).
		OrderBy(p.Price.Desc(), p.Name.Asc()))
	if err != nil {
		return err
	}
	for _, g := range games {
		fmt.Fprintf(w, "  %s %-18s %6.2f EUR  status=%s\n", g.SKU, g.Name, g.Price, *g.Status)
	}
	n, err := db.Product.Count(ctx, shopdb.ProductQuery().Where(
		query.Or(p.Stock.EQ(0), p.Status.NEQ(shopdb.ProductStatusActive))))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  products out of stock or not active: %d\n", n)

	_, err = db.Product.Find(ctx, shopdb.ProductQuery().Where(p.Name.Regex(`^Star.*`)))
	fmt.Fprintf(w, "  a non-portable regex is rejected: %v (invalid input: %v)\n", err, errors.Is(err, repo.ErrInvalidInput))

	fmt.Fprintln(w, "\n== Aggregate: a category facet with price stats (PostgreSQL GROUP BY, Elasticsearch composite aggregation)")
	facets, err := db.Product.Aggregate(ctx, shopdb.ProductQuery().Where(p.Price.LT(100)),
		query.By(p.Categories.GroupBy()), p.Price.Min(), p.Price.Max(), p.Price.Avg(), p.Stock.Sum())
	if err != nil {
		return err
	}
	for _, f := range facets {
		category := "(none)"
		if !f.Keys[0].Null {
			category = f.Keys[0].Str
		}
		fmt.Fprintf(w, "  %-7s %d product(s)  price %6.2f .. %6.2f  avg %6.2f  stock %d\n",
			category, f.Count, f.Metrics[0].Float, f.Metrics[1].Float, f.Metrics[2].Float, f.Metrics[3].Int)
	}

	fmt.Fprintln(w, "\n== Search: full-text on the description (english: \"playing games\" finds \"game\" and \"played\"), with its facet")
	hits := shopdb.ProductQuery().Where(p.Description.Search("playing games"))
	found, err := db.Product.Find(ctx, hits.OrderBy(p.Price.Asc()))
	if err != nil {
		return err
	}
	for _, g := range found {
		fmt.Fprintf(w, "  %s %-18s %6.2f EUR\n", g.SKU, g.Name, g.Price)
	}
	facets, err = db.Product.Aggregate(ctx, hits, query.By(p.Categories.GroupBy()), p.Price.Avg())
	if err != nil {
		return err
	}
	for _, f := range facets {
		fmt.Fprintf(w, "  facet %-7s %d product(s)  avg price %6.2f\n", f.Keys[0].Str, f.Count, f.Metrics[0].Float)
	}
	phrase, err := db.Product.Count(ctx, shopdb.ProductQuery().Where(p.Description.SearchPhrase("cafe classic")))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  phrase \"cafe classic\" (accents folded): %d product(s)\n", phrase)

	fmt.Fprintln(w, "\n== Orders, then keyset pages of 4 (newest first)")
	var orders []shopdb.Order
	for i := range 10 {
		orders = append(orders, shopdb.Order{
			CustomerID: ada.ID,
			Status:     []shopdb.OrderStatus{shopdb.OrderStatusPending, shopdb.OrderStatusPaid, shopdb.OrderStatusShipped}[i%3],
			SKUs:       []string{"GM-001"},
			Total:      29.99 * float64(1+i%2),
			Items:      int64(1 + i%2),
			PlacedAt:   day.Add(time.Duration(i) * time.Hour),
			Gift:       ptr(i%4 == 0),
		})
	}
	if _, err := db.Order.CreateBatch(ctx, orders); err != nil {
		return err
	}
	o := shopdb.OrderFields
	pageQuery := shopdb.OrderQuery().Where(o.CustomerID.EQ(ada.ID)).OrderBy(o.PlacedAt.Desc()).Limit(4)
	cursor := ""
	for page := 1; ; page++ {
		pg, err := db.Order.Page(ctx, pageQuery, cursor)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  page %d:", page)
		for _, ord := range pg.Items {
			fmt.Fprintf(w, " %s/%s", ord.PlacedAt.Format("15:04"), ord.Status)
		}
		fmt.Fprintln(w)
		if pg.Next == "" {
			break
		}
		cursor = pg.Next
	}

	fmt.Fprintln(w, "\n== Stream (an iterator: records arrive one at a time, never all loaded)")
	var revenue float64
	seen := 0
	for ord, err := range db.Order.Stream(ctx, shopdb.OrderQuery().Where(o.Status.IN(shopdb.OrderStatusPaid, shopdb.OrderStatusShipped))) {
		if err != nil {
			return err
		}
		revenue += ord.Total
		seen++
	}
	fmt.Fprintf(w, "  %d paid or shipped orders, revenue %.2f EUR\n", seen, revenue)

	fmt.Fprintln(w, "\n== Optimistic update")
	game, err := db.Product.Get(ctx, "GM-002")
	if err != nil {
		return err
	}
	game.Stock = 25
	updated, err := db.Product.Update(ctx, game, repo.IfVersion(game.RecordVersion))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  restocked %s: version %s -> %s\n", game.SKU, game.RecordVersion, updated.RecordVersion)
	game.Stock = 99 // a second writer still holding the old version
	_, err = db.Product.Update(ctx, game, repo.IfVersion(game.RecordVersion))
	fmt.Fprintf(w, "  stale update: %v (version conflict: %v)\n", err, errors.Is(err, repo.ErrVersionConflict))

	fmt.Fprintln(w, "\n== Delete")
	if err := db.Product.Delete(ctx, "MU-001"); err != nil {
		return err
	}
	_, err = db.Product.Get(ctx, "MU-001")
	fmt.Fprintf(w, "  after delete: %v (not found: %v)\n", err, errors.Is(err, repo.ErrNotFound))
	left, err := db.Product.Count(ctx, shopdb.ProductQuery())
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  %d products left\n", left)
	return nil
}
