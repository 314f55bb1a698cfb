package elasticsearch_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/recordtest"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/query"
)

// item5 is item1 with what its version 2 adds: a searchable text, a time and a JSON value,
// the three kinds of field whose query forms live in the document's meta object (search
// terms, microsecond times, the presence list of JSON values).
type item5 struct {
	item1
	Blurb *string         `json:"blurb,omitempty" record:"blurb,text,search=english"`
	Seen  *time.Time      `json:"seen,omitempty"`
	Extra json.RawMessage `json:"extra,omitempty" record:"extra,json"`
}

var item5Desc = recordtest.MustNew[item5]("Item")

// TestMigrateOlderCodeKeepsMeta: a write by code of version 1 over a document of version 2
// keeps what version 2 queries its new fields by, not only their values: after a version-1
// Update and UpsertBatch, version 2 still finds the documents by a search of the new text
// field (its terms), by the exact new time (its microsecond form) and by the presence of the
// new JSON value.
func TestMigrateOlderCodeKeepsMeta(t *testing.T) {
	e := newMigEnv(t)
	dirs := e.addFields(t, migrate.Field{Name: "blurb", Type: "text", Search: "english"},
		migrate.Field{Name: "seen", Type: "time"}, migrate.Field{Name: "extra", Type: "json"})
	r2 := mustOpenAt(t, e, item5Desc, dirs[1])
	r1 := mustOpenAt(t, e, item1Desc, dirs[0])

	seen := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	ids := []string{"m1", "m2"}
	for _, id := range ids {
		rec := item5{item1: item1{ID: id, Name: "n", Sku: "s-" + id, Label: "l"}, Blurb: ptr("Running shoes for muddy trails"),
			Seen: &seen, Extra: json.RawMessage(`{"size":42}`)}
		if _, err := r2.Create(e.ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r1.Update(e.ctx, item1{ID: "m1", Name: "v1 Update", Sku: "s-m1", Label: "l"}); err != nil {
		t.Fatal(err)
	}
	if res, err := r1.UpsertBatch(e.ctx, []item1{{ID: "m2", Name: "v1 UpsertBatch", Sku: "s-m2", Label: "l"}}); err != nil || res[0].Err != nil {
		t.Fatalf("version-1 UpsertBatch: %+v, %v", res, err)
	}
	q := query.New[item5]()
	for _, c := range []struct {
		name string
		q    query.Query[item5]
	}{
		{"search of the new text field", q.Where(query.NewTextField[item5]("blurb").Search("run trail"))},
		{"phrase of the new text field", q.Where(query.NewTextField[item5]("blurb").SearchPhrase("muddy trails"))},
		{"the exact new time", q.Where(query.NewTimeField[item5]("seen").EQ(seen))},
		{"the new JSON value present", q.Where(query.NewPresenceField[item5]("extra").Exists())},
	} {
		got, err := r2.Find(e.ctx, c.q.OrderBy(query.NewStringField[item5]("id").Asc()))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var names []string
		for _, g := range got {
			names = append(names, g.ID+" "+g.Name)
		}
		if len(got) != 2 || got[0].Name != "v1 Update" || got[1].Name != "v1 UpsertBatch" {
			t.Errorf("version 2, %s, after version-1 writes: %q; want m1 and m2 as version 1 wrote them", c.name, names)
		}
	}
}
