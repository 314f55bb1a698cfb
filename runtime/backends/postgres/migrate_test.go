package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/repokit/repokit/internal/migratetest"
	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// step is one migration of a test history: the desired state and the migration's name.
// step is one migration of a test's history.
type step = migratetest.Step

// migrationDirs plans each step's migration from the previous state with History.Next and
// renders its goose file with pgdialect.MigrationFile, as `repokit migrate diff` does, and
// returns the migration directory after each step.
func migrationDirs(t *testing.T, steps ...step) []fstest.MapFS {
	t.Helper()
	dirs, _ := migratetest.Dirs(t, pgdialect.MigrationFile, steps...)
	return dirs
}

var pkgSeq atomic.Int64

// migPackage returns a package name no other test uses, and drops its version table, the
// extra tables and the trigger functions of their renamed fields (pgdialect.CompatName),
// which a table does not take with it, when t ends.
func migPackage(t *testing.T, h harness, tables ...string) string {
	pkg := fmt.Sprintf("mig_%d_%d", os.Getpid(), pkgSeq.Add(1))
	servicetest.Cleanup(t, h.m, h.cfg, postgres.Hooks(), "dropping the tables of "+pkg, func(ctx context.Context, p *pgxpool.Pool) error {
		for _, tb := range append(tables, postgres.VersionTable(pkg)) {
			if _, err := p.Exec(ctx, "DROP TABLE IF EXISTS "+pgdialect.Quote(tb)); err != nil {
				return err
			}
		}
		for _, tb := range tables {
			rows, err := p.Query(ctx, `SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace
				AND p.proname LIKE replace(replace(replace($1, '\', '\\'), '%', '\%'), '_', '\_') || '\_%\_compat'`, tb)
			if err != nil {
				return err
			}
			fns, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			for _, fn := range fns {
				if _, err := p.Exec(ctx, "DROP FUNCTION IF EXISTS "+fn+" CASCADE"); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return pkg
}

func newMigrator(t *testing.T, ctx context.Context, h harness, pkg string, dir fs.FS, opts ...postgres.MigrateOption) *postgres.Migrator {
	t.Helper()
	mg, err := postgres.NewMigrator(ctx, h.m, h.cfg, pkg, dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mg.Close() })
	return mg
}

func prodRepo(ctx context.Context, h harness, table string, v2 bool, opts ...postgres.Option) (*repo.Collection[prod], error) {
	desc := prodDesc(table, v2)
	d, err := postgres.New(ctx, h.m, h.cfg, desc, opts...)
	if err != nil {
		return nil, err
	}
	return repo.New(desc, d), nil
}

func checkStatus(t *testing.T, ctx context.Context, mg *postgres.Migrator, applied []int64, pending int) {
	t.Helper()
	st, err := mg.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.Applied, applied) || len(st.Pending) != pending || len(st.Drift) > 0 {
		t.Errorf("Status: applied %v, %d pending, drift %q; want applied %v, %d pending, no drift", st.Applied, len(st.Pending), st.Drift, applied, pending)
	}
}

// dayTwoWriter creates records and updates its own ones with v1 code while the migration
// runs, and goes on with v1 code after it (a rolling deploy: code of the previous version
// runs beside the new one) for overlap writes, then writes with v2 code. No call may fail.
type dayTwoWriter struct {
	n        int
	want     map[string]prod // the v2 view of every record it wrote, as acknowledged
	ids      []string
	v2IDs    []string // records it created with v2 code
	failures []error
	v1Writes int // v1 writes acknowledged before the apply returned
	v1During int // of which while the migration's file ran (reported, not checked: timing)
	v1After  int // v1 writes acknowledged after the apply returned
	v2Writes int
}

const overlap = 20 // v1 writes, then v2 writes, of each writer after the apply

func (w *dayTwoWriter) run(ctx context.Context, v1 *repo.Collection[prod], v2 func() *repo.Collection[prod], applied <-chan struct{}, during *atomic.Bool) {
	for i := 0; ; i++ {
		after := false
		select {
		case <-applied:
			if v2() == nil || w.v2Writes >= overlap {
				return // the apply failed, or the writer did its v2 writes
			}
			after = true
		default:
		}
		usesV2 := after && w.v1After >= overlap
		if !usesV2 && (i%50 == 25 || (after && w.v1After == 0)) {
			// v1 CreateBatch, which COPYs 16 records or more (the first v1 write after the apply is one)
			w.copyBatch(ctx, v1, i, after, during)
			continue
		}
		var p prod
		if i%2 == 0 || len(w.ids) == 0 {
			id := fmt.Sprintf("w%d-%06d", w.n, i)
			p = prod{ID: id, Name: "n-" + id, SKU: ptr("sku-" + id), Category: ptr(fmt.Sprintf("c%d", i%7)), Status: ptr("active"), Label: ptr("L-" + id), Stock: ptr(int64(i))}
		} else {
			p = w.want[w.ids[i%len(w.ids)]]
			p.Category, p.Label, p.Stock = ptr(fmt.Sprintf("u%d", i)), ptr(fmt.Sprintf("L%d", i)), ptr(int64(i))
		}
		create := w.want[p.ID].ID == ""
		r := v1
		if usesV2 {
			p.StockF = ptr(float64(*p.Stock))
			p.Weight = 2.5
			if create {
				p.Color = ptr("red")
			}
			r = v2()
		}
		var err error
		if create {
			_, err = r.Create(ctx, p)
		} else {
			_, err = r.Update(ctx, p)
		}
		if err != nil {
			w.failures = append(w.failures, fmt.Errorf("%s (create %v, v2 %v, after the apply %v): %w", p.ID, create, usesV2, after, err))
			continue
		}
		switch {
		case usesV2:
			w.v2Writes++
			if create {
				w.v2IDs = append(w.v2IDs, p.ID)
			}
		default: // v1 wrote: v2 reads the widened stock and the default weight
			w.countV1(after, during)
			p.StockF, p.Stock = ptr(float64(*p.Stock)), nil
			if create || w.want[p.ID].Weight == 0 {
				p.Weight = 1
			} else {
				p.Weight = w.want[p.ID].Weight
			}
		}
		p.Stock, p.RecordVersion = nil, ""
		if create {
			w.ids = append(w.ids, p.ID)
		}
		w.want[p.ID] = p
	}
}

// copyBatch creates 16 records with v1 code's CreateBatch (COPY).
func (w *dayTwoWriter) copyBatch(ctx context.Context, v1 *repo.Collection[prod], i int, after bool, during *atomic.Bool) {
	batch := make([]prod, 16)
	for k := range batch {
		id := fmt.Sprintf("w%d-%06d-%02d", w.n, i, k)
		// With stock: the COPY of v1 code (an int column to it) goes on after the widening to
		// float, on connections that COPYed before it (see copy.go in the driver).
		batch[k] = prod{ID: id, Name: "n-" + id, SKU: ptr("sku-" + id), Status: ptr("draft"), Label: ptr("B-" + id), Stock: ptr(int64(1000 + k))}
	}
	res, err := v1.CreateBatch(ctx, batch)
	if err != nil {
		w.failures = append(w.failures, fmt.Errorf("v1 CreateBatch %d (after the apply %v): %w", i, after, err))
		return
	}
	for k, r := range res {
		if r.Err != nil {
			w.failures = append(w.failures, fmt.Errorf("v1 CreateBatch %s (after the apply %v): %w", batch[k].ID, after, r.Err))
			continue
		}
		p := batch[k]
		p.Weight = 1
		p.StockF, p.Stock = ptr(float64(*p.Stock)), nil
		w.ids = append(w.ids, p.ID)
		w.want[p.ID] = p
	}
	w.countV1(after, during)
}

func (w *dayTwoWriter) countV1(after bool, during *atomic.Bool) {
	switch {
	case after:
		w.v1After++
	case during.Load():
		w.v1During++
		fallthrough
	default:
		w.v1Writes++
	}
}

// The day-2 migration on a store a constructor made and filled with 20,000 records, while
// writers keep creating and updating: add an optional field, add a required field with a
// default, index a field, make a field unique, add an enum value, rename a field, widen int
// to float, add a record; then drop a field. The rename is online: v1 code keeps writing
// the old name during and after the apply, and v2 code reads what it wrote under the new
// name (and v1 code reads what v2 code wrote); then the old name is dropped.
func TestMigrateDay2(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	table := tableName(t, h.m, h.cfg, "prod")
	pkg := migPackage(t, h, table, table+"_review")
	v3 := prodState(table, true)
	v3.Records[0].Fields = slices.DeleteFunc(v3.Records[0].Fields, func(f migrate.Field) bool { return f.Name == "color" })
	v4 := v3.Clone()
	v4.Records[0].Field("title").RenamedFrom = "" // v1 code is gone: drop the old name
	dirs := migrationDirs(t, step{Name: "baseline", State: prodState(table, false)}, step{Name: "day2", State: prodState(table, true)},
		step{Name: "drop_color", State: v3, Destructive: true}, step{Name: "drop_label", State: v4, Destructive: true})

	// Today's constructor makes the table; 20,000 records in batches.
	v1, err := prodRepo(ctx, h, table, false)
	if err != nil {
		t.Fatal(err)
	}
	const preload = 20000
	for start := 0; start < preload; start += 1000 {
		batch := make([]prod, 1000)
		for i := range batch {
			id := prodName(start + i)
			batch[i] = prod{ID: id, Name: "n-" + id, SKU: ptr("sku-" + id), Status: ptr("draft"), Label: ptr("L-" + id), Stock: ptr(int64(start + i))}
		}
		drivertest.CreateAll(ctx, t, v1, batch)
	}
	_ = v1.Close()

	// A store made before migrations is at version 0; the baseline adopts it unchanged.
	_, err = prodRepo(ctx, h, table, false, postgres.WithMigrations(pkg, dirs[0]))
	migratetest.CheckBehind(t, err, 0, 1)
	if got, err := newMigrator(t, ctx, h, pkg, dirs[0]).Apply(ctx); err != nil || !slices.Equal(got, []int64{1}) {
		t.Fatalf("applying the baseline: %v, %v", got, err)
	}
	v1, err = prodRepo(ctx, h, table, false, postgres.WithMigrations(pkg, dirs[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer v1.Close()
	var during atomic.Bool // the day-2 file is running
	mg := newMigrator(t, ctx, h, pkg, dirs[1], postgres.WithProgress(func(p migrate.Progress) {
		during.Store(p.Version == 2 && strings.HasPrefix(p.Step, "apply "))
	}))
	checkStatus(t, ctx, mg, []int64{1}, 1)
	_, err = prodRepo(ctx, h, table, true, postgres.WithMigrations(pkg, dirs[1]))
	migratetest.CheckBehind(t, err, 1, 2)
	plan, err := mg.Plan(ctx)
	if err != nil || !slices.ContainsFunc(plan, func(s migrate.Step) bool { return strings.Contains(s.Text, "TYPE double precision") }) {
		t.Fatalf("Plan: %v, %v", plan, err)
	}

	// Writers run during the apply.
	var v2 *repo.Collection[prod]
	v2ready := make(chan struct{})
	getV2 := func() *repo.Collection[prod] { <-v2ready; return v2 }
	done := make(chan struct{}) // the apply returned
	writers := make([]*dayTwoWriter, 4)
	var wg sync.WaitGroup
	for i := range writers {
		writers[i] = &dayTwoWriter{n: i, want: map[string]prod{}}
		wg.Add(1)
		go func() { defer wg.Done(); writers[i].run(ctx, v1, getV2, done, &during) }()
	}
	time.Sleep(200 * time.Millisecond) // let the writers start (not a pass/fail timing)
	applied, applyErr := mg.Apply(ctx)
	if applyErr == nil {
		if v2, err = prodRepo(ctx, h, table, true, postgres.WithMigrations(pkg, dirs[1])); err != nil {
			v2 = nil
		}
	}
	close(v2ready)
	close(done)
	wg.Wait()
	if applyErr != nil || !slices.Equal(applied, []int64{2}) {
		t.Fatalf("Apply: %v, %v", applied, applyErr)
	}
	if err != nil {
		t.Fatalf("v2 constructor after the apply: %v", err)
	}
	defer v2.Close()
	checkStatus(t, ctx, mg, []int64{1, 2}, 0)

	// Every acknowledged write is there, as v2 code reads it.
	total := 0
	for _, w := range writers {
		for _, f := range w.failures {
			t.Errorf("writer %d: %v", w.n, f)
		}
		t.Logf("writer %d: %d records; v1 writes: %d before the apply returned (%d while the day-2 file ran), %d after; %d v2 writes",
			w.n, len(w.ids), w.v1Writes, w.v1During, w.v1After, w.v2Writes)
		if w.v1After != overlap || w.v2Writes != overlap {
			t.Errorf("writer %d: %d v1 writes and %d v2 writes after the apply, want %d each", w.n, w.v1After, w.v2Writes, overlap)
		}
		total += len(w.ids)
		// v1 code reads what v2 code wrote, under the old name.
		for _, id := range w.v2IDs {
			got, err := v1.Get(ctx, id)
			if err != nil || got.Label == nil || *got.Label != *w.want[id].Label {
				t.Errorf("v1 Get %s of a v2 write: label %v, %v; want %s", id, show(got), err, *w.want[id].Label)
			}
		}
		for id, want := range w.want {
			got, err := v2.Get(ctx, id)
			if err != nil {
				t.Errorf("Get %s: %v", id, err)
				continue
			}
			got.RecordVersion = ""
			if show(got) != show(want) {
				t.Errorf("record %s: got %+v, want %+v", id, show(got), show(want))
			}
		}
	}
	lease := poolOf(t, ctx, h)
	var n int64
	if err := lease.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %s WHERE id LIKE 'p%%' AND title = 'L-' || id AND label = title AND weight = 1
		AND stock = substr(id, 2)::float8 AND color IS NULL AND sku = 'sku-' || id AND status = 'draft'`, pgdialect.Quote(table))).Scan(&n); err != nil || n != preload {
		t.Errorf("preloaded records as migrated: %d, %v; want %d", n, err, preload)
	}
	if c, err := v2.Count(ctx, prodQuery()); err != nil || c != int64(preload+total) {
		t.Errorf("Count = %d, %v; want %d", c, err, preload+total)
	}
	// v2 code writes the new enum value; the unique field refuses a duplicate.
	if _, err := v2.Create(ctx, prod{ID: "new", Name: "x", SKU: ptr("new-sku"), Status: ptr("archived"), Weight: 3}); err != nil {
		t.Errorf("v2 Create with the new enum value: %v", err)
	}
	if _, err := v2.Create(ctx, prod{ID: "dup", Name: "x", SKU: ptr("sku-" + prodName(7)), Weight: 3}); !errors.Is(err, repo.ErrAlreadyExists) {
		t.Errorf("v2 Create with a stored sku: %v, want ErrAlreadyExists", err)
	}
	// v2 code writes the added record (a COPY batch and single creates) and finds it by its
	// indexed field.
	rdesc := reviewDesc(table)
	rd, err := postgres.New(ctx, h.m, h.cfg, rdesc, postgres.WithMigrations(pkg, dirs[1]))
	if err != nil {
		t.Fatalf("the added record's constructor after the apply: %v", err)
	}
	reviews := repo.New(rdesc, rd)
	defer reviews.Close()
	rs := make([]review, 24)
	for i := range rs {
		rs[i] = review{ID: fmt.Sprintf("00000000-0000-7000-8000-%012d", i), ProdID: prodName(i % 3)}
	}
	if res, err := reviews.CreateBatch(ctx, rs[:20]); err != nil || slices.ContainsFunc(res, func(r repo.Result) bool { return r.Err != nil }) {
		t.Fatalf("CreateBatch of the added record: %v, %v", res, err)
	}
	for _, r := range rs[20:] {
		if _, err := reviews.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	pid := query.NewStringField[review]("prod_id")
	if found, err := reviews.Find(ctx, query.New[review]().Where(pid.EQ(prodName(1)))); err != nil || len(found) != 8 {
		t.Errorf("Find of the added record by its indexed field: %d, %v; want 8", len(found), err)
	}
	if got, err := reviews.Get(ctx, rs[23].ID); err != nil || got.ProdID != prodName(2) {
		t.Errorf("Get of the added record: %+v, %v", got, err)
	}
	checkStatus(t, ctx, mg, []int64{1, 2}, 0)

	// The destructive step: drop a field.
	mg3 := newMigrator(t, ctx, h, pkg, dirs[2])
	if got, err := mg3.Apply(ctx); err != nil || !slices.Equal(got, []int64{3}) {
		t.Fatalf("applying drop_color: %v, %v", got, err)
	}
	checkStatus(t, ctx, mg3, []int64{1, 2, 3}, 0)
	if err := lease.QueryRow(ctx, "SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'color' AND NOT attisdropped", pgdialect.Quote(table)).Scan(&n); err != nil || n != 0 {
		t.Errorf("column color after drop_color: %d, %v", n, err)
	}

	// v1 code is gone: the old name, its trigger and their function are dropped.
	mg4 := newMigrator(t, ctx, h, pkg, dirs[3])
	checkStatus(t, ctx, mg4, []int64{1, 2, 3}, 1)
	if got, err := mg4.Apply(ctx); err != nil || !slices.Equal(got, []int64{4}) {
		t.Fatalf("applying drop_label: %v, %v", got, err)
	}
	checkStatus(t, ctx, mg4, []int64{1, 2, 3, 4}, 0)
	compat := pgdialect.CompatName(table, "title")
	if err := lease.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'label' AND NOT attisdropped)
		+ (SELECT count(*) FROM pg_trigger WHERE tgname = $2) + (SELECT count(*) FROM pg_proc WHERE proname = $2)`, pgdialect.Quote(table), compat).Scan(&n); err != nil || n != 0 {
		t.Errorf("column label, trigger and function %s after drop_label: %d left, %v", compat, n, err)
	}
	if _, err := prodRepo(ctx, h, table, true, postgres.WithMigrations(pkg, dirs[3])); err != nil {
		t.Errorf("constructor after drop_label: %v", err)
	}
	// No trigger names the dropped column any more.
	if _, err := lease.Exec(ctx, "UPDATE "+pgdialect.Quote(table)+" SET title = 'after' WHERE id = $1", prodName(3)); err != nil {
		t.Errorf("writing title after drop_label: %v", err)
	}
}

func show(p prod) string {
	s := func(v *string) string {
		if v == nil {
			return "<nil>"
		}
		return *v
	}
	f := func(v *float64) string {
		if v == nil {
			return "<nil>"
		}
		return fmt.Sprint(*v)
	}
	return fmt.Sprintf("{%s name=%s sku=%s cat=%s status=%s title=%s stock=%s color=%s weight=%v}", p.ID, p.Name, s(p.SKU), s(p.Category), s(p.Status), s(p.Label), f(p.StockF), s(p.Color), p.Weight)
}

func prodQuery() query.Query[prod] { return query.New[prod]() }

func poolOf(t *testing.T, ctx context.Context, h harness) *pgxpool.Pool {
	lease, err := pool.Get(ctx, h.m, h.cfg, postgres.Hooks())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lease.Release)
	return lease.Pool()
}

// Two migrators applying at once: each version is applied exactly once.
func TestMigrateConcurrentApply(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	table := tableName(t, h.m, h.cfg, "prod")
	pkg := migPackage(t, h, table, table+"_review")
	dirs := migrationDirs(t, step{Name: "baseline", State: prodState(table, false)}, step{Name: "day2", State: prodState(table, true)})
	var wg sync.WaitGroup
	results := make([][]int64, 2)
	errs := make([]error, 2)
	start := make(chan struct{})
	for i := range results {
		mg := newMigrator(t, ctx, h, pkg, dirs[1])
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = mg.Apply(ctx)
		}()
	}
	close(start)
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("Apply: %v; %v", errs[0], errs[1])
	}
	all := slices.Sorted(slices.Values(append(slices.Clone(results[0]), results[1]...)))
	if !slices.Equal(all, []int64{1, 2}) {
		t.Errorf("versions applied by the two migrators: %v and %v, want 1 and 2 once in all", results[0], results[1])
	}
	var rows int64
	if err := poolOf(t, ctx, h).QueryRow(ctx, "SELECT count(*) FROM "+pgdialect.Quote(postgres.VersionTable(pkg))+" WHERE version_id > 0").Scan(&rows); err != nil || rows != 2 {
		t.Errorf("version table rows: %d, %v; want 2", rows, err)
	}
	checkStatus(t, ctx, newMigrator(t, ctx, h, pkg, dirs[1]), []int64{1, 2}, 0)
}

// A unique field over stored duplicates fails naming them; once the data is fixed, apply
// again finishes the job.
func TestMigrateUniqueOverDuplicates(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	table := tableName(t, h.m, h.cfg, "prod")
	pkg := migPackage(t, h, table, table+"_review")
	dirs := migrationDirs(t, step{Name: "baseline", State: prodState(table, false)}, step{Name: "day2", State: prodState(table, true)})
	if _, err := newMigrator(t, ctx, h, pkg, dirs[0]).Apply(ctx); err != nil {
		t.Fatal(err)
	}
	v1, err := prodRepo(ctx, h, table, false, postgres.WithMigrations(pkg, dirs[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer v1.Close()
	for i, sku := range []string{"dup-a", "dup-a", "dup-b", "it's", "it's", "ok"} {
		if _, err := v1.Create(ctx, prod{ID: prodName(i), Name: "x", SKU: ptr(sku)}); err != nil {
			t.Fatal(err)
		}
	}
	mg := newMigrator(t, ctx, h, pkg, dirs[1])
	_, err = mg.Apply(ctx)
	if err == nil || !strings.Contains(err.Error(), `'dup-a', 'it''s'`) || !strings.Contains(err.Error(), "cannot make Prod.sku unique") {
		t.Fatalf("Apply over duplicates: %v, want an error naming 'dup-a' and 'it''s'", err)
	}
	if _, err := poolOf(t, ctx, h).Exec(ctx, "DELETE FROM "+pgdialect.Quote(table)+" WHERE id IN ($1, $2)", prodName(1), prodName(4)); err != nil {
		t.Fatal(err)
	}
	if got, err := mg.Apply(ctx); err != nil || !slices.Equal(got, []int64{2}) {
		t.Fatalf("Apply after fixing the data: %v, %v", got, err)
	}
	checkStatus(t, ctx, mg, []int64{1, 2}, 0)
}

// Status reports live differences from the applied state: a dropped index, a CHECK with
// other values, a missing default, an extra column, an INVALID index.
func TestMigrateStatusDrift(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	table := tableName(t, h.m, h.cfg, "prod")
	pkg := migPackage(t, h, table, table+"_review")
	dirs := migrationDirs(t, step{Name: "baseline", State: prodState(table, false)}, step{Name: "day2", State: prodState(table, true)})
	var progress []string
	mg := newMigrator(t, ctx, h, pkg, dirs[1], postgres.WithProgress(func(p migrate.Progress) {
		progress = append(progress, fmt.Sprintf("%d %s %d/%d", p.Version, p.Step, p.Done, p.Total))
	}))
	if _, err := mg.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"1 apply 00001_baseline.sql 0/2", "1 applied 00001_baseline.sql 1/2", "2 apply 00002_day2.sql 1/2", "2 applied 00002_day2.sql 2/2"}
	if !slices.Equal(progress, want) {
		t.Errorf("progress %q, want %q", progress, want)
	}
	checkStatus(t, ctx, mg, []int64{1, 2}, 0)
	qt := pgdialect.Quote(table)
	p := poolOf(t, ctx, h)
	for _, s := range []string{
		"DROP INDEX " + pgdialect.Quote(table+"_category_idx"),
		"ALTER TABLE " + qt + " DROP CONSTRAINT " + pgdialect.Quote(table+"_status_check") + ", ADD CONSTRAINT " + pgdialect.Quote(table+"_status_check") + " CHECK (status IN ('draft'))",
		"ALTER TABLE " + qt + " ALTER COLUMN weight DROP DEFAULT",
		"ALTER TABLE " + qt + " ADD COLUMN extra bigint",
		"DROP INDEX " + pgdialect.Quote(table+"_sku_key"),
		"INSERT INTO " + qt + " (id, name, sku, weight, repokit_version) VALUES ('a', 'a', 'same', 1, 1), ('b', 'b', 'same', 1, 1)",
		// fails over the duplicates and leaves an INVALID index, as a failed apply can
		"CREATE UNIQUE INDEX CONCURRENTLY " + pgdialect.Quote(table+"_sku_key") + " ON " + qt + " (sku)",
	} {
		if _, err := p.Exec(ctx, s); err != nil && !strings.HasPrefix(s, "CREATE UNIQUE") {
			t.Fatalf("%s: %v", s, err)
		}
	}
	st, err := mg.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	drift := strings.Join(st.Drift, "\n")
	for _, want := range []string{
		fmt.Sprintf(`index "%s_category_idx" on "category" is missing`, table),
		fmt.Sprintf(`CHECK constraint "%s_status_check" allows draft, want draft, active, archived`, table),
		`column "weight" has default none, want 1`,
		`column "extra" (bigint) is not in the schema`,
		fmt.Sprintf(`index "%s_sku_key" is INVALID`, table),
	} {
		if !strings.Contains(drift, want) {
			t.Errorf("drift lacks %q:\n%s", want, drift)
		}
	}
	if st.OK() {
		t.Error("Status.OK with drift")
	}
	// The constructor checks the same against the applied state.
	if _, err := prodRepo(ctx, h, table, true, postgres.WithMigrations(pkg, dirs[1])); !errors.Is(err, postgres.ErrSchemaDrift) {
		t.Errorf("constructor on a drifted table: %v, want ErrSchemaDrift", err)
	}
}

// The generator's golden migrations apply on the server and leave no drift: reserved words
// and odd names, a renamed table with a time default, a required enum with a default; the
// day-2 history with its dropped field. Applying twice changes nothing, and each file runs
// again over its own result.
func TestMigrateGoldenFiles(t *testing.T) {
	for _, c := range []struct {
		dir    string
		tables []string
		rerun  int64 // the files after this version run again (1: every file but the baseline)
	}{
		{"reserved", []string{"Order", "select", "from_where"}, 1},
		{"day2", []string{"item", "review"}, 1},
		// a renamed field keeps its old name, its table moves, then the old name goes; the
		// files before the move name the old table, so only the newest runs again
		{"moves", []string{"item", "item_v2"}, 3},
	} {
		t.Run(c.dir, func(t *testing.T) {
			h := newHarness(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			pkg := migPackage(t, h, c.tables...)
			dir := os.DirFS("../../../generator/testdata/migrate/" + c.dir + "/expected/migrations")
			hist, err := migrate.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			mg := newMigrator(t, ctx, h, pkg, dir)
			got, err := mg.Apply(ctx)
			if err != nil || len(got) != len(hist) {
				t.Fatalf("Apply: %v, %v", got, err)
			}
			all := make([]int64, len(hist))
			for i := range all {
				all[i] = int64(i + 1)
			}
			checkStatus(t, ctx, mg, all, 0)
			if got, err := mg.Apply(ctx); err != nil || len(got) != 0 {
				t.Errorf("second Apply: %v, %v", got, err)
			}
			// Every file runs again over its own result (as after a failure half-way through
			// a NO TRANSACTION file, whose version goose did not record) without error.
			if _, err := poolOf(t, ctx, h).Exec(ctx, "DELETE FROM "+pgdialect.Quote(postgres.VersionTable(pkg))+" WHERE version_id > $1", c.rerun); err != nil {
				t.Fatal(err)
			}
			if got, err := mg.Apply(ctx); err != nil || len(got) != len(hist)-int(c.rerun) {
				t.Fatalf("Apply again over applied files: %v, %v", got, err)
			}
			checkStatus(t, ctx, mg, all, 0)
			if c.dir == "moves" { // the trigger's function moved with the table, and went with the old name
				var left bool
				if err := poolOf(t, ctx, h).QueryRow(ctx, `SELECT to_regprocedure('item_title_compat()') IS NOT NULL OR to_regprocedure('item_v2_title_compat()') IS NOT NULL`).Scan(&left); err != nil || left {
					t.Errorf("a compat function is left: %v, %v", left, err)
				}
			}
		})
	}
}
