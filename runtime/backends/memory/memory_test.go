package memory_test

import (
	"context"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/memory"
	"github.com/repokit/repokit/runtime/open"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// harness opens in-memory repositories: each is a new, empty store, configured with opts.
type harness struct{ opts []open.Option }

func (harness) Manager() *pool.Manager { return nil }

func (h harness) Target(context.Context, *testing.T, string) (open.Target, []open.Option, error) {
	return open.Target{Backend: open.Memory}, h.opts, nil
}

func TestConformance(t *testing.T) {
	drivertest.RunConformanceTests(t, drivertest.On(harness{}))
}

// loopOnly is a driver with the Driver methods of d only: the Collection runs its batch
// methods as loops of single calls over it, as it does over a backend without the bulk
// interfaces.
type loopOnly[T any] struct{ repo.Driver[T] }

// loopHarness makes in-memory repositories over loopOnly drivers.
type loopHarness struct{}

func (loopHarness) MakeThings(context.Context, *testing.T) (repo.Repository[things.Thing], error) {
	return repo.New(things.ThingSchema, loopOnly[things.Thing]{memory.New(things.ThingSchema)}), nil
}

func (loopHarness) MakeOthers(context.Context, *testing.T) (repo.Repository[things.Other], error) {
	return repo.New(things.OtherSchema, loopOnly[things.Other]{memory.New(things.OtherSchema)}), nil
}

func (loopHarness) MakeKeywords(context.Context, *testing.T) (repo.Repository[things.Keyword], error) {
	return repo.New(things.KeywordSchema, loopOnly[things.Keyword]{memory.New(things.KeywordSchema)}), nil
}

func (loopHarness) MakeMembers(context.Context, *testing.T) (repo.Repository[things.Member], error) {
	return repo.New(things.MemberSchema, loopOnly[things.Member]{memory.New(things.MemberSchema)}), nil
}

func (loopHarness) MakeDocs(context.Context, *testing.T) (repo.Repository[things.Doc], error) {
	return repo.New(things.DocSchema, loopOnly[things.Doc]{memory.New(things.DocSchema)}), nil
}

// TestConformanceLoop runs the suite over drivers without the bulk interfaces: the
// Collection's loops of single calls mean what the memory driver's bulk methods mean.
func TestConformanceLoop(t *testing.T) {
	drivertest.RunConformanceTests(t, loopHarness{})
}
