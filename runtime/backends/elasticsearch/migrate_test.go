package elasticsearch_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/repokit/repokit/internal/migratetest"
	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// history plans migrations through the given states (as `repokit migrate diff` would) and
// returns the migrations directory after each of them.
func history(t testing.TB, allowDestructive bool, states ...migrate.Schema) []fstest.MapFS {
	t.Helper()
	dirs, _ := migratetest.Dirs(t, nil, migratetest.Named(allowDestructive, nil, states...)...)
	return dirs
}

// migEnv is a cluster, a package name and fresh index names for one migration test; the
// indices (and the package's state documents' index) are deleted when it ends.
type migEnv struct {
	ctx               context.Context
	cfg               pool.ElasticsearchPoolConfig
	m                 *pool.Manager
	pkg, state        string
	index, tags       string
	v1, v2            migrate.Schema
	migrationsV1, all fs.FS
}

func newMigEnv(t testing.TB) *migEnv {
	cfg := testConfig(t)
	m := pool.New(pool.Options{})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	e := &migEnv{ctx: ctx, cfg: cfg, m: m, index: uniqueIndex(t, "item"), tags: uniqueIndex(t, "tag")}
	e.pkg, e.state = e.index, uniqueIndex(t, "state")
	e.v1, e.v2 = itemSchemas(e.index, e.tags)
	dirs := history(t, false, e.v1, e.v2)
	e.migrationsV1, e.all = dirs[0], dirs[1]
	t.Cleanup(func() {
		for _, ix := range []string{e.index, e.index + "_v1", e.index + "_v2", e.index + "_v3", e.index + "-unique", e.tags + "_v2", e.state} {
			deleteIndex(t, m, cfg, ix)
		}
	})
	return e
}

