package memory_test

import (
	"context"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/memory"
	"github.com/repokit/repokit/runtime/repo"
)

// harness makes in-memory repositories: each is a new, empty store.
type harness struct{ opts []repo.Option }

func (h harness) MakeThings(context.Context, *testing.T) (repo.Repository[things.Thing], error) {
	return repo.New(things.ThingSchema, memory.New(things.ThingSchema), h.opts...), nil
}

func (h harness) MakeOthers(context.Context, *testing.T) (repo.Repository[things.Other], error) {
	return repo.New(things.OtherSchema, memory.New(things.OtherSchema), h.opts...), nil
}

func (h harness) MakeKeywords(context.Context, *testing.T) (repo.Repository[things.Keyword], error) {
	return repo.New(things.KeywordSchema, memory.New(things.KeywordSchema), h.opts...), nil
}

func (h harness) MakeMembers(context.Context, *testing.T) (repo.Repository[things.Member], error) {
	return repo.New(things.MemberSchema, memory.New(things.MemberSchema), h.opts...), nil
}

func (h harness) MakeDocs(context.Context, *testing.T) (repo.Repository[things.Doc], error) {
	return repo.New(things.DocSchema, memory.New(things.DocSchema), h.opts...), nil
}

func TestConformance(t *testing.T) {
	drivertest.RunConformanceTests(t, harness{})
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
