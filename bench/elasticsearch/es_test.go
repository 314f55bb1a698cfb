// Package elasticsearch compares repokit's Elasticsearch backend with hand-written
// go-elasticsearch code on the same index: CreateBatch vs a per-document index loop and vs
// esutil.BulkIndexer, a filtered, sorted Find vs the same esapi search request, and reading
// 1000 records at once (GetBatch's _mget) vs a loop of Get calls, and the CPU time of
// both sides on the node and in the client.
//
//	eval "$(scripts/services/elasticsearch.sh start)"
//	cd bench && go test ./elasticsearch -run '^$' -bench . -benchtime 5x
package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/elastic/go-elasticsearch/v8/esutil"

	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	es "github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

type side struct {
	d      time.Duration
	allocs uint64
}

func (s *side) measure(fn func()) {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	t := time.Now()
	fn()
	s.d += time.Since(t)
	runtime.ReadMemStats(&m1)
	s.allocs += m1.Mallocs - m0.Mallocs
}

// interleave runs repokit and its peer alternately in every iteration and reports each
// side's time and allocations per operation and the ratios: time-ratio = repokit / peer
// (below 1: repokit is faster), speedup = peer / repokit.
func interleave(b *testing.B, repokit, peer func()) {
	var rk, pe side
	i := 0
	for b.Loop() {
		b.StopTimer()
		if i%2 == 0 {
			rk.measure(repokit)
			pe.measure(peer)
		} else {
			pe.measure(peer)
			rk.measure(repokit)
		}
		b.StartTimer()
		i++
	}
	n := float64(b.N)
	b.ReportMetric(float64(rk.d.Nanoseconds())/n, "repokit-ns/op")
	b.ReportMetric(float64(pe.d.Nanoseconds())/n, "peer-ns/op")
	b.ReportMetric(float64(rk.allocs)/n, "repokit-allocs/op")
	b.ReportMetric(float64(pe.allocs)/n, "peer-allocs/op")
	b.ReportMetric(float64(rk.d)/float64(pe.d), "time-ratio")
	b.ReportMetric(float64(pe.d)/float64(rk.d), "speedup")
}

type env struct {
	ctx   context.Context
	repo  *repo.Collection[things.Thing]
	c     *es.Client
	index string
}

func setup(b *testing.B, name string) *env {
	b.Helper()
	cfg := pool.NewElasticsearchPoolConfig()
	cfg.Hosts = []string{servicetest.ElasticsearchURL(b)}
	m := pool.New(pool.Options{})
	b.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	ctx := context.Background()
	index := fmt.Sprintf("rk-bench-%s-%d", name, os.Getpid())
	r, err := es.NewRepository(ctx, m, cfg, things.ThingSchema, es.WithIndex(index), es.WithRefresh(es.RefreshFalse))
	if err != nil {
		b.Fatal(err)
	}
	c := r.Driver().(*es.Driver[things.Thing]).Client()
	b.Cleanup(func() {
		res, err := esapi.IndicesDeleteRequest{Index: []string{index}}.Do(context.Background(), c.ES)
		if err == nil {
			res.Body.Close()
		}
		r.Close()
	})
	return &env{ctx: ctx, repo: r, c: c, index: index}
}

var seq atomic.Int64

func makeThings(n int) []things.Thing {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]things.Thing, n)
	colors := []string{"red", "blue", "green", "black"}
	for i := range out {
		k := seq.Add(1)
		title := fmt.Sprintf("Title %d", k%1000)
		body := fmt.Sprintf("A longer description of item %d, with some words to analyze.", k)
		score := float64(k%977) / 7
		at := t0.Add(time.Duration(k) * time.Second)
		out[i] = things.Thing{ID: fmt.Sprintf("t%09d", k), Name: fmt.Sprintf("n%d", k%5000), Title: &title, Body: &body,
			Rank: &k, Count: k % 10000, Score: &score, Ratio: float64(k%100) / 100, Active: k%3 != 0,
			At: &at, Created: t0.Add(time.Duration(k) * time.Microsecond),
			Tags: []string{colors[k%4], colors[(k/4)%4]}, Nums: []int64{k % 10, k % 100}}
	}
	return out
}

func checkBulk(b *testing.B, res []repo.Result, err error) {
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}

// BenchmarkCreateBatch1000VsIndexLoop: CreateBatch of 1000 records (one _bulk request) vs
// 1000 index requests with op_type=create, one per document (no refresh on either side).
func BenchmarkCreateBatch1000VsIndexLoop(b *testing.B) {
	e := setup(b, "loop")
	interleave(b, func() {
		res, err := e.repo.CreateBatch(e.ctx, makeThings(1000))
		checkBulk(b, res, err)
	}, func() {
		for _, t := range makeThings(1000) {
			body, _ := json.Marshal(&t)
			res, err := esapi.IndexRequest{Index: e.index, DocumentID: t.ID, Body: bytes.NewReader(body), OpType: "create"}.Do(e.ctx, e.c.ES)
			if err != nil {
				b.Fatal(err)
			}
			if res.IsError() {
				b.Fatal(res.String())
			}
			res.Body.Close()
		}
	})
}

