package drivertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/repo"
)

// RunTelemetryFaultTest checks the span of a call that fails under a network fault: open
// returns a repository (made with the providers of tl) that reaches its server through a
// proxy, and down(true) cuts the proxy (down(false) restores it). A Get while the server
// cannot be reached must fail as repo.ErrUnavailable and its span must say so
// (error.type "unavailable", status error) with the driver's failed attempts as children
// where the backend has driver spans; once the proxy is back, the same repository's Get
// succeeds and its span has no error.
func RunTelemetryFaultTest(t *testing.T, tl *Telemetry, open func(ctx context.Context) (repo.Repository[things.Thing], error), down func(ctx context.Context, cut bool) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Create(ctx, things.Thing{ID: "tf1", Name: "fault", Created: t0}); err != nil {
		t.Fatal(err)
	}
	if err := down(ctx, true); err != nil {
		t.Fatal(err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			if err := down(context.WithoutCancel(ctx), false); err != nil {
				t.Errorf("restoring the proxy: %v", err)
			}
		}
	}
	defer restore()

	root, spans := tl.traced(ctx, func(ctx context.Context) {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if _, err := r.Get(cctx, "tf1"); !errors.Is(err, repo.ErrUnavailable) {
			t.Errorf("Get with the server cut off: %v, want ErrUnavailable", err)
		}
	})
	s := callSpan(t, spans, root.SpanContext().SpanID(), "Get")
	if v, _ := attrOf(s, "error.type"); v.Emit() != "unavailable" || s.Status().Code != codes.Error {
		t.Errorf("error.type = %q, status %v; want unavailable, error", v.Emit(), s.Status())
	}
	tl.checkCall(t, s, spans, "Get")

	restore()
	root, spans = tl.traced(ctx, func(ctx context.Context) {
		// The first calls after the cut may still meet a connection the proxy closed.
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, err := r.Get(ctx, "tf1")
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("Get after the proxy came back: %v", err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	ok := false
	for _, sp := range spans {
		if sp.Parent().SpanID() == root.SpanContext().SpanID() && sp.Status().Code != codes.Error {
			if _, has := attrOf(sp, "error.type"); !has {
				ok = true
			}
		}
	}
	if !ok {
		t.Errorf("no Get span without an error after the proxy came back (spans: %s)", spanNames(spans))
	}
}