func (e *migEnv) migrator(t testing.TB, fsys fs.FS, opts ...elasticsearch.MigrateOption) *elasticsearch.Migrator {
	t.Helper()
	mg, err := elasticsearch.NewMigrator(e.ctx, e.m, e.cfg, e.pkg, fsys, append([]elasticsearch.MigrateOption{elasticsearch.WithStateIndex(e.state), elasticsearch.WithOlderCodeGrace(0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mg.Close() })
	return mg
}

// v1 opens a repository of version 1 as today's constructors do (no migrations).
func (e *migEnv) v1Repo(t testing.TB) *repo.Collection[item1] {
	t.Helper()
	r, err := elasticsearch.NewRepository(e.ctx, e.m, e.cfg, item1Desc, elasticsearch.WithIndex(e.index), elasticsearch.WithRefresh(elasticsearch.RefreshFalse))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *migEnv) v2Repo(fsys fs.FS) (*repo.Collection[item2], error) {
	return openAt(e, item2Desc, fsys)
}

// openAt opens a repository of desc on the test index as code whose migrations are fsys
// opens it (the state in e.state), with opts after those.
func openAt[T any](e *migEnv, desc *record.Desc[T], fsys fs.FS, opts ...elasticsearch.Option) (*repo.Collection[T], error) {
	return elasticsearch.NewRepository(e.ctx, e.m, e.cfg, desc, append([]elasticsearch.Option{elasticsearch.WithIndex(e.index),
		elasticsearch.WithMigrations(e.pkg, fsys), elasticsearch.WithMigrationStateIndex(e.state)}, opts...)...)
}

// mustOpenAt is openAt failing t on an error; the repository is closed when t ends.
func mustOpenAt[T any](t testing.TB, e *migEnv, desc *record.Desc[T], fsys fs.FS, opts ...elasticsearch.Option) *repo.Collection[T] {
	t.Helper()
	r, err := openAt(e, desc, fsys, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// addFields applies, over version 1 (migrations dirs[0]), a version 2 that adds fields, and
// returns the migrations directory of each version.
func (e *migEnv) addFields(t testing.TB, fields ...migrate.Field) []fstest.MapFS {
	t.Helper()
	v2 := e.v1.Clone()
	v2.Records[0].Fields = append(v2.Records[0].Fields, fields...)
	dirs := history(t, false, e.v1, v2)
	if _, err := e.migrator(t, dirs[1]).Apply(e.ctx); err != nil {
		t.Fatal(err)
	}
	return dirs
}

func loadItems(t testing.TB, e *migEnv, r *repo.Collection[item1], n int) map[string]item1 {
	t.Helper()
	want := make(map[string]item1, n)
	recs := make([]item1, n)
	for i := range recs {
		recs[i] = item1{ID: fmt.Sprintf("i-%05d", i), Name: fmt.Sprintf("item %d", i), Qty: int64(i), Kind: []string{"a", "b"}[i%2],
			Sku: fmt.Sprintf("sku-%05d", i), Label: fmt.Sprintf("label %d", i), Score: int64(i % 100)}
		want[recs[i].ID] = recs[i]
	}
	drivertest.CreateAll(e.ctx, t, r, recs)
	return want
}

// TestMigrateDay2 loads 20,000 version-1 documents into an index made by today's
// constructor, then applies the baseline (adopting the index behind an alias, a copy) and
// version 2 (rename, widening: a second copy; new fields with a default, a unique field, an
// enum value, an indexed field, a new record) while writers of version 1 keep creating and
// updating. Every acknowledged write must then read back through version 2 with the rename
// and the defaults applied, no writer call may fail, sku must be unique and Status clean.
func TestMigrateDay2(t *testing.T) {
	e := newMigEnv(t)
	r1 := e.v1Repo(t)
	want := loadItems(t, e, r1, 20000)

	var (
		mu       sync.Mutex
		failures []error
		writes   atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				rec := item1{ID: fmt.Sprintf("w%d-%05d", w, n), Name: "written", Qty: int64(n), Kind: "b",
					Sku: fmt.Sprintf("sku-w%d-%05d", w, n), Label: fmt.Sprintf("new %d/%d", w, n), Score: int64(n)}
				_, err := r1.Create(e.ctx, rec)
				if err == nil {
					writes.Add(1)
					mu.Lock()
					want[rec.ID] = rec
					old := want[fmt.Sprintf("i-%05d", (n*3+w)%20000)]
					mu.Unlock()
					old.Label, old.Qty = fmt.Sprintf("updated by %d at %d", w, n), old.Qty+1
					_, err = r1.Update(e.ctx, old)
					if err == nil {
						writes.Add(1)
						mu.Lock()
						want[old.ID] = old
						mu.Unlock()
					}
				}
				if err != nil {
					mu.Lock()
					failures = append(failures, err)
					mu.Unlock()
					return
				}
			}
		}()
	}

	var steps []string
	var progress atomic.Int64
	mg := e.migrator(t, e.all, elasticsearch.WithProgress(func(migrate.Progress) { progress.Add(1) }))
	plan, err := mg.Plan(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range plan {
		steps = append(steps, fmt.Sprintf("v%d %s", s.Version, s.Text))
	}
	before := writes.Load()
	applied, err := mg.Apply(e.ctx)
	during := writes.Load() - before
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Apply: %v\nplan:\n%v", err, steps)
	}
	if fmt.Sprint(applied) != "[1 2]" {
		t.Fatalf("Apply applied %v, want [1 2]", applied)
	}
	for _, f := range failures {
		t.Errorf("a writer call failed during the migration: %v", f)
	}
	if during == 0 || progress.Load() == 0 {
		t.Errorf("%d writes acknowledged during Apply and %d progress reports; want some of both", during, progress.Load())
	}
	t.Logf("%d writes acknowledged during Apply; plan:\n%v", during, steps)

	r2, err := e.v2Repo(e.all)
	if err != nil {
		t.Fatalf("opening version 2 after Apply: %v", err)
	}
	defer r2.Close()
	if _, err := e.migrator(t, e.all).Apply(e.ctx); err != nil {
		t.Fatalf("second Apply: %v", err)
	}
	got := map[string]item2{}
	for rec, err := range r2.Stream(e.ctx, query.New[item2]()) {
		if err != nil {
			t.Fatal(err)
		}
		got[rec.ID] = rec
	}
	if len(got) != len(want) {
		t.Errorf("%d documents after the migration, want %d", len(got), len(want))
	}
	bad := 0
	for id, w := range want {
		g, ok := got[id]
		if !ok || g.Title != w.Label || g.Score != float64(w.Score) || g.Status != "new" || g.Qty != w.Qty || g.Sku != w.Sku || g.Note != nil {
			if bad++; bad <= 5 {
				t.Errorf("%s: got %+v (found %v), want version 1 %+v with title moved and status \"new\"", id, g, ok, w)
			}
		}
	}
	if _, err := r2.Create(e.ctx, item2{ID: "dup", Name: "d", Kind: "c", Sku: "sku-00007", Title: "t", Status: "new"}); !errors.Is(err, repo.ErrAlreadyExists) {
		t.Errorf("Create with the sku of a stored item: %v, want ErrAlreadyExists", err)
	}
	if _, err := r2.Create(e.ctx, item2{ID: "c-kind", Name: "c", Kind: "c", Sku: "sku-new", Title: "t", Score: 1.5, Status: "done"}); err != nil {
		t.Errorf("Create of version 2 (new enum value, float score): %v", err)
	}
	// Version 2 code writes the record the migration adds, and finds it.
	tags, err := elasticsearch.NewRepository(e.ctx, e.m, e.cfg, tagDocDesc, elasticsearch.WithIndex(e.tags),
		elasticsearch.WithMigrations(e.pkg, e.all), elasticsearch.WithMigrationStateIndex(e.state))
	if err != nil {
		t.Fatalf("the added record's constructor after Apply: %v", err)
	}
	defer tags.Close()
	newTags := make([]tagDoc, 12)
	for i := range newTags {
		newTags[i] = tagDoc{ID: fmt.Sprint("t", i), Label: fmt.Sprint("tag ", i%4)}
	}
	if res, err := tags.CreateBatch(e.ctx, newTags); err != nil || slices.ContainsFunc(res, func(r repo.Result) bool { return r.Err != nil }) {
		t.Fatalf("CreateBatch of the added record: %v, %v", res, err)
	}
	if found, err := tags.Find(e.ctx, query.New[tagDoc]().Where(query.NewStringField[tagDoc]("label").EQ("tag 1"))); err != nil || len(found) != 3 {
		t.Errorf("Find of the added record: %d, %v; want 3", len(found), err)
	}
	st, err := mg.Status(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.OK() || fmt.Sprint(st.Applied) != "[1 2]" {
		t.Errorf("Status: applied %v, pending %d, drift %q; want [1 2], none, none", st.Applied, len(st.Pending), st.Drift)
	}
	if ok, err := indexExists(e, e.index+"_v1"); err != nil || !ok {
		t.Errorf("the index of version 1 was not kept: %v %v", ok, err)
	}
}

func indexExists(e *migEnv, name string) (bool, error) {
	c, err := elasticsearch.NewClient(e.ctx, e.cfg)
	if err != nil {
		return false, err
	}
	res, err := c.ES.Indices.Exists([]string{name})
	if err != nil {
		return false, err
	}
	res.Body.Close()
	return res.StatusCode == 200, nil
}

// TestMigrateTwoAppliers runs two migrators at once on one cluster: each version is
// applied by exactly one of them.
func TestMigrateTwoAppliers(t *testing.T) {
	e := newMigEnv(t)
	loadItems(t, e, e.v1Repo(t), 500)
	var wg sync.WaitGroup
	res := make([][]int64, 2)
	errs := make([]error, 2)
	for i := range 2 {
		mg := e.migrator(t, e.all)
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i], errs[i] = mg.Apply(e.ctx)
		}()
	}
	wg.Wait()
	seen := map[int64]int{}
	for i := range 2 {
		if errs[i] != nil {
			t.Fatalf("migrator %d: %v", i, errs[i])
		}
		for _, v := range res[i] {
			seen[v]++
		}
	}
	if len(seen) != 2 || seen[1] != 1 || seen[2] != 1 {
		t.Errorf("applied %v and %v; want versions 1 and 2 once each", res[0], res[1])
	}
	if n, err := e.v2Count(); err != nil || n != 500 {
		t.Errorf("%d documents after the migration (%v), want 500", n, err)
	}
}

func (e *migEnv) v2Count() (int64, error) {
	r, err := e.v2Repo(e.all)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	return r.Count(e.ctx, query.New[item2]())
}

// TestMigrateDropField applies a migration that drops a field (allowed as destructive):
// the documents lose it, through a copy, and Status reports no drift.
func TestMigrateDropField(t *testing.T) {
	e := newMigEnv(t)
	v3 := e.v1.Clone()
	v3.Records[0].Fields = slices.DeleteFunc(v3.Records[0].Fields, func(f migrate.Field) bool { return f.Name == "label" })
	dirs := history(t, true, e.v1, v3)
	loadItems(t, e, e.v1Repo(t), 300)
	mg := e.migrator(t, dirs[1])
	if v, err := mg.Apply(e.ctx); err != nil || fmt.Sprint(v) != "[1 2]" {
		t.Fatalf("Apply: %v %v", v, err)
	}
	c, err := elasticsearch.NewClient(e.ctx, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.ES.Search(c.ES.Search.WithIndex(e.index), c.ES.Search.WithQuery("_exists_:label"), c.ES.Search.WithContext(e.ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Hits struct {
			Total struct{ Value int } `json:"total"`
		} `json:"hits"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.IsError() {
		t.Fatalf("search: %v %s", err, res)
	}
	if out.Hits.Total.Value != 0 {
		t.Errorf("%d documents still hold the dropped field", out.Hits.Total.Value)
	}
	st, err := mg.Status(e.ctx)
	if err != nil || !st.OK() {
		t.Errorf("Status: %+v %v; want no pending and no drift", st, err)
	}
}

// TestMigrateBehind opens a version-2 repository on a cluster that applied nothing, then
// only the baseline: both fail with ErrSchemaBehind naming the pending versions; after
// Apply it opens.
func TestMigrateBehind(t *testing.T) {
	e := newMigEnv(t)
	loadItems(t, e, e.v1Repo(t), 10)
	check := func(applied int64, pending ...int64) {
		t.Helper()
		_, err := e.v2Repo(e.all)
		migratetest.CheckBehind(t, err, applied, pending...)
	}
	check(0, 1, 2)
	if _, err := e.migrator(t, e.migrationsV1).Apply(e.ctx); err != nil {
		t.Fatal(err)
	}
	check(1, 2)
	plan, err := e.migrator(t, e.all).Plan(e.ctx)
	if err != nil || len(plan) == 0 || plan[0].Version != 2 {
		t.Fatalf("Plan: %v %v, want the steps of version 2", plan, err)
	}
	check(1, 2) // Plan changed nothing
	if _, err := e.migrator(t, e.all).Apply(e.ctx); err != nil {
		t.Fatal(err)
	}
	r, err := e.v2Repo(e.all)
	if err != nil {
		t.Fatalf("opening version 2 after Apply: %v", err)
	}
	r.Close()
}

// TestMigrateDropUnique makes sku unique (its values reserved by the first version-2
// repository), then not unique: the migration deletes its reservations.
func TestMigrateDropUnique(t *testing.T) {
	for _, custom := range []bool{false, true} {
		t.Run(fmt.Sprintf("own unique index %v", custom), func(t *testing.T) { testMigrateDropUnique(t, custom) })
	}
}

// testMigrateDropUnique is TestMigrateDropUnique, with custom: on repositories that name
// their unique index (WithUniqueIndex) and a migrator told so (WithRecordUniqueIndex).
func testMigrateDropUnique(t *testing.T, custom bool) {
	e := newMigEnv(t)
	v3 := e.v2.Clone()
	v3.Records[0].Field("sku").Unique = false
	dirs := history(t, false, e.v1, e.v2, v3)
	uindex := e.index + elasticsearch.UniqueIndexSuffix
	var ropts []elasticsearch.Option
	var mopts []elasticsearch.MigrateOption
	if custom {
		uindex = e.index + "-own-reservations"
		t.Cleanup(func() { deleteIndex(t, e.m, e.cfg, uindex) })
		ropts = append(ropts, elasticsearch.WithUniqueIndex(uindex))
		mopts = append(mopts, elasticsearch.WithRecordUniqueIndex("Item", uindex))
	}
	loadItems(t, e, e.v1Repo(t), 50)
	if _, err := e.migrator(t, dirs[1], mopts...).Apply(e.ctx); err != nil {
		t.Fatal(err)
	}
	r, err := elasticsearch.NewRepository(e.ctx, e.m, e.cfg, item2Desc, append([]elasticsearch.Option{elasticsearch.WithIndex(e.index),
		elasticsearch.WithMigrations(e.pkg, dirs[1]), elasticsearch.WithMigrationStateIndex(e.state)}, ropts...)...)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	reservations := func() int64 {
		c, err := elasticsearch.NewClient(e.ctx, e.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res, err := c.ES.Indices.Refresh(c.ES.Indices.Refresh.WithIndex(uindex)); err == nil {
			res.Body.Close()
		}
		res, err := c.ES.Count(c.ES.Count.WithIndex(uindex), c.ES.Count.WithContext(e.ctx))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out struct{ Count int64 }
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out.Count
	}
	if n := reservations(); n < 50 {
		t.Fatalf("%d reservations in %s after opening version 2, want at least 50", n, uindex)
	}
	if v, err := e.migrator(t, dirs[2], mopts...).Apply(e.ctx); err != nil || fmt.Sprint(v) != "[3]" {
		t.Fatalf("Apply: %v %v", v, err)
	}
	if n := reservations(); n != 0 {
		t.Errorf("%d reservations in %s after dropping unique, want 0", n, uindex)
	}
}