// BenchmarkCreateBatch1000VsBulkIndexer: CreateBatch of 1000 records vs esutil.BulkIndexer
// with its defaults (NumCPU workers, 5 MB flushes), Add of 1000 create actions and Close.
func BenchmarkCreateBatch1000VsBulkIndexer(b *testing.B) {
	e := setup(b, "bulkindexer")
	interleave(b, func() {
		res, err := e.repo.CreateBatch(e.ctx, makeThings(1000))
		checkBulk(b, res, err)
	}, func() {
		bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{Client: e.c.ES, Index: e.index})
		if err != nil {
			b.Fatal(err)
		}
		var failed atomic.Int64
		for _, t := range makeThings(1000) {
			body, _ := json.Marshal(&t)
			err := bi.Add(e.ctx, esutil.BulkIndexerItem{Action: "create", DocumentID: t.ID, Body: bytes.NewReader(body),
				OnFailure: func(context.Context, esutil.BulkIndexerItem, esutil.BulkIndexerResponseItem, error) { failed.Add(1) }})
			if err != nil {
				b.Fatal(err)
			}
		}
		if err := bi.Close(e.ctx); err != nil {
			b.Fatal(err)
		}
		if st := bi.Stats(); failed.Load() > 0 || st.NumFailed > 0 || st.NumAdded != 1000 {
			b.Fatalf("BulkIndexer: %+v", st)
		}
	})
}

// The complex search: four filters (bool, range, list contains, prefix), sorted on an
// optional float descending, then the creation time and the id, first 100 hits.
func complexQuery() query.Query[things.Thing] {
	F := things.ThingFields
	return things.ThingQuery().
		Where(F.Active.EQ(true), F.Count.Between(100, 8000), F.Tags.Contains("red"),
			query.Or(F.Name.StartsWith("n1"), F.Title.Like("Title 2%"))).
		OrderBy(F.Score.Desc(), F.Created.Asc()).
		Limit(100)
}

// handQuery is the same search written by hand against the same index.
const handQuery = `{
  "query": {"bool": {"filter": [
    {"term": {"active": true}},
    {"range": {"count": {"gte": 100, "lte": 8000}}},
    {"term": {"tags": "red"}},
    {"bool": {"should": [{"prefix": {"name": {"value": "n1"}}}, {"prefix": {"title": {"value": "Title 2"}}}], "minimum_should_match": 1}}
  ]}},
  "sort": [
    {"score": {"order": "desc", "missing": "_last"}},
    {"_rk.us.created": {"order": "asc", "missing": "_last"}},
    {"id": {"order": "asc"}}
  ],
  "size": 100,
  "track_total_hits": false,
  "seq_no_primary_term": true
}`

