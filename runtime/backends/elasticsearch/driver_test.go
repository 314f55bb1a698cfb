package elasticsearch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

func ptr[V any](v V) *V { return &v }

func openThings(t *testing.T, opts ...elasticsearch.Option) (context.Context, *repo.Collection[things.Thing], string) {
	t.Helper()
	cfg := testConfig(t)
	m := pool.New(pool.Options{})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	index := uniqueIndex(t, "thing")
	r, err := elasticsearch.NewRepository(ctx, m, cfg, things.ThingSchema, append([]elasticsearch.Option{elasticsearch.WithIndex(index)}, opts...)...)
	if err != nil {
		t.Fatalf("NewRepository: %v", err)
	}
	t.Cleanup(func() { _ = r.Close(); deleteIndex(t, m, cfg, index) })
	return ctx, r, index
}

// TestStreamPastResultWindow stores 12,500 records and reads them all back with Stream and
// Find (search_after in a point in time), sorted on an optional field in both directions.
func TestStreamPastResultWindow(t *testing.T) {
	ctx, r, _ := openThings(t)
	const n = 12500
	recs := make([]things.Thing, n)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range recs {
		recs[i] = things.Thing{ID: fmt.Sprintf("r%05d", i), Name: fmt.Sprintf("n%d", i%97), Count: int64(i), Created: t0.Add(time.Duration(i) * time.Microsecond)}
		if i%3 != 0 {
			recs[i].Rank = ptr(int64(i % 50))
		}
	}
	for start := 0; start < n; start += 5000 {
		res, err := r.CreateBatch(ctx, recs[start:min(start+5000, n)])
		if err != nil {
			t.Fatalf("CreateBatch: %v", err)
		}
		for _, x := range res {
			if x.Err != nil || x.Version == "" {
				t.Fatalf("CreateBatch %s: %v (version %q)", x.ID, x.Err, x.Version)
			}
		}
	}
	if c, err := r.Count(ctx, things.ThingQuery()); err != nil || c != n {
		t.Fatalf("Count = %d, %v; want %d", c, err, n)
	}
	F := things.ThingFields
	for _, desc := range []bool{false, true} {
		key := F.Rank.Asc()
		if desc {
			key = F.Rank.Desc()
		}
		var got []things.Thing
		for rec, err := range r.Stream(ctx, things.ThingQuery().OrderBy(key)) {
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			got = append(got, rec)
		}
		if len(got) != n {
			t.Fatalf("Stream (desc=%v) returned %d records, want %d", desc, len(got), n)
		}
		want := slices.Clone(recs)
		slices.SortStableFunc(want, func(a, b things.Thing) int {
			switch {
			case a.Rank == nil && b.Rank == nil:
				return strings.Compare(a.ID, b.ID)
			case a.Rank == nil:
				return 1
			case b.Rank == nil:
				return -1
			}
			c := int(*a.Rank - *b.Rank)
			if desc {
				c = -c
			}
			if c == 0 {
				return strings.Compare(a.ID, b.ID)
			}
			return c
		})
		for i := range want {
			if got[i].ID != want[i].ID {
				t.Fatalf("Stream (desc=%v) record %d = %s, want %s", desc, i, got[i].ID, want[i].ID)
			}
		}
	}
	// Find with a limit past the window, and a filter, also pages with search_after.
	found, err := r.Find(ctx, things.ThingQuery().Where(F.Count.GTE(100)).OrderBy(F.Created.Desc()).Limit(11000))
	if err != nil || len(found) != 11000 || found[0].ID != "r12499" || found[10999].ID != "r01500" {
		t.Fatalf("Find limit 11000 = %d records, %v", len(found), err)
	}
	// An offset past the result window is an error, never a silently short result.
	_, err = r.Find(ctx, things.ThingQuery().Offset(9995).Limit(10))
	if !errors.Is(err, repo.ErrInvalidInput) || !strings.Contains(err.Error(), "result window") {
		t.Fatalf("Find offset 9995 limit 10: %v, want ErrInvalidInput naming the result window", err)
	}
	if got, err := r.Find(ctx, things.ThingQuery().Offset(9990).Limit(10)); err != nil || len(got) != 10 || got[0].ID != "r09990" {
		t.Fatalf("Find offset 9990 limit 10 = %d records, %v", len(got), err)
	}
	// Page (keyset) goes past the window.
	q := things.ThingQuery().Where(F.Count.GTE(10000)).Limit(1000)
	cursor, pages, total := "", 0, 0
	for {
		p, err := r.Page(ctx, q, cursor)
		if err != nil {
			t.Fatalf("Page: %v", err)
		}
		pages++
		total += len(p.Items)
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if total != 2500 || pages != 3 {
		t.Fatalf("Page walked %d records in %d pages, want 2500 in 3", total, pages)
	}
}

// TestLongValues: a keyword value is indexed whole or rejected; never truncated. Values over
// Lucene's 32,766-byte term limit are refused by the portable limit (repo.MaxStringBytes)
// before the server is asked; past it (the driver called directly), the server's own refusal
// is still ErrInvalidInput for that record alone.
func TestLongValues(t *testing.T) {
	ctx, r, index := openThings(t)
	long := strings.Repeat("é", 15000) // 30,000 bytes: under Lucene's 32,766-byte term limit
	var le *repo.LimitError
	if _, err := r.Create(ctx, things.Thing{ID: "long", Name: long, Body: ptr(long + long), Created: time.Now()}); !errors.Is(err, repo.ErrInvalidInput) || !errors.As(err, &le) {
		t.Fatalf("60,000-byte text: %v, want ErrInvalidInput with a *repo.LimitError", err)
	}
	if _, err := r.Create(ctx, things.Thing{ID: "long", Name: long, Body: ptr(long), Created: time.Now()}); err != nil {
		t.Fatalf("Create 30,000-byte values: %v", err)
	}
	F := things.ThingFields
	got, err := r.Find(ctx, things.ThingQuery().Where(F.Name.EQ(long), F.Body.EQ(long)))
	if err != nil || len(got) != 1 {
		t.Fatalf("Find by the whole long value = %d, %v", len(got), err)
	}

	cfg := testConfig(t)
	m := pool.New(pool.Options{})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	d, err := elasticsearch.New(ctx, m, cfg, things.ThingSchema, elasticsearch.WithIndex(index))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	recs := []things.Thing{
		{ID: "b1", Name: "ok", Created: time.Now()},
		{ID: "b2", Name: strings.Repeat("x", 40000), Created: time.Now()},
		{ID: "b3", Name: "ok", Body: ptr(strings.Repeat("y", 32767)), Created: time.Now()},
		{ID: "b4", Name: "ok", Created: time.Now()},
	}
	res := make([]repo.Result, len(recs))
	if err := d.Insert(ctx, recs, res); err != nil {
		t.Fatalf("driver Insert with two values over the term limit: %v", err)
	}
	for i, x := range res {
		if bad := i == 1 || i == 2; bad != errors.Is(x.Err, repo.ErrInvalidInput) || (!bad && x.Err != nil) {
			t.Errorf("driver Insert item %d: %v", i, x.Err)
		}
	}
	for id, want := range map[string]bool{"b1": true, "b2": false, "b3": false, "b4": true} {
		if ok, _ := r.Exists(ctx, id); ok != want {
			t.Errorf("Exists(%s) = %v, want %v", id, ok, want)
		}
	}
}

// TestPatternInjection: wildcard and Lucene-regexp operators in LIKE, STARTS_WITH and REGEX
// operands are literals.
func TestPatternInjection(t *testing.T) {
	ctx, r, _ := openThings(t)
	names := []string{"a*c", "abc", "a?c", `a\c`, "a@c", "a~c", "a<1-9>c", "a5c", "a#c", "a&c", `a"c`, "ac"}
	var recs []things.Thing
	for i, s := range names {
		recs = append(recs, things.Thing{ID: fmt.Sprintf("p%02d", i), Name: s, Created: time.Now()})
	}
	if _, err := r.CreateBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	F := things.ThingFields
	for _, c := range []struct {
		cond query.Cond[things.Thing]
		want []string
	}{
		{F.Name.Like("a*c"), []string{"a*c"}},
		{F.Name.Like("a?c"), []string{"a?c"}},
		{F.Name.Like(`a\\c`), []string{`a\c`}},
		{F.Name.Like("a*%"), []string{"a*c"}},
		{F.Name.Like("%?c"), []string{"a?c"}},
		{F.Name.Like("a_c"), []string{"a*c", "abc", "a?c", `a\c`, "a@c", "a~c", "a5c", "a#c", "a&c", `a"c`}},
		{F.Name.StartsWith("a*"), []string{"a*c"}},
		{F.Name.StartsWith("a?"), []string{"a?c"}},
		{F.Name.Regex("a@c"), []string{"a@c"}},
		{F.Name.Regex("a~c"), []string{"a~c"}},
		{F.Name.Regex("a<1-9>c"), []string{"a<1-9>c"}},
		{F.Name.Regex("a#c"), []string{"a#c"}},
		{F.Name.Regex("a&c"), []string{"a&c"}},
		{F.Name.Regex(`a"c`), []string{`a"c`}},
		{F.Name.Regex(`a\*c`), []string{"a*c"}},
		{F.Name.EQ(`{"match_all":{}}`), nil},
	} {
		got, err := r.Find(ctx, things.ThingQuery().Where(c.cond))
		if err != nil {
			t.Fatalf("%s: %v", c.cond, err)
		}
		var gotNames []string
		for _, x := range got {
			gotNames = append(gotNames, x.Name)
		}
		slices.Sort(gotNames)
		want := slices.Sorted(slices.Values(c.want))
		if !slices.Equal(gotNames, want) {
			t.Errorf("%s = %q, want %q", c.cond, gotNames, want)
		}
	}
}

// TestMappingDrift: opening a repository on an index whose mapping differs from the schema
// fails with a DriftError naming each difference; a matching index opens.
func TestMappingDrift(t *testing.T) {
	cfg := testConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m := pool.New(pool.Options{})
	defer m.CloseAll(context.Background())
	index := uniqueIndex(t, "drift")
	defer deleteIndex(t, m, cfg, index)
	c, err := elasticsearch.NewClient(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"settings":{"number_of_replicas":0},"mappings":{"properties":{"id":{"type":"keyword"},"name":{"type":"text"},"extra":{"type":"long"}}}}`
	res, err := esapi.IndicesCreateRequest{Index: index, Body: strings.NewReader(body)}.Do(ctx, c.ES)
	if err != nil || res.IsError() {
		t.Fatalf("creating the index: %v %v", err, res)
	}
	res.Body.Close()
	_, err = elasticsearch.NewRepository(ctx, m, cfg, things.ThingSchema, elasticsearch.WithIndex(index))
	var de *elasticsearch.DriftError
	if !errors.As(err, &de) || !errors.Is(err, elasticsearch.ErrMappingDrift) || !errors.Is(err, repo.ErrInvalidInput) {
		t.Fatalf("NewRepository on a drifted index: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"name: index has", "extra: in the index", "count: missing in the index", "(root): index has"} {
		if !strings.Contains(msg, want) {
			t.Errorf("drift report does not contain %q:\n%s", want, msg)
		}
	}
	// A second repository on an index it created itself sees no drift.
	index2 := uniqueIndex(t, "nodrift")
	defer deleteIndex(t, m, cfg, index2)
	for range 2 {
		r, err := elasticsearch.NewRepository(ctx, m, cfg, things.ThingSchema, elasticsearch.WithIndex(index2))
		if err != nil {
			t.Fatalf("NewRepository on its own index: %v", err)
		}
		r.Close()
	}
	if !bytes.Contains(esdialect.Mapping(things.ThingSchema), []byte(`"dynamic": "strict"`)) {
		t.Errorf("mapping is not strict")
	}
}

// TestDirectDecode: generated records take the one-Unmarshal decoding path.
func TestDirectDecode(t *testing.T) {
	if !elasticsearch.DirectDecode(things.ThingSchema) || !elasticsearch.DirectDecode(things.OtherSchema) || !elasticsearch.DirectDecode(things.KeywordSchema) {
		t.Fatal("generated records are not decoded directly")
	}
	// And GetMany decodes them (every field type generated code has) in one pass.
	if !elasticsearch.FastDecode(things.ThingSchema) || !elasticsearch.FastDecode(things.OtherSchema) ||
		!elasticsearch.FastDecode(things.KeywordSchema) || !elasticsearch.FastDecode(things.MemberSchema) {
		t.Fatal("generated records are not decoded by codec.fast")
	}
}

// TestBulkChunks: CreateBatch split into many _bulk requests (by count and by bytes) still
// gives every record its own result, duplicates included.
func TestBulkChunks(t *testing.T) {
	for _, c := range []struct {
		name        string
		docs, bytes int
	}{{"by count", 7, 5 << 20}, {"by bytes", 1000, 600}} {
		t.Run(c.name, func(t *testing.T) {
			ctx, r, _ := openThings(t, elasticsearch.WithBatchSize(c.docs, c.bytes), elasticsearch.WithRefresh(elasticsearch.RefreshTrue))
			if _, err := r.Create(ctx, things.Thing{ID: "x10", Name: "pre", Created: time.Now()}); err != nil {
				t.Fatal(err)
			}
			var recs []things.Thing
			for i := range 50 {
				recs = append(recs, things.Thing{ID: fmt.Sprintf("x%02d", i), Name: "n", Count: int64(i), Created: time.Now()})
			}
			recs = append(recs, things.Thing{ID: "x20", Name: "dup", Created: time.Now()}) // a duplicate in a later chunk
			res, err := r.CreateBatch(ctx, recs)
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != len(recs) {
				t.Fatalf("%d results for %d records", len(res), len(recs))
			}
			for i, x := range res {
				wantExists := x.ID == "x10" || i == len(recs)-1
				switch {
				case x.ID != recs[i].ID:
					t.Errorf("result %d is for %s, want %s", i, x.ID, recs[i].ID)
				case wantExists && !errors.Is(x.Err, repo.ErrAlreadyExists):
					t.Errorf("%s: %v, want ErrAlreadyExists", x.ID, x.Err)
				case !wantExists && (x.Err != nil || x.Version == ""):
					t.Errorf("%s: %v (version %q)", x.ID, x.Err, x.Version)
				}
			}
			if n, err := r.Count(ctx, things.ThingQuery()); err != nil || n != 50 {
				t.Fatalf("Count = %d, %v; want 50", n, err)
			}
			if got, err := r.Get(ctx, "x20"); err != nil || got.Name != "n" {
				t.Fatalf("x20 = %+v, %v; the duplicate must not overwrite it", got, err)
			}
		})
	}
}
