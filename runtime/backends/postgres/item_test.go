package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/recordtest"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// item is a test-local record, described the way the generator describes records (see
// drivertest/things): a text id, a unique optional email, an enum, a list<uuid> (uuid[]
// column) and an optional time. It does not depend on the generated test packages.
type item struct {
	ID            string
	Email         *string  `record:",unique"`
	Kind          string   `record:",enum=a|b|c"`
	Refs          []string `record:",uuid,indexed"`
	At            *time.Time
	RecordVersion string
}

var itemFields = struct {
	ID    query.StringField[item]
	Email query.StringField[item]
	Kind  query.StringField[item]
	Refs  query.ListField[item, string]
	At    query.TimeField[item]
}{
	ID:    query.NewStringField[item]("id"),
	Email: query.NewStringField[item]("email"),
	Kind:  query.NewStringField[item]("kind"),
	Refs:  query.NewStringListField[item]("refs"),
	At:    query.NewTimeField[item]("at"),
}

func itemQuery() query.Query[item] { return query.New[item]() }

// itemSchema is item's descriptor, as generated: every value checked, times normalized; a
// time outside PostgreSQL's timestamptz range passes (record.Prepare has no range check).
// Without the round-trip rule, so that an empty list reaches the driver (TestUUIDList's "e").
var itemSchema = recordtest.MustNew[item]("item", recordtest.Index(""), recordtest.Prefix(""), recordtest.NoRoundTrip())

// itemRepo returns a repository of items on a fresh table of h's server.
func itemRepo(t *testing.T, h harness, opts ...postgres.Option) (context.Context, *repo.Collection[item], string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	table := tableName(t, h.m, h.cfg, "item")
	d, err := postgres.New(ctx, h.m, h.cfg, itemSchema, append([]postgres.Option{postgres.WithTable(table)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	r := repo.New(itemSchema, d)
	t.Cleanup(func() { _ = r.Close() })
	return ctx, r, table
}

func ptr[V any](v V) *V { return &v }

// outOfRange is a time that record.Prepare accepts and PostgreSQL's timestamptz does not
// (its range starts in 4713 BC): the server rejects it with 22008.
var outOfRange = time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC)

func itemIDs(recs []item) []string {
	out := make([]string, len(recs))
	for i := range recs {
		out[i] = recs[i].ID
	}
	return out
}
