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

func TestConformance(t *testing.T) {
	drivertest.RunConformanceTests(t, harness{})
}
