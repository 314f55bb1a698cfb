package drivertest

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/backends/memory"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/open"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// Targets is the part of a harness that differs between backends: where each test's
// repositories live. A backend's tests implement it once and run the suites on On(targets).
type Targets interface {
	// Manager returns the pool manager the repositories take their connections from (nil
	// for the memory backend).
	Manager() *pool.Manager
	// Target returns the target and options of a new, empty repository, for t alone, of the
	// record stored under table (its record.Desc.Table; the suite's records keep their
	// tables apart by name), and registers on t the removal of what the test leaves there.
	Target(ctx context.Context, t *testing.T, table string) (open.Target, []open.Option, error)
}

// OpenedHook is implemented by Targets that must see each repository once it is open: to
// empty a table that a generated schema script created, or to remove the companion index the
// driver named. driver is the repository's repo.Driver.
type OpenedHook interface {
	Opened(ctx context.Context, t *testing.T, table string, driver any) error
}

// Opener is the Harness (and LimitHarness) of every backend: it opens the records of package
// things on the backend's targets with the generated openers
// (things.New<Record>RepositoryFromTarget, the code users call), and the Limited record with
// OpenDesc. Its LeakOptions are those of Targets when it is a LeakIgnorer.
type Opener struct{ Targets }

// On returns the Opener of targets.
func On(targets Targets) Opener { return Opener{Targets: targets} }

// opener is the shape of a generated New<Record>RepositoryFromTarget.
type opener[T any] func(context.Context, *pool.Manager, open.Target, ...open.Option) (*repo.Collection[T], error)

// openOn opens the repository of the record stored under table with open on a new target of o.
func openOn[T any](ctx context.Context, t *testing.T, o Opener, table string, open opener[T]) (repo.Repository[T], error) {
	tg, opts, err := o.Target(ctx, t, table)
	if err != nil {
		return nil, err
	}
	c, err := open(ctx, o.Manager(), tg, opts...)
	if err != nil {
		return nil, err
	}
	if h, ok := o.Targets.(OpenedHook); ok {
		if err := h.Opened(ctx, t, table, c.Driver()); err != nil {
			_ = c.Close()
			return nil, err
		}
	}
	return c, nil
}

// MakeThings implements Harness.
func (o Opener) MakeThings(ctx context.Context, t *testing.T) (repo.Repository[things.Thing], error) {
	return openOn(ctx, t, o, things.ThingSchema.Table, things.NewThingRepositoryFromTarget)
}

// MakeOthers implements Harness.
func (o Opener) MakeOthers(ctx context.Context, t *testing.T) (repo.Repository[things.Other], error) {
	return openOn(ctx, t, o, things.OtherSchema.Table, things.NewOtherRepositoryFromTarget)
}

// MakeKeywords implements Harness.
func (o Opener) MakeKeywords(ctx context.Context, t *testing.T) (repo.Repository[things.Keyword], error) {
	return openOn(ctx, t, o, things.KeywordSchema.Table, things.NewKeywordRepositoryFromTarget)
}

// MakeMembers implements Harness.
func (o Opener) MakeMembers(ctx context.Context, t *testing.T) (repo.Repository[things.Member], error) {
	return openOn(ctx, t, o, things.MemberSchema.Table, things.NewMemberRepositoryFromTarget)
}

// MakeDocs implements Harness.
func (o Opener) MakeDocs(ctx context.Context, t *testing.T) (repo.Repository[things.Doc], error) {
	return openOn(ctx, t, o, things.DocSchema.Table, things.NewDocRepositoryFromTarget)
}

// MakeLimited implements LimitHarness.
func (o Opener) MakeLimited(ctx context.Context, t *testing.T) (repo.Repository[Limited], error) {
	return openOn(ctx, t, o, LimitedSchema.Table, func(ctx context.Context, m *pool.Manager, tg open.Target, opts ...open.Option) (*repo.Collection[Limited], error) {
		return OpenDesc(ctx, m, tg, LimitedSchema, opts...)
	})
}

// LeakOptions implements LeakIgnorer with the options of Targets.
func (o Opener) LeakOptions() []goleak.Option {
	if l, ok := o.Targets.(LeakIgnorer); ok {
		return l.LeakOptions()
	}
	return nil
}

// OpenDesc opens a repository of the record desc describes on t, as a generated opener does
// for its records (the options of t's backend go to its constructor, repo.Options configure
// the repository), for records without generated code such as Limited.
func OpenDesc[T any](ctx context.Context, m *pool.Manager, t open.Target, desc *record.Desc[T], opts ...open.Option) (*repo.Collection[T], error) {
	if err := t.CheckManager(m); err != nil {
		return nil, err
	}
	var d repo.Driver[T]
	var err error
	switch t.Backend {
	case open.Memory:
		d = memory.New(desc)
	case open.Postgres:
		d, err = postgres.New(ctx, m, t.Config, desc, open.OptionsFor[postgres.Option](opts)...)
	case open.S3:
		d, err = s3.New(ctx, m, t.Config, desc, open.OptionsFor[s3.Option](opts)...)
	case open.Elasticsearch:
		d, err = elasticsearch.New(ctx, m, t.Config, desc, open.OptionsFor[elasticsearch.Option](opts)...)
	default:
		return nil, open.NotGenerated(t, "drivertest", open.Backends...)
	}
	if err != nil {
		return nil, err
	}
	return open.Configure(repo.New(desc, d), nil, opts)
}

// HTTPLeaks are the goleak options of a backend whose client is an HTTP client (S3,
// Elasticsearch): the transport's keep-alive connections outlive a stream by design.
func HTTPLeaks() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	}
}

// ThingsAt returns an opener of the Thing repository at one target of targets, taken now for
// t under the name base (a table, index or prefix of its own, removed when t ends), with its
// configuration replaced by via(config) when via is not nil: the fault tests reach the server
// through a proxy while the cleanup reaches it directly. Every call opens the same place, on
// the manager it is given: what the fault matrix reopens.
func ThingsAt(t *testing.T, targets Targets, base string, via func(pool.Config) pool.Config) func(context.Context, *testing.T, *pool.Manager) (repo.Repository[things.Thing], error) {
	t.Helper()
	tg, opts, err := targets.Target(context.Background(), t, base)
	if err != nil {
		t.Fatal(err)
	}
	if via != nil {
		tg.Config = via(tg.Config)
	}
	return func(ctx context.Context, _ *testing.T, m *pool.Manager) (repo.Repository[things.Thing], error) {
		return things.NewThingRepositoryFromTarget(ctx, m, tg, opts...)
	}
}
