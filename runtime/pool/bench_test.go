package pool

import (
	"context"
	"testing"
)

func benchSetup(b *testing.B) (*Manager, *Prepared, Hooks[*fakePool], Lease[*fakePool]) {
	r := &recorder{}
	m := New(Options{})
	cfg := NewPostgresPoolConfig()
	cfg.Password = "secret"
	p := Prepare(cfg)
	h := r.hooks()
	// One lease held for the whole benchmark keeps the pool warm, as a long-lived repository does.
	anchor, err := Get(context.Background(), m, p, h)
	if err != nil {
		b.Fatal(err)
	}
	return m, p, h, anchor
}

// BenchmarkGetRelease measures the warm path: Get and Release on an existing pool.
func BenchmarkGetRelease(b *testing.B) {
	m, p, h, anchor := benchSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l, err := Get(ctx, m, p, h)
		if err != nil {
			b.Fatal(err)
		}
		l.Release()
	}
	b.StopTimer()
	anchor.Release()
	_ = m.CloseAll(ctx)
}

// BenchmarkGetReleaseParallel is BenchmarkGetRelease from GOMAXPROCS goroutines on one pool.
func BenchmarkGetReleaseParallel(b *testing.B) {
	m, p, h, anchor := benchSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l, err := Get(ctx, m, p, h)
			if err != nil {
				b.Error(err)
				return
			}
			l.Release()
		}
	})
	b.StopTimer()
	anchor.Release()
	_ = m.CloseAll(ctx)
}

// BenchmarkGetReleaseUnprepared passes the config itself: its Key is hashed on every Get.
func BenchmarkGetReleaseUnprepared(b *testing.B) {
	m, p, h, anchor := benchSetup(b)
	cfg := p.Config()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l, err := Get(ctx, m, cfg, h)
		if err != nil {
			b.Fatal(err)
		}
		l.Release()
	}
	b.StopTimer()
	anchor.Release()
	_ = m.CloseAll(ctx)
}
