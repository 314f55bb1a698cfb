package postgres

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/pool"
)

// migBenchRows is the size of the table the online-migration benchmark migrates.
const migBenchRows = 1_000_000

// BenchmarkMigrateOnline measures what an online migration costs a writer: a table of
// 1,000,000 rows, a writer inserting one row at a time, the writer's latencies for 5 s before
// the migration and while it runs (add an optional column, and an index on an existing
// column built CONCURRENTLY). It reports the p99 of each phase, their ratio
// (p99-ratio = during / before; the goal is ≤ 2) and the slowest write during the apply
// (the goal: none blocked > 1 s). One iteration: run it with -benchtime=1x.
func BenchmarkMigrateOnline(b *testing.B) {
	ctx := context.Background()
	cfg, err := pool.PostgresPoolConfigFromMap(map[string]any{"connection_string": servicetest.PostgresURL(b)})
	if err != nil {
		b.Fatal(err)
	}
	m := pool.New(pool.Options{KeepIdle: true})
	defer m.CloseAll(ctx)
	lease, err := pool.Get(ctx, m, cfg, postgres.Hooks())
	if err != nil {
		b.Fatal(err)
	}
	defer lease.Release()
	p := lease.Pool()
	for b.Loop() {
		before, during, slowest, applyTime := migrateOnce(b, ctx, m, cfg, p)
		b.ReportMetric(float64(p99(before).Microseconds()), "before-p99-µs")
		b.ReportMetric(float64(p99(during).Microseconds()), "during-p99-µs")
		b.ReportMetric(float64(p99(during))/float64(p99(before)), "p99-ratio")
		b.ReportMetric(float64(slowest.Milliseconds()), "during-max-ms")
		b.ReportMetric(applyTime.Seconds(), "apply-s")
		b.ReportMetric(float64(len(during)), "writes-during")
	}
}

func migrateOnce(b *testing.B, ctx context.Context, m *pool.Manager, cfg pool.PostgresPoolConfig, p *pgxpool.Pool) (before, during []time.Duration, slowest, applyTime time.Duration) {
	const table, pkg = "bench_migrate", "benchmigrate"
	for _, s := range []string{"DROP TABLE IF EXISTS " + table, "DROP TABLE IF EXISTS " + postgres.VersionTable(pkg)} {
		if _, err := p.Exec(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	v1 := migrate.Schema{Records: []migrate.Record{{Name: "Row", Table: table, Index: table, Prefix: table,
		ID:     migrate.ID{Name: "id", Type: "string"},
		Fields: []migrate.Field{{Name: "name", Type: "string", Required: true}, {Name: "n", Type: "int", Required: true}}}}}
	v2 := v1.Clone()
	v2.Records[0].Fields[1].Indexed = true
	v2.Records[0].Fields = append(v2.Records[0].Fields, migrate.Field{Name: "color", Type: "string"})
	dir := fstest.MapFS{}
	var h migrate.History
	for i, s := range []migrate.Schema{v1, v2} {
		mg, err := h.Next(s, fmt.Sprintf("v%d", i+1), false)
		if err != nil {
			b.Fatal(err)
		}
		data, _ := mg.Encode()
		dir[mg.FileName()] = &fstest.MapFile{Data: data}
		name, sql, err := pgdialect.MigrationFile(h.State(h.Version()), mg)
		if err != nil {
			b.Fatal(err)
		}
		dir[name] = &fstest.MapFile{Data: sql}
		h = append(h, mg)
	}
	base := fstest.MapFS{}
	for k, v := range dir {
		if k == "00001_v1.json" || k == "postgres/00001_v1.sql" {
			base[k] = v
		}
	}
	apply := func(fsys fstest.MapFS) {
		mg, err := postgres.NewMigrator(ctx, m, cfg, pkg, fsys)
		if err != nil {
			b.Fatal(err)
		}
		defer mg.Close()
		if _, err := mg.Apply(ctx); err != nil {
			b.Fatal(err)
		}
	}
	apply(base)
	if _, err := p.Exec(ctx, fmt.Sprintf(`INSERT INTO %s (id, name, n, repokit_version)
		SELECT 'r' || g, 'name ' || g, g %% 1000, g FROM generate_series(1, %d) g`, table, migBenchRows)); err != nil {
		b.Fatal(err)
	}
	if _, err := p.Exec(ctx, "VACUUM ANALYZE "+table); err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	var lat []time.Duration
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			t0 := time.Now()
			_, err := p.Exec(ctx, "INSERT INTO "+table+" (id, name, n, repokit_version) VALUES ($1, $2, $3, $4)", fmt.Sprintf("w%d", i), "writer", int64(i%1000), int64(i))
			d := time.Since(t0)
			if err != nil {
				b.Error(err)
				return
			}
			mu.Lock()
			lat = append(lat, d)
			mu.Unlock()
		}
	}()
	take := func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		out := lat
		lat = nil
		return out
	}
	time.Sleep(5 * time.Second)
	before = take()
	t0 := time.Now()
	apply(dir)
	applyTime = time.Since(t0)
	close(stop)
	wg.Wait()
	during = take()
	slowest = slices.Max(during)
	return before, during, slowest, applyTime
}

// p99 returns the 99th percentile of ds.
func p99(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[(len(s)*99)/100]
}
