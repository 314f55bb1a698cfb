package s3_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/repokit/repokit/internal/migratetest"
	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// migEnv is a fresh prefix on the test server and a pool manager.
func migEnv(t testing.TB) (context.Context, *pool.Manager, pool.S3PoolConfig) {
	t.Helper()
	cfg := testConfig(t)
	m := pool.New(pool.Options{KeepIdle: true})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	cfg.Prefix = freshPrefix(t, m, cfg)
	return context.Background(), m, cfg
}

// loadV1 stores n items with a driver without migrations (what today's constructors write)
// and returns them.
func loadV1(ctx context.Context, t testing.TB, m *pool.Manager, cfg pool.S3PoolConfig, n int, code func(i int) *string) []itemV1 {
	t.Helper()
	r, err := openItems(ctx, t, m, cfg, itemV1Schema)
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]itemV1, n)
	for i := range recs {
		recs[i] = itemV1{ID: fmt.Sprintf("i%06d", i), Name: fmt.Sprintf("n%d", i%7), Label: ptr(fmt.Sprint("label ", i)), Qty: int64(i), Status: ptr("done"), Code: code(i)}
		if i%3 == 0 {
			recs[i].Label = nil
		}
	}
	drivertest.CreateAll(ctx, t, r, recs)
	return recs
}

func codeOfIndex(i int) *string { return ptr(fmt.Sprint("c", i)) }

// checkUpgraded checks that got is v1 record w as version 2 code reads it.
func checkUpgraded(t *testing.T, w itemV1, got itemV2) {
	t.Helper()
	if got.ID != w.ID || got.Name != w.Name || got.Qty != float64(w.Qty) || got.Prio != 5 || got.Note != nil ||
		!eqPtr(got.Title, w.Label) || !eqPtr(got.Status, w.Status) || !eqPtr(got.Code, w.Code) {
		t.Fatalf("read %+v, want v1 %+v upgraded (title = label, qty float, prio 5)", got, w)
	}
}