func handSearch(b *testing.B, e *env) []things.Thing {
	res, err := esapi.SearchRequest{Index: []string{e.index}, Body: strings.NewReader(handQuery)}.Do(e.ctx, e.c.ES)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	if res.IsError() {
		b.Fatal(res.String())
	}
	var sr struct {
		Hits struct {
			Hits []struct {
				SeqNo  int64           `json:"_seq_no"`
				Term   int64           `json:"_primary_term"`
				Source json.RawMessage `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.NewDecoder(res.Body).Decode(&sr); err != nil {
		b.Fatal(err)
	}
	out := make([]things.Thing, len(sr.Hits.Hits))
	for i, h := range sr.Hits.Hits {
		if err := json.Unmarshal(h.Source, &out[i]); err != nil {
			b.Fatal(err)
		}
		out[i].RecordVersion = fmt.Sprintf("%d:%d", h.SeqNo, h.Term)
	}
	return out
}

// BenchmarkComplexSearch: repokit's Find of complexQuery vs handQuery through esapi, on
// 20,000 documents.
func BenchmarkComplexSearch(b *testing.B) {
	e := setup(b, "search")
	for range 20 {
		res, err := e.repo.CreateBatch(e.ctx, makeThings(1000))
		checkBulk(b, res, err)
	}
	rr, err := esapi.IndicesRefreshRequest{Index: []string{e.index}}.Do(e.ctx, e.c.ES)
	if err != nil {
		b.Fatal(err)
	}
	rr.Body.Close()
	got, err := e.repo.Find(e.ctx, complexQuery())
	if err != nil {
		b.Fatal(err)
	}
	want := handSearch(b, e)
	ids := func(ts []things.Thing) []string {
		var out []string
		for _, t := range ts {
			out = append(out, t.ID)
		}
		return out
	}
	if len(got) != 100 || !slices.Equal(ids(got), ids(want)) {
		b.Fatalf("repokit and the hand-written search disagree: %d vs %d hits", len(got), len(want))
	}
	interleave(b, func() {
		if _, err := e.repo.Find(e.ctx, complexQuery()); err != nil {
			b.Fatal(err)
		}
	}, func() { handSearch(b, e) })
}

// getBatchSetup stores 10,000 records and returns the ids of every tenth.
func getBatchSetup(b *testing.B, e *env) []string {
	var ids []string
	for range 10 {
		recs := makeThings(1000)
		res, err := e.repo.CreateBatch(e.ctx, recs)
		checkBulk(b, res, err)
		for i, r := range recs {
			if i%10 == 0 {
				ids = append(ids, r.ID)
			}
		}
	}
	return ids
}

func getBatch(b *testing.B, e *env, ids []string) {
	recs, res, err := e.repo.GetBatch(e.ctx, ids)
	if err != nil {
		b.Fatal(err)
	}
	for i := range res {
		if res[i].Err != nil || recs[i].ID != ids[i] {
			b.Fatalf("GetBatch %s: %v", ids[i], res[i].Err)
		}
	}
}

func getLoop(b *testing.B, e *env, ids []string) {
	for _, id := range ids {
		if _, err := e.repo.Get(e.ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetBatch1000VsGetLoop: reading 1000 records by id at once (Repository.GetBatch,
// whose fast path is the driver's GetMany: _mget requests) vs a loop of 1000 Get calls, on
// 10,000 stored records. Goal ≥ 20×.
func BenchmarkGetBatch1000VsGetLoop(b *testing.B) {
	e := setup(b, "getbatch")
	ids := getBatchSetup(b, e)
	interleave(b, func() { getBatch(b, e, ids) }, func() { getLoop(b, e, ids) })
}

// BenchmarkGetBatch1000CPU: the CPU time of the two sides of BenchmarkGetBatch1000VsGetLoop
// (run alternately), the node's (its process's user + system time from /proc, which also
// counts whatever else the node serves meanwhile; skipped when the node runs elsewhere) and
// this process's (getrusage), in ms per 1000 records, and cpu-ratio = the loop's CPU / the
// batch's.
func BenchmarkGetBatch1000CPU(b *testing.B) {
	e := setup(b, "getbatchcpu")
	ids := getBatchSetup(b, e)
	pid := nodePID(b, e)
	var batch, loop [2]time.Duration // node, client
	measure := func(acc *[2]time.Duration, fn func()) {
		n0, c0 := nodeCPU(b, pid), clientCPU()
		fn()
		acc[0] += nodeCPU(b, pid) - n0
		acc[1] += clientCPU() - c0
	}
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			measure(&batch, func() { getBatch(b, e, ids) })
			measure(&loop, func() { getLoop(b, e, ids) })
		} else {
			measure(&loop, func() { getLoop(b, e, ids) })
			measure(&batch, func() { getBatch(b, e, ids) })
		}
		i++
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(ms(batch[0]), "batch-node-ms")
	b.ReportMetric(ms(batch[1]), "batch-client-ms")
	b.ReportMetric(ms(loop[0]), "loop-node-ms")
	b.ReportMetric(ms(loop[1]), "loop-client-ms")
	b.ReportMetric(float64(loop[0]+loop[1])/float64(batch[0]+batch[1]), "cpu-ratio")
}

// nodePID returns the process id of the node (from its nodes info), which must run on this
// machine.
func nodePID(b *testing.B, e *env) int {
	res, err := esapi.NodesInfoRequest{NodeID: []string{"_local"}, Metric: []string{"process"}}.Do(e.ctx, e.c.ES)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var info struct {
		Nodes map[string]struct {
			Process struct {
				ID int `json:"id"`
			} `json:"process"`
		} `json:"nodes"`
	}
	if err := json.NewDecoder(res.Body).Decode(&info); err != nil || len(info.Nodes) != 1 {
		b.Fatalf("nodes info: %v (%d nodes)", err, len(info.Nodes))
	}
	for _, n := range info.Nodes {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/stat", n.Process.ID)); err != nil {
			b.Skipf("the node's process %d is not on this machine: %v", n.Process.ID, err)
		}
		return n.Process.ID
	}
	return 0
}

// nodeCPU returns the CPU time so far of process pid (user + system, from /proc, in clock
// ticks of 10 ms: summed over many calls).
func nodeCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // f[0] is field 3, the state
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("/proc/%d/stat: %q", pid, s)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// clientCPU returns this process's CPU time so far.
func clientCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
