// Package s3 compares repokit's S3 backend with hand-written aws-sdk-go-v2 loops on the same
// client: a sequential loop (one request at a time, what a naive caller writes) and a
// concurrent loop with the same concurrency as repokit. Run it against MinIO, directly on
// loopback and through Toxiproxy (~10 ms each way), see docs/BENCHMARKS.md:
//
//	eval "$(scripts/services/all.sh start --with-toxiproxy)"
//	cd bench && go test ./s3 -run XXX -bench . -benchtime=1x
//
// The variants of CreateBatch100 and Stream1000 run one after the other, so load from other
// processes between them moves their ratio; CreateBatch100Paired interleaves repokit and the
// concurrent loop batch by batch and is the figure to compare with a goal:
//
//	go test ./s3 -run XXX -bench CreateBatch100Paired -benchtime=15x -count 3
package s3

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// conc is the concurrency of repokit and of the hand-written concurrent loops, and the
// clients' connection limit.
const conc = 16

// link is a way to the test server: its config without a prefix.
type link struct {
	name string
	cfg  pool.S3PoolConfig
}

// links returns loopback and, when Toxiproxy runs, the slow link; without the S3 server the
// benchmark skips (fails under CI).
func links(b *testing.B) []link {
	cfg := servicetest.S3Config(b)
	cfg.MaxConnections = conc
	ls := []link{{"loopback", cfg}}
	if os.Getenv(servicetest.EnvS3SlowEndpoint) == "" {
		b.Logf("%s is not set: only loopback (the slow link needs scripts/services/all.sh start --with-toxiproxy)", servicetest.EnvS3SlowEndpoint)
		return ls
	}
	cfg.EndpointURL = servicetest.S3SlowEndpoint(b)
	return append(ls, link{"slow20ms", cfg})
}

var mgr = pool.New(pool.Options{KeepIdle: true})

// config returns the link's config with the prefix.
func config(l link, prefix string) pool.S3PoolConfig {
	cfg := l.cfg
	cfg.Prefix = prefix
	return cfg
}

// fixture is one repository (cache off: every read is a GET, as in the raw loops) and the
// raw SDK client it shares.
type fixture struct {
	repo   *repo.Collection[things.Thing]
	drv    *s3.Driver[things.Thing]
	api    *awss3.Client
	bucket string
}

var runID = time.Now().UnixNano()

func newFixture(b *testing.B, l link, name string) *fixture {
	b.Helper()
	ctx := context.Background()
	cfg := config(l, fmt.Sprintf("repokit-bench/%d/%s/%s", runID, l.name, name))
	d, err := s3.New(ctx, mgr, cfg, things.ThingSchema, s3.WithConcurrency(conc), s3.WithCache(0))
	if err != nil {
		b.Fatal(err)
	}
	lease, err := pool.Get(ctx, mgr, cfg, s3.Hooks())
	if err != nil {
		b.Fatal(err)
	}
	f := &fixture{repo: repo.New(things.ThingSchema, d), drv: d, api: lease.Pool().API, bucket: cfg.Bucket}
	b.Cleanup(func() {
		f.clear(b)
		lease.Release()
		_ = f.repo.Close()
	})
	return f
}

// clear deletes every object under the fixture's prefix.
func (f *fixture) clear(b *testing.B) {
	ctx := context.Background()
	p := awss3.NewListObjectsV2Paginator(f.api, &awss3.ListObjectsV2Input{Bucket: &f.bucket, Prefix: aws.String(f.drv.Prefix())})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(page.Contents) == 0 {
			continue
		}
		ids := make([]types.ObjectIdentifier, len(page.Contents))
		for i, o := range page.Contents {
			ids[i] = types.ObjectIdentifier{Key: o.Key}
		}
		if _, err := f.api.DeleteObjects(ctx, &awss3.DeleteObjectsInput{Bucket: &f.bucket, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}}); err != nil {
			b.Fatal(err)
		}
	}
}

func thing(id string, i int) things.Thing {
	title := fmt.Sprintf("title %d", i)
	return things.Thing{ID: id, Name: "bench thing " + id, Title: &title, Count: int64(i), Ratio: float64(i) / 7,
		Active: i%2 == 0, Created: time.Date(2024, 1, 1, 0, 0, i%60, 0, time.UTC), Tags: []string{"a", "b", "c"}}
}

func batchOf(tag string, n int) []things.Thing {
	out := make([]things.Thing, n)
	for i := range out {
		out[i] = thing(fmt.Sprintf("%s-%05d", tag, i), i)
	}
	return out
}