func eqPtr[V comparable](a, b *V) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// TestMigrateUpgradeOnRead: a constructor with migrations on a store that has not applied
// them fails with ErrSchemaBehind; once the versions are recorded (without the rewrite),
// version 2 code reads the version 1 objects, upgraded, in every read path (filters and
// sorts see the upgraded values); Status reports the old objects, and the rewrite clears it.
func TestMigrateUpgradeOnRead(t *testing.T) {
	ctx, m, cfg := migEnv(t)
	v1 := loadV1(ctx, t, m, cfg, 60, codeOfIndex)
	fsys := history(t, 2)

	_, err := openItems(ctx, t, m, cfg, itemV2Schema, s3.WithMigrations("shop", fsys))
	migratetest.CheckBehind(t, err, 0, 1, 2)

	mg := newMigrator(ctx, t, m, cfg, fsys, s3.WithoutRewrite())
	st, err := mg.Status(ctx)
	if err != nil || len(st.Pending) != 2 || len(st.Applied) != 0 {
		t.Fatalf("status before: %+v, %v", st, err)
	}
	if got, err := mg.Apply(ctx); err != nil || !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("apply: %v, %v", got, err)
	}
	r, err := openItems(ctx, t, m, cfg, itemV2Schema, s3.WithMigrations("shop", fsys), s3.WithCache(0))
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 1, 59} {
		got, err := r.Get(ctx, v1[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		checkUpgraded(t, v1[i], got)
	}
	title := query.NewStringField[itemV2]("title")
	prio := query.NewIntField[itemV2]("prio")
	qty := query.NewFloatField[itemV2]("qty")
	for _, c := range []struct {
		name string
		q    query.Query[itemV2]
		want int
	}{
		{"default filled", query.New[itemV2]().Where(prio.EQ(5)), 60},
		{"renamed field", query.New[itemV2]().Where(title.EQ("label 1")), 1},
		{"renamed present", query.New[itemV2]().Where(title.Exists()), 40},
		{"widened", query.New[itemV2]().Where(qty.GTE(50.0)), 10},
	} {
		n, err := r.Count(ctx, c.q)
		if err != nil || n != int64(c.want) {
			t.Errorf("%s: Count %d, %v; want %d", c.name, n, err, c.want)
		}
		found, err := r.Find(ctx, c.q)
		if err != nil || len(found) != c.want {
			t.Errorf("%s: Find %d, %v; want %d", c.name, len(found), err, c.want)
		}
	}
	sorted, err := r.Find(ctx, query.New[itemV2]().OrderBy(qty.Desc()).Limit(2))
	if err != nil || len(sorted) != 2 || sorted[0].Qty != 59 || sorted[1].Qty != 58 {
		t.Fatalf("sorted by the widened field: %+v, %v", sorted, err)
	}
	recs, res := make([]itemV2, 2), make([]repo.Result, 2)
	err = r.Driver().(*s3.Driver[itemV2]).GetMany(ctx, []string{v1[3].ID, v1[4].ID}, recs, res)
	if err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatal(err, res)
	}
	checkUpgraded(t, v1[3], recs[0])
	checkUpgraded(t, v1[4], recs[1])

	st, err = mg.Status(ctx)
	if err != nil || st.OK() || len(st.Drift) != 2 || !strings.Contains(st.Drift[1], "Item: 60 objects at versions older than 2") {
		t.Fatalf("status with the rewrite pending: %q, %v", st.Drift, err)
	}
	// Writes of version 2 code are version 2 objects; the rewrite does the rest.
	if _, err := r.Create(ctx, itemV2{ID: "new", Name: "x", Qty: 1.5, Prio: 1}); err != nil {
		t.Fatal(err)
	}
	full := newMigrator(ctx, t, m, cfg, fsys)
	if got, err := full.Apply(ctx); err != nil || len(got) != 0 {
		t.Fatalf("rewrite: %v, %v", got, err)
	}
	if st, err = full.Status(ctx); err != nil || !st.OK() || !slices.Equal(st.Applied, []int64{1, 2}) {
		t.Fatalf("status after the rewrite: %+v, %v", st, err)
	}
	got, err := r.Get(ctx, v1[7].ID)
	if err != nil {
		t.Fatal(err)
	}
	checkUpgraded(t, v1[7], got)
	// The rewrite reserved the unique values: a second record with one is refused.
	_, err = r.Create(ctx, itemV2{ID: "dup", Name: "x", Code: v1[7].Code})
	wantKind(t, "create with a stored code", err, repo.ErrAlreadyExists)
}

// TestMigrateTwoAppliers: two migrators applying at once apply each version once.
func TestMigrateTwoAppliers(t *testing.T) {
	ctx, m, cfg := migEnv(t)
	loadV1(ctx, t, m, cfg, 200, codeOfIndex)
	fsys := history(t, 2)
	var wg sync.WaitGroup
	got := make([][]int64, 4)
	errs := make([]error, 4)
	for i := range got {
		mg := newMigrator(ctx, t, m, cfg, fsys)
		wg.Go(func() { got[i], errs[i] = mg.Apply(ctx) })
	}
	wg.Wait()
	var all []int64
	for i := range got {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		all = append(all, got[i]...)
	}
	slices.Sort(all)
	if !slices.Equal(all, []int64{1, 2}) {
		t.Fatalf("versions applied by the four appliers: %v, want each of 1, 2 once", got)
	}
	st, err := newMigrator(ctx, t, m, cfg, fsys).Status(ctx)
	if err != nil || !st.OK() || !slices.Equal(st.Applied, []int64{1, 2}) {
		t.Fatalf("status: %+v, %v", st, err)
	}
}

