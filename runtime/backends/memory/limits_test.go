package memory_test

import (
	"context"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/memory"
	"github.com/repokit/repokit/runtime/repo"
)

func (harness) MakeLimited(context.Context, *testing.T) (repo.Repository[drivertest.Limited], error) {
	return repo.New(drivertest.LimitedSchema, memory.New(drivertest.LimitedSchema)), nil
}

func TestLimits(t *testing.T) {
	drivertest.RunLimitTests(t, harness{})
}
