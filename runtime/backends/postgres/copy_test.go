package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// TestCopyAfterTypeChange: a driver whose pooled connections have run COPY keeps storing the
// right values after a column under it is widened (int to float, as a migration does while
// older code runs): pgx had cached the old column types per connection and encoded int64s
// that the server read as float8 bits (15 stored as 7.4e-323, no error).
func TestCopyAfterTypeChange(t *testing.T) {
	h := newHarness(t)
	ctx, r := thingsRepo(t, h)
	table := r.Driver().(*postgres.Driver[things.Thing]).Table()
	batch := func(prefix string, workers int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Go(func() {
				recs := make([]things.Thing, 40) // above the COPY threshold
				for i := range recs {
					recs[i] = things.Thing{ID: fmt.Sprintf("%s%d-%03d", prefix, w, i), Name: "n", Count: int64(15 + i), Created: t0}
				}
				res, err := r.CreateBatch(ctx, recs)
				if err == nil {
					for _, x := range res {
						if x.Err != nil {
							err = x.Err
							break
						}
					}
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	batch("a", 4) // every pooled connection copies, so pgx caches the column types
	h.exec(t, "ALTER TABLE "+pgdialect.Quote(table)+" ALTER COLUMN count TYPE double precision USING count::double precision")
	batch("b", 4)

	lease, err := pool.Get(ctx, h.m, h.cfg, postgres.Hooks())
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	rows, err := lease.Pool().Query(context.Background(), "SELECT id, count FROM "+pgdialect.Quote(table)+" WHERE id LIKE 'b%' ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id string
		var got float64
		if err := rows.Scan(&id, &got); err != nil {
			t.Fatal(err)
		}
		var w, i int
		if _, err := fmt.Sscanf(id, "b%d-%03d", &w, &i); err != nil {
			t.Fatal(err)
		}
		if got != float64(15+i) {
			t.Errorf("%s: count stored as %g after the column became double precision, want %d", id, got, 15+i)
		}
		n++
	}
	if err := rows.Err(); err != nil || n != 160 {
		t.Fatalf("read %d rows (%v), want 160", n, err)
	}
}

// TestCopyTypesOncePerChange: a connection drops its cached statements at its first COPY
// of the columns (it cannot know what pgx cached for them before: another user of the
// connection may have copied), once after a column type changed under it, not at every
// COPY after the change (the driver compared the types with those of its first COPY, and
// dropped them at every COPY after a widening), and again after a second change; every
// value is stored right.
func TestCopyTypesOncePerChange(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lease, err := pool.Get(ctx, h.m, h.cfg, postgres.Hooks())
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	pc, err := lease.Pool().Acquire(ctx) // one connection: each COPY runs on it
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Release()
	table := tableName(t, h.m, h.cfg, "thing")
	d, err := postgres.NewWithDB(ctx, pc.Conn(), things.ThingSchema, postgres.WithTable(table))
	if err != nil {
		t.Fatal(err)
	}
	drops := 0
	postgres.SetCopyDeallocateHook(d, func() { drops++ })
	r := repo.New(things.ThingSchema, d)
	alter := func(typ string) string {
		return "ALTER TABLE " + pgdialect.Quote(table) + " ALTER COLUMN count TYPE " + typ + " USING count::" + typ
	}
	steps := []struct {
		alter string // run on another connection before the COPY
		drops int    // drops in all after the COPY
	}{
		{"", 1},
		{"", 1},
		{alter("double precision"), 2},
		{"", 2},
		{"", 2},
		{alter("numeric"), 3},
		{"", 3},
	}
	for s, st := range steps {
		if st.alter != "" {
			h.exec(t, st.alter)
		}
		recs := make([]things.Thing, 40) // above the COPY threshold
		for i := range recs {
			recs[i] = things.Thing{ID: fmt.Sprintf("s%d-%03d", s, i), Name: "n", Count: int64(15 + i), Created: t0}
		}
		res, err := r.CreateBatch(ctx, recs)
		if err == nil && res[0].Err != nil {
			err = res[0].Err
		}
		if err != nil {
			t.Fatalf("step %d: %v", s, err)
		}
		if drops != st.drops {
			t.Errorf("step %d (%q): %d drops of the cached statements in all, want %d", s, st.alter, drops, st.drops)
		}
	}
	var bad int
	if err := pc.QueryRow(ctx, "SELECT count(*) FROM "+pgdialect.Quote(table)+
		" WHERE count::float8 <> 15 + substr(id, 4)::int").Scan(&bad); err != nil || bad != 0 {
		t.Fatalf("%d rows whose count is not the one written (%v)", bad, err)
	}
}

// TestReadsAfterTypeChange: reads whose statements every pooled connection had prepared go
// on after a column they return changes type under them (the migration's ALTER COLUMN ...
// TYPE while older code runs): PostgreSQL answers such a cached statement with "cached plan
// must not change result type" (0A000) once per connection, and the driver runs the read
// again instead of failing it.
func TestReadsAfterTypeChange(t *testing.T) {
	h := newHarness(t)
	ctx, r := thingsRepo(t, h)
	table := r.Driver().(*postgres.Driver[things.Thing]).Table()
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = fmt.Sprintf("r%02d", i)
		if _, err := r.Create(ctx, things.Thing{ID: ids[i], Name: "n", Count: int64(i), Created: t0}); err != nil {
			t.Fatal(err)
		}
	}
	q := things.ThingQuery().Where(things.ThingFields.Count.LT(10))
	reads := func(round string) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, 4*len(ids))
		for w := range 4 {
			wg.Go(func() {
				for i := range ids {
					var err error
					switch (w + i) % 4 {
					case 0:
						_, err = r.Get(ctx, ids[i])
					case 1:
						var recs []things.Thing
						if recs, err = r.Find(ctx, q); err == nil && len(recs) != 10 {
							err = fmt.Errorf("Find returned %d records, want 10", len(recs))
						}
					case 2:
						_, err = r.Count(ctx, q)
					default:
						var res []repo.Result
						if _, res, err = r.GetBatch(ctx, ids[:3]); err == nil && res[0].Err != nil {
							err = res[0].Err
						}
					}
					if err != nil {
						errs <- fmt.Errorf("%s: %w", round, err)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
	reads("before") // every pooled connection prepares the statements
	h.exec(t, "ALTER TABLE "+pgdialect.Quote(table)+" ALTER COLUMN count TYPE double precision USING count::double precision")
	reads("after the type change")
	got, err := r.Get(ctx, "r07")
	if err != nil || got.Count != 7 {
		t.Fatalf("Get after the type change: %+v, %v", got, err)
	}
}