// putRaw is what a hand-written loop does per record: encode, PutObject with
// If-None-Match: *.
func (f *fixture) putRaw(ctx context.Context, rec *things.Thing) error {
	body, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = f.api.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: &f.bucket, Key: aws.String(f.drv.Key(rec.ID)), Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String("application/json"),
		IfNoneMatch: aws.String("*"),
	})
	return err
}

func (f *fixture) getRaw(ctx context.Context, key string) (things.Thing, error) {
	var rec things.Thing
	out, err := f.api.GetObject(ctx, &awss3.GetObjectInput{Bucket: &f.bucket, Key: &key})
	if err != nil {
		return rec, err
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return rec, err
	}
	err = json.Unmarshal(body, &rec)
	rec.RecordVersion = aws.ToString(out.ETag)
	return rec, err
}

func (f *fixture) listRaw(ctx context.Context) ([]string, error) {
	var keys []string
	p := awss3.NewListObjectsV2Paginator(f.api, &awss3.ListObjectsV2Input{Bucket: &f.bucket, Prefix: aws.String(f.drv.Prefix()), Delimiter: aws.String("/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

// warm opens the client's conc pooled connections (through the proxy that costs a
// handshake each), so that no variant pays for them inside its timing.
func (f *fixture) warm(b *testing.B) {
	b.Helper()
	err := concurrently(4*conc, func(int) error {
		_, err := f.api.HeadBucket(context.Background(), &awss3.HeadBucketInput{Bucket: &f.bucket})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
}

// concurrently runs fn(i) for i in [0, n) on conc goroutines.
func concurrently(n int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conc)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// runs collects one value per benchmark run for the ratio summary. The testing package
// calls a benchmark function several times with the same *testing.B (b.N = 1, then the
// final b.N); the last call counts. -count repeats a benchmark with a new *testing.B and
// the same name; the summary takes the median of the repetitions.
var (
	resMu sync.Mutex
	runs  = map[*testing.B]result{}
)

type result struct {
	name  string
	value float64
}

// baseName strips the "#NN" suffix the testing package adds to repeated benchmark names.
func baseName(name string) string {
	if i := strings.LastIndexByte(name, '#'); i >= 0 {
		return name[:i]
	}
	return name
}

func put(b *testing.B, name string, v float64) {
	resMu.Lock()
	runs[b] = result{name, v}
	resMu.Unlock()
}

func record(b *testing.B, start time.Time) {
	put(b, b.Name(), float64(time.Since(start).Nanoseconds())/float64(b.N))
}

// median returns the median of xs (0 for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	ys := append([]float64(nil), xs...)
	sort.Float64s(ys)
	if len(ys)%2 == 1 {
		return ys[len(ys)/2]
	}
	return (ys[len(ys)/2-1] + ys[len(ys)/2]) / 2
}

func BenchmarkCreateBatch100(b *testing.B) {
	for _, l := range links(b) {
		f := newFixture(b, l, "create")
		ctx := context.Background()
		var seq int
		b.Run(l.name+"/repokit", func(b *testing.B) {
			f.warm(b)
			start := time.Now()
			for range b.N {
				seq++
				res, err := f.repo.CreateBatch(ctx, batchOf(fmt.Sprintf("r%d", seq), 100))
				if err != nil {
					b.Fatal(err)
				}
				for _, x := range res {
					if x.Err != nil {
						b.Fatal(x.Err)
					}
				}
			}
			record(b, start)
		})
		b.Run(l.name+"/sequential", func(b *testing.B) {
			start := time.Now()
			for range b.N {
				seq++
				recs := batchOf(fmt.Sprintf("s%d", seq), 100)
				for i := range recs {
					if err := f.putRaw(ctx, &recs[i]); err != nil {
						b.Fatal(err)
					}
				}
			}
			record(b, start)
		})
		b.Run(l.name+"/concurrent", func(b *testing.B) {
			f.warm(b)
			start := time.Now()
			for range b.N {
				seq++
				recs := batchOf(fmt.Sprintf("c%d", seq), 100)
				if err := concurrently(len(recs), func(i int) error { return f.putRaw(ctx, &recs[i]) }); err != nil {
					b.Fatal(err)
				}
			}
			record(b, start)
		})
	}
}

// BenchmarkCreateBatch100Paired compares repokit's CreateBatch of 100 with the 16-way
// concurrent loop batch by batch: each iteration runs one batch of each, alternating which
// goes first (ABBA), on one warmed client. Both variants thus see the same connections and
// the same load from other processes, which on a shared machine moves single runs by ±30%;
// the median of the per-iteration times is reported as repokit-ms and concurrent-ms, and
// their quotient as conc/repokit (>1 means repokit is faster).
func BenchmarkCreateBatch100Paired(b *testing.B) {
	for _, l := range links(b) {
		f := newFixture(b, l, "paired")
		ctx := context.Background()
		var seq int
		b.Run(l.name, func(b *testing.B) {
			f.warm(b)
			var rk, cc []float64
			repokit := func() {
				seq++
				start := time.Now()
				res, err := f.repo.CreateBatch(ctx, batchOf(fmt.Sprintf("pr%d", seq), 100))
				if err != nil {
					b.Fatal(err)
				}
				rk = append(rk, float64(time.Since(start).Nanoseconds()))
				for _, x := range res {
					if x.Err != nil {
						b.Fatal(x.Err)
					}
				}
			}
			concurrent := func() {
				seq++
				start := time.Now()
				recs := batchOf(fmt.Sprintf("pc%d", seq), 100)
				if err := concurrently(len(recs), func(i int) error { return f.putRaw(ctx, &recs[i]) }); err != nil {
					b.Fatal(err)
				}
				cc = append(cc, float64(time.Since(start).Nanoseconds()))
			}
			for i := range b.N {
				if i%2 == 0 {
					repokit()
					concurrent()
				} else {
					concurrent()
					repokit()
				}
			}
			mr, mc := median(rk), median(cc)
			b.ReportMetric(mr/1e6, "repokit-ms")
			b.ReportMetric(mc/1e6, "concurrent-ms")
			b.ReportMetric(mc/mr, "conc/repokit")
			put(b, "paired/"+b.Name(), mc/mr)
		})
	}
}

func seedStream(b *testing.B, f *fixture, n int) {
	b.Helper()
	recs := batchOf("st", n)
	res, err := f.repo.CreateBatch(context.Background(), recs)
	if err != nil {
		b.Fatal(err)
	}
	for _, x := range res {
		if x.Err != nil {
			b.Fatal(x.Err)
		}
	}
}

func BenchmarkStream1000(b *testing.B) {
	for _, l := range links(b) {
		f := newFixture(b, l, "stream")
		seedStream(b, f, 1000)
		ctx := context.Background()
		b.Run(l.name+"/repokit", func(b *testing.B) {
			f.warm(b)
			start := time.Now()
			for range b.N {
				n := 0
				for _, err := range f.repo.Stream(ctx, things.ThingQuery()) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != 1000 {
					b.Fatalf("%d records", n)
				}
			}
			record(b, start)
		})
		b.Run(l.name+"/sequential", func(b *testing.B) {
			start := time.Now()
			for range b.N {
				keys, err := f.listRaw(ctx)
				if err != nil {
					b.Fatal(err)
				}
				for _, k := range keys {
					if _, err := f.getRaw(ctx, k); err != nil {
						b.Fatal(err)
					}
				}
				if len(keys) != 1000 {
					b.Fatalf("%d keys", len(keys))
				}
			}
			record(b, start)
		})
		b.Run(l.name+"/concurrent", func(b *testing.B) {
			f.warm(b)
			start := time.Now()
			for range b.N {
				keys, err := f.listRaw(ctx)
				if err != nil {
					b.Fatal(err)
				}
				out := make([]things.Thing, len(keys))
				if err := concurrently(len(keys), func(i int) (err error) {
					out[i], err = f.getRaw(ctx, keys[i])
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
			record(b, start)
		})
	}
}

// BenchmarkStreamMemory streams 10,000 objects on loopback at several concurrencies and
// reports the peak live heap above the baseline (sampled every millisecond), next to the
// size of all the records, to show that memory follows the concurrency, not the count.
func BenchmarkStreamMemory(b *testing.B) {
	l := links(b)[0]
	f := newFixture(b, l, "memory")
	const n = 10000
	seedStream(b, f, n)
	for _, c := range []int{4, 16, 64} {
		b.Run(fmt.Sprintf("conc%d", c), func(b *testing.B) { streamPeak(b, l, f, c, n) })
	}
	// Reference: the size of all records held at once.
	recs := batchOf("st", n)
	runtime.GC()
	var a, z runtime.MemStats
	runtime.ReadMemStats(&a)
	held := make([]things.Thing, 0, n)
	for i := range recs {
		body, _ := json.Marshal(&recs[i])
		var t things.Thing
		_ = json.Unmarshal(body, &t)
		held = append(held, t)
	}
	runtime.ReadMemStats(&z)
	runtime.KeepAlive(held)
	put(b, "mem/all-records-held", float64(z.HeapAlloc-a.HeapAlloc))
}

// BenchmarkStreamMemoryByCount streams 2,500 and 20,000 objects at concurrency 16: with
// memory bounded by the concurrency, the peak heap stays about the same while the number of
// objects grows eightfold.
func BenchmarkStreamMemoryByCount(b *testing.B) {
	l := links(b)[0]
	for _, n := range []int{2500, 20000} {
		f := newFixture(b, l, fmt.Sprintf("memory-count-%d", n))
		seedStream(b, f, n)
		b.Run(fmt.Sprintf("n%d", n), func(b *testing.B) { streamPeak(b, l, f, 16, n) })
	}
}

// streamPeak streams the n objects of fixture f with the given concurrency (cache off) and
// reports the peak live heap above the heap before the stream, sampled every millisecond.
func streamPeak(b *testing.B, l link, f *fixture, c, n int) {
	ctx := context.Background()
	cfg := config(l, strings.TrimSuffix(strings.TrimSuffix(f.drv.Prefix(), "/"), "/"+things.ThingSchema.Prefix))
	cfg.MaxConnections = c
	d, err := s3.New(ctx, mgr, cfg, things.ThingSchema, s3.WithConcurrency(c), s3.WithCache(0))
	if err != nil {
		b.Fatal(err)
	}
	r := repo.New(things.ThingSchema, d)
	defer r.Close()
	var peak uint64
	for range b.N {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		peak = 0
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			t := time.NewTicker(time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					if ms.HeapAlloc > base && ms.HeapAlloc-base > peak {
						peak = ms.HeapAlloc - base
					}
				}
			}
		}()
		got := 0
		for _, err := range r.Stream(ctx, things.ThingQuery()) {
			if err != nil {
				b.Fatal(err)
			}
			got++
		}
		close(stop)
		<-done
		if got != n {
			b.Fatalf("%d records, want %d", got, n)
		}
	}
	b.ReportMetric(float64(peak)/1024, "peak-heap-KiB")
	put(b, "mem/"+b.Name(), float64(peak))
}

func TestMain(m *testing.M) {
	code := m.Run()
	_ = mgr.CloseAll(context.Background())
	if len(runs) > 0 {
		summary()
	}
	os.Exit(code)
}

func summary() {
	// Repetitions (-count) of one benchmark: all their values, reduced to the median.
	byName := map[string][]float64{}
	for _, r := range runs {
		byName[baseName(r.name)] = append(byName[baseName(r.name)], r.value)
	}
	var names []string
	for k := range byName {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Println("\nratios (time of the loop / time of repokit; >1 means repokit is faster; medians over -count):")
	for _, k := range names {
		if !strings.HasSuffix(k, "/repokit") {
			continue
		}
		base := strings.TrimSuffix(k, "/repokit")
		rk := median(byName[k])
		seq, conc := median(byName[base+"/sequential"]), median(byName[base+"/concurrent"])
		if conc == 0 { // no hand-written concurrent variant
			fmt.Printf("  %-40s repokit %8.1f ms  sequential %8.1f ms (%5.1fx)\n", base, rk/1e6, seq/1e6, seq/rk)
			continue
		}
		fmt.Printf("  %-40s repokit %8.1f ms  sequential %8.1f ms (%5.1fx)  concurrent-%d %8.1f ms (%4.2fx)\n",
			base, rk/1e6, seq/1e6, seq/rk, conc_, conc/1e6, conc/rk)
	}
	for _, k := range names {
		if !strings.HasPrefix(k, "paired/") {
			continue
		}
		xs := append([]float64(nil), byName[k]...)
		sort.Float64s(xs)
		fmt.Printf("  %-40s concurrent-%d time / repokit time (median per run, ABBA): median %4.2fx over %d runs, range %4.2f-%4.2fx\n",
			strings.TrimPrefix(k, "paired/"), conc_, median(xs), len(xs), xs[0], xs[len(xs)-1])
	}
	for _, k := range names {
		if strings.HasPrefix(k, "mem/") {
			fmt.Printf("  %-40s %8.0f KiB\n", k, median(byName[k])/1024)
		}
	}
}

const conc_ = conc
