package postgres

import (
	"runtime"
	"testing"
	"time"
)

// side accumulates the time and allocations of one contender of an interleaved benchmark.
type side struct {
	d      time.Duration
	allocs uint64
}

// measure runs fn once and adds its time and heap allocations to s.
func (s *side) measure(fn func()) {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	t := time.Now()
	fn()
	s.d += time.Since(t)
	runtime.ReadMemStats(&m1)
	s.allocs += m1.Mallocs - m0.Mallocs
}

// interleave runs repokit and its peer alternately in every iteration (so that load from
// other processes hits both alike) and reports each side's time and allocations per
// operation and their ratios: time ratio = repokit time / peer time (below 1: repokit is
// faster), allocation ratio = repokit allocations / peer allocations. It returns each side's
// mean time per operation.
func interleave(b *testing.B, reset func(), repokit, peer func()) (rkPerOp, peerPerOp time.Duration) {
	var rk, pe side
	i := 0
	for b.Loop() {
		b.StopTimer()
		// Alternate which side goes first.
		first, second := repokit, peer
		fs, ss := &rk, &pe
		if i%2 == 1 {
			first, second, fs, ss = peer, repokit, &pe, &rk
		}
		reset()
		fs.measure(first)
		reset()
		ss.measure(second)
		b.StartTimer()
		i++
	}
	n := float64(b.N)
	b.ReportMetric(float64(rk.d.Nanoseconds())/n, "repokit-ns/op")
	b.ReportMetric(float64(pe.d.Nanoseconds())/n, "peer-ns/op")
	b.ReportMetric(float64(rk.allocs)/n, "repokit-allocs/op")
	b.ReportMetric(float64(pe.allocs)/n, "peer-allocs/op")
	b.ReportMetric(float64(rk.d)/float64(pe.d), "time-ratio")
	b.ReportMetric(float64(pe.d)/float64(rk.d), "throughput-ratio")
	b.ReportMetric(float64(rk.allocs)/float64(pe.allocs), "alloc-ratio")
	return rk.d / time.Duration(b.N), pe.d / time.Duration(b.N)
}