// TestMigrateResume: an apply that stops half-way through the rewrite (its context ends)
// leaves a checkpoint; the next apply resumes from it rather than from the start.
func TestMigrateResume(t *testing.T) {
	ctx, m, cfg := migEnv(t)
	const n = 1000
	loadV1(ctx, t, m, cfg, n, codeOfIndex)
	fsys := history(t, 2)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var first []migrate.Progress
	mg := newMigrator(ctx, t, m, cfg, fsys, s3.WithRewriteChunkForTest(100), s3.WithProgress(func(p migrate.Progress) {
		first = append(first, p)
		if strings.HasPrefix(p.Step, "rewrite") && p.Done >= 300 {
			cancel() // a crash after three checkpoints
		}
	}))
	if _, err := mg.Apply(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("the interrupted apply: %v", err)
	}
	st, err := mg.Status(ctx)
	if err != nil || st.OK() || len(st.Pending) != 0 {
		t.Fatalf("status after the interruption: %+v, %v", st, err)
	}
	var done int64
	again := newMigrator(ctx, t, m, cfg, fsys, s3.WithRewriteChunkForTest(100), s3.WithProgress(func(p migrate.Progress) {
		if strings.HasPrefix(p.Step, "rewrite Item") {
			done = p.Done
		}
	}))
	if got, err := again.Apply(ctx); err != nil || len(got) != 0 {
		t.Fatalf("the resumed apply: %v, %v", got, err)
	}
	if done == 0 || done > n-300 {
		t.Fatalf("the resumed apply went through %d objects, want at most %d (it resumes after the checkpoint)", done, n-300)
	}
	if st, err = again.Status(ctx); err != nil || !st.OK() {
		t.Fatalf("status after the resumed apply: %+v, %v", st, err)
	}
}

// TestMigrateAbandonedLock: the lock of an applier that crashed (never renewed, never
// deleted) is taken over once it has stayed unchanged for a whole lease.
func TestMigrateAbandonedLock(t *testing.T) {
	ctx, m, cfg := migEnv(t)
	l, err := pool.Get(ctx, m, cfg, s3.Hooks())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	key := cfg.Prefix + "/.repokit-migrations/shop.lock"
	if _, err := l.Pool().API.PutObject(ctx, &awss3.PutObjectInput{Bucket: &cfg.Bucket, Key: &key, Body: strings.NewReader(`{"owner":"crashed"}`)}); err != nil {
		t.Fatal(err)
	}
	mg := newMigrator(ctx, t, m, cfg, history(t, 2), s3.WithLockLease(time.Second))
	if got, err := mg.Apply(ctx); err != nil || !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("apply past an abandoned lock: %v, %v", got, err)
	}
	if _, err := l.Pool().API.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &cfg.Bucket, Key: &key}); err == nil {
		t.Error("the lock is still there after apply")
	}
}

// TestMigratePlan: Plan lists the steps of every pending version without doing them, and
// nothing once they are applied.
func TestMigratePlan(t *testing.T) {
	ctx, m, cfg := migEnv(t)
	mg := newMigrator(ctx, t, m, cfg, history(t, 2))
	steps, err := mg.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var text []string
	for _, s := range steps {
		text = append(text, fmt.Sprintf("%d %v %s", s.Version, s.Online, s.Text))
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{
		"1 true record version 1 (baseline) as applied",
		"2 true Item.code: reserve the value of every object",
		"2 true Item.title: rename field from label (objects of older versions are upgraded when read, then rewritten)",
		"2 true Tag: new record",
		"2 true record version 2 (day2) as applied",
		"2 true Item: rewrite objects under " + cfg.Prefix + "/item/ older than version 2",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("plan lacks %q:\n%s", want, all)
		}
	}
	if st, err := mg.Status(ctx); err != nil || len(st.Applied) != 0 {
		t.Fatalf("plan applied something: %+v, %v", st, err)
	}
	if _, err := mg.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	if steps, err := mg.Plan(ctx); err != nil || len(steps) != 0 {
		t.Fatalf("plan after apply: %v, %v", steps, err)
	}
}
