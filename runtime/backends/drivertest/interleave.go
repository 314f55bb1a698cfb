package drivertest

import (
	"testing"
	"time"
)

// Contender is one side of BenchInterleaved: a name and the call it times (an error fails
// the benchmark).
type Contender struct {
	Name string
	Call func() error
}

// BenchInterleaved times the contenders side by side in one benchmark: every iteration runs
// chunk calls of each, rotating which goes first, so that a machine's changing load weighs on
// all of them alike. It reports each contender's time per call in its fastest chunk as
// "<name>-ns/op" (on a loaded machine the fastest chunk is the one least disturbed by other
// processes; the mean would mostly measure when the scheduler ran them) and that time
// relative to the first contender's as "<name>/<first>".
func BenchInterleaved(b *testing.B, chunk int, cs ...Contender) {
	best := make([]time.Duration, len(cs))
	for i := 0; b.Loop(); i++ {
		for k := range cs {
			j := (k + i) % len(cs)
			start := time.Now()
			for range chunk {
				if err := cs[j].Call(); err != nil {
					b.Fatalf("%s: %v", cs[j].Name, err)
				}
			}
			if d := time.Since(start); best[j] == 0 || d < best[j] {
				best[j] = d
			}
		}
	}
	for k, c := range cs {
		b.ReportMetric(float64(best[k])/float64(chunk), c.Name+"-ns/op")
		if k > 0 {
			b.ReportMetric(float64(best[k])/float64(best[0]), c.Name+"/"+cs[0].Name)
		}
	}
}
