package s3_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/s3"
)

// BenchmarkMigrateRewrite measures Apply's rewrite of 10,000 version 1 objects to version 2
// over the slow link (servicetest.S3SlowEndpoint, ~20 ms per round trip) at concurrency 64,
// against the same rewrite done sequentially (concurrency 1), timed on 200 objects and
// scaled to 10,000 (the sequential rewrite of all of them would take minutes). The objects
// are loaded over the direct link and the versions recorded first (WithoutRewrite), so only
// the rewrite (a GET and a conditional PUT per object) is timed. Reported: ms per run of
// each, and their ratio (goal ≥ 10).
//
//	go test ./runtime/backends/s3 -run '^$' -bench MigrateRewrite -benchtime=1x
func BenchmarkMigrateRewrite(b *testing.B) {
	const n, seqN, conc = 10000, 200, 64
	slowEndpoint := servicetest.S3SlowEndpoint(b)
	noCode := func(int) *string { return nil }
	timeRewrite := func(b *testing.B, count, conc int) time.Duration {
		ctx, m, cfg := migEnv(b)
		loadV1(ctx, b, m, cfg, count, noCode)
		fsys := history(b, 2)
		if _, err := newMigrator(ctx, b, m, cfg, fsys, s3.WithoutRewrite()).Apply(ctx); err != nil {
			b.Fatal(err)
		}
		slow := cfg
		slow.EndpointURL, slow.MaxConnections = slowEndpoint, conc
		mg := newMigrator(ctx, b, m, slow, fsys, s3.WithMigrateConcurrency(conc))
		start := time.Now()
		if _, err := mg.Apply(ctx); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		if st, err := mg.Status(ctx); err != nil || !st.OK() {
			b.Fatalf("status after the rewrite: %+v, %v", st, err)
		}
		return took
	}
	for b.Loop() {
		par := timeRewrite(b, n, conc)
		seq := timeRewrite(b, seqN, 1) * n / seqN
		b.ReportMetric(float64(par.Milliseconds()), "ms-concurrent")
		b.ReportMetric(float64(seq.Milliseconds()), "ms-sequential-scaled")
		b.ReportMetric(float64(seq)/float64(par), "ratio")
		fmt.Printf("rewrite of %d objects at concurrency %d: %s; sequential (%d objects, scaled): %s; ratio %.1f\n", n, conc, par.Round(time.Millisecond), seqN, seq.Round(time.Millisecond), float64(seq)/float64(par))
	}
}
