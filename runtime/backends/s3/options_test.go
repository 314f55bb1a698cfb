package s3_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// sharedPrefix returns a pool manager and a config under a fresh config prefix, for tests
// that put several drivers (or "processes": drivers on separate managers, so separate
// clients and caches) on the same objects.
func sharedPrefix(t *testing.T) (context.Context, *pool.Manager, pool.S3PoolConfig) {
	t.Helper()
	cfg := testConfig(t)
	m := pool.New(pool.Options{KeepIdle: true})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	cfg.Prefix = freshPrefix(t, m, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx, m, cfg
}

func openThings(ctx context.Context, t *testing.T, m *pool.Manager, cfg pool.S3PoolConfig, opts ...s3.Option) (*s3.Driver[things.Thing], *repo.Collection[things.Thing]) {
	t.Helper()
	d, err := s3.New(ctx, m, cfg, things.ThingSchema, opts...)
	if err != nil {
		t.Fatal(err)
	}
	r := repo.New(things.ThingSchema, d)
	t.Cleanup(func() { _ = r.Close() })
	return d, r
}

// listKeys returns every key under prefix in the bucket, whatever the driver.
func listKeys(ctx context.Context, t *testing.T, m *pool.Manager, cfg pool.S3PoolConfig, prefix string) []string {
	t.Helper()
	l, err := pool.Get(ctx, m, cfg, s3.Hooks())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	var keys []string
	p := awss3.NewListObjectsV2Paginator(l.Pool().API, &awss3.ListObjectsV2Input{Bucket: &cfg.Bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

func ids(recs []things.Thing) []string {
	out := make([]string, len(recs))
	for i := range recs {
		out[i] = recs[i].ID
	}
	return out
}

// TestWithPrefix checks that WithPrefix replaces the record's prefix in the object keys and
// that repositories on different prefixes of one bucket, sibling prefixes included, see
// only their own records.
func TestWithPrefix(t *testing.T) {
	ctx, m, cfg := sharedPrefix(t)
	da, ra := openThings(ctx, t, m, cfg, s3.WithPrefix("/alpha/"))
	db, rb := openThings(ctx, t, m, cfg, s3.WithPrefix("alpha2"))
	dn, rn := openThings(ctx, t, m, cfg, s3.WithPrefix("nested/deeper"))
	_, rd := openThings(ctx, t, m, cfg) // the record's own prefix, from the schema

	for _, c := range []struct {
		d    *s3.Driver[things.Thing]
		want string
	}{
		{da, cfg.Prefix + "/alpha/"},
		{db, cfg.Prefix + "/alpha2/"},
		{dn, cfg.Prefix + "/nested/deeper/"},
	} {
		if got := c.d.Prefix(); got != c.want {
			t.Errorf("Prefix() = %q, want %q", got, c.want)
		}
	}

	mk := func(id, name string) things.Thing {
		return things.Thing{ID: id, Name: name, Created: time.Unix(0, 0).UTC()}
	}
	for _, w := range []struct {
		r    *repo.Collection[things.Thing]
		recs []things.Thing
	}{
		{ra, []things.Thing{mk("shared", "alpha"), mk("only-a", "alpha")}},
		{rb, []things.Thing{mk("shared", "alpha2")}},
		{rn, []things.Thing{mk("shared", "nested")}},
		{rd, []things.Thing{mk("shared", "default")}},
	} {
		if _, err := w.r.CreateBatch(ctx, w.recs); err != nil {
			t.Fatal(err)
		}
	}

	// The objects are where the prefixes say, one per record.
	want := []string{
		da.Key("only-a"), da.Key("shared"), db.Key("shared"), dn.Key("shared"),
		cfg.Prefix + "/" + things.ThingSchema.Prefix + "/" + s3.EscapeID("shared"),
	}
	slices.Sort(want)
	if got := listKeys(ctx, t, m, cfg, cfg.Prefix+"/"); !slices.Equal(got, want) {
		t.Errorf("keys in the bucket:\n got %q\nwant %q", got, want)
	}

	// Each repository sees only its own records.
	for _, c := range []struct {
		name string
		r    *repo.Collection[things.Thing]
		ids  []string
		who  string
	}{
		{"alpha", ra, []string{"only-a", "shared"}, "alpha"},
		{"alpha2", rb, []string{"shared"}, "alpha2"},
		{"nested", rn, []string{"shared"}, "nested"},
		{"default", rd, []string{"shared"}, "default"},
	} {
		got, err := c.r.Find(ctx, things.ThingQuery())
		if err != nil || !slices.Equal(ids(got), c.ids) {
			t.Errorf("%s: Find = %v, %v; want %v", c.name, ids(got), err, c.ids)
			continue
		}
		for _, g := range got {
			if g.Name != c.who {
				t.Errorf("%s: record %s has name %q, written through another prefix", c.name, g.ID, g.Name)
			}
		}
		if g, err := c.r.Get(ctx, "shared"); err != nil || g.Name != c.who {
			t.Errorf("%s: Get(shared) = %q, %v", c.name, g.Name, err)
		}
	}
	if _, err := rb.Get(ctx, "only-a"); !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("alpha2 sees alpha's record: %v", err)
	}
	// Deleting through one prefix leaves the others alone.
	if err := ra.Delete(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*repo.Collection[things.Thing]{rb, rn, rd} {
		if ok, err := r.Exists(ctx, "shared"); err != nil || !ok {
			t.Errorf("a delete under alpha removed another prefix's record: %v, %v", ok, err)
		}
	}
}

// getCounter counts the GetObject requests (GETs that are not listings) a driver sends.
type getCounter struct{ n atomic.Int64 }

func (c *getCounter) install(d *s3.Driver[things.Thing]) {
	s3.WrapHTTPForTest(d, func(next awss3.HTTPClient) awss3.HTTPClient {
		return s3.HTTPDoer(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodGet && !r.URL.Query().Has("list-type") {
				c.n.Add(1)
			}
			return next.Do(r)
		})
	})
}

// take returns the GETs counted since the last take.
func (c *getCounter) take() int64 { return c.n.Swap(0) }

// TestWithCache checks the record cache: a query served again from the cache sends no GET
// for unchanged objects and returns the same records; a write by the same repository or by
// another one (another client and cache, as in another process) is seen by the next query,
// which reads exactly the changed objects; the cache holds at most its size, and
// WithCache(0) turns it off.
func TestWithCache(t *testing.T) {
	ctx, m, cfg := sharedPrefix(t)
	const n = 12
	seed := someThings(n, "k")
	_, writer := openThings(ctx, t, m, cfg, s3.WithCache(0))
	if _, err := writer.CreateBatch(ctx, seed); err != nil {
		t.Fatal(err)
	}
	names := func(recs []things.Thing) string {
		var b strings.Builder
		for _, r := range recs {
			b.WriteString(r.ID + "=" + r.Name + " ")
		}
		return b.String()
	}

	t.Run("invalidation", func(t *testing.T) {
		d, r := openThings(ctx, t, m, cfg, s3.WithConcurrency(4))
		var gets getCounter
		gets.install(d)
		// Another process: its own manager, client and cache.
		m2 := pool.New(pool.Options{})
		t.Cleanup(func() { _ = m2.CloseAll(context.Background()) })
		_, other := openThings(ctx, t, m2, cfg)

		find := func(step string, wantGets int64, check func([]things.Thing) error) {
			t.Helper()
			got, err := r.Find(ctx, things.ThingQuery().OrderBy(things.ThingFields.Count.Desc()))
			if err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			if g := gets.take(); g != wantGets {
				t.Errorf("%s: %d GETs, want %d", step, g, wantGets)
			}
			if err := check(got); err != nil {
				t.Errorf("%s: %v (%s)", step, err, names(got))
			}
			// Every record returned carries the version stored now.
			for _, g := range got {
				cur, err := writer.Get(ctx, g.ID)
				if err != nil || cur.RecordVersion != g.RecordVersion || cur.Name != g.Name {
					t.Errorf("%s: %s returned as %q/%s, stored %q/%s (%v)", step, g.ID, g.Name, g.RecordVersion, cur.Name, cur.RecordVersion, err)
				}
			}
		}
		count := func(want int) func([]things.Thing) error {
			return func(got []things.Thing) error {
				if len(got) != want {
					return errors.New("wrong number of records")
				}
				return nil
			}
		}
		find("first query", n, count(n))
		find("same query again", 0, count(n))

		// A write by this repository.
		u := seed[3]
		u.Name = "mine"
		if _, err := r.Update(ctx, u); err != nil {
			t.Fatal(err)
		}
		find("after this repository's Update", 1, count(n))
		find("again", 0, count(n))

		// Writes by another process: update, delete, create.
		u = seed[5]
		u.Name = "theirs"
		if _, err := other.Update(ctx, u); err != nil {
			t.Fatal(err)
		}
		find("after another process's Update", 1, count(n))
		if err := other.Delete(ctx, seed[7].ID); err != nil {
			t.Fatal(err)
		}
		find("after another process's Delete", 0, count(n-1))
		if _, err := other.Create(ctx, seed[7]); err != nil { // same id and content, new object
			t.Fatal(err)
		}
		find("after another process re-created it", 1, count(n))
		// Identical content written again by another process still gets a new ETag.
		if _, err := other.Upsert(ctx, seed[0]); err != nil {
			t.Fatal(err)
		}
		find("after another process rewrote identical content", 1, count(n))
		find("again", 0, count(n))

		// Get and Exists never use the cache.
		u = seed[9]
		u.Name = "theirs again"
		if _, err := other.Update(ctx, u); err != nil {
			t.Fatal(err)
		}
		if g, err := r.Get(ctx, u.ID); err != nil || g.Name != "theirs again" || gets.take() != 1 {
			t.Errorf("Get after another process's Update: %q, %v", g.Name, err)
		}
	})

	for _, c := range []struct {
		name  string
		opts  []s3.Option
		again func(int64) bool // GETs of the second query
		want  string
	}{
		{"default size", nil, func(g int64) bool { return g == 0 }, "0"},
		{"off", []s3.Option{s3.WithCache(0)}, func(g int64) bool { return g == n }, "all"},
		// At most 3 records are cached when the second query starts, and it can only hit
		// those (the ones it reads evict arbitrary entries, so fewer may hit).
		{"bounded", []s3.Option{s3.WithCache(3)}, func(g int64) bool { return g >= n-3 && g <= n }, "all but at most 3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, r := openThings(ctx, t, m, cfg, append(c.opts, s3.WithConcurrency(1))...)
			var gets getCounter
			gets.install(d)
			for i := range 2 {
				got, err := r.Find(ctx, things.ThingQuery())
				if err != nil || len(got) != n {
					t.Fatalf("Find: %d records, %v", len(got), err)
				}
				g := gets.take()
				if i == 0 && g != n {
					t.Errorf("first query: %d GETs, want %d", g, n)
				}
				if i == 1 && !c.again(g) {
					t.Errorf("second query: %d GETs, want %s", g, c.want)
				}
			}
		})
	}
}

// New refuses a config that is not an S3 config — another backend's, a nil pointer — with
// pool.ErrInvalidConfig before taking a pool (needs no server).
func TestNewConfigType(t *testing.T) {
	m := pool.New(pool.Options{})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	var nilCfg *pool.S3PoolConfig
	for _, cfg := range []pool.Config{nilCfg, pool.NewPostgresPoolConfig(), pool.Prepare(pool.NewPostgresPoolConfig())} {
		_, err := s3.New(t.Context(), m, cfg, things.ThingSchema)
		if !errors.Is(err, pool.ErrInvalidConfig) || !strings.Contains(err.Error(), "want pool.S3PoolConfig") {
			t.Errorf("%T: got %v, want pool.ErrInvalidConfig naming pool.S3PoolConfig", cfg, err)
		}
	}
	if n := m.Len(); n != 0 {
		t.Errorf("the manager holds %d pools after refused configs, want 0", n)
	}
}
