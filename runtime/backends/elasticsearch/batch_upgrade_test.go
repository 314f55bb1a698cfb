package elasticsearch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/internal/recordtest"
	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

type upItem struct {
	ID            string `json:"id"`
	Heading       string `json:"heading"`
	Status        string `json:"status"`
	RecordVersion string `json:"-"`
}

// TestGetManyReadUpgrade checks that GetMany reads documents an older version wrote after a
// migration (a renamed field under its old name, a defaulted field missing) in the newest
// form, as Get does.
func TestGetManyReadUpgrade(t *testing.T) {
	desc := recordtest.MustNew[upItem]("Item")
	rec := func(fields ...migrate.Field) migrate.Schema {
		return migrate.Schema{Records: []migrate.Record{{Name: "Item", Table: "item", Index: "item", Prefix: "item", ID: migrate.ID{Name: "id", Type: "string"}, Fields: fields}}}
	}
	var h migrate.History
	for i, s := range []migrate.Schema{
		rec(migrate.Field{Name: "label", Type: "string", Required: true}),
		rec(migrate.Field{Name: "heading", Type: "string", Required: true, RenamedFrom: "label"},
			migrate.Field{Name: "status", Type: "string", Required: true, Default: "new"}),
	} {
		m, err := h.Next(s, fmt.Sprintf("m%d", i), false)
		if err != nil {
			t.Fatal(err)
		}
		h = append(h, m)
	}

	cfg := pool.NewElasticsearchPoolConfig()
	cfg.Hosts = []string{servicetest.ElasticsearchURL(t)}
	m := pool.New(pool.Options{})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	index := fmt.Sprintf("rk-test-upgrade-%d", os.Getpid())
	// An index that holds both forms (the driver's own mapping is strict).
	c, err := NewClient(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	do := func(req esapi.Request) {
		t.Helper()
		r, err := req.Do(ctx, c.ES)
		if err != nil {
			t.Fatal(err)
		}
		defer closeBody(r)
		if r.IsError() {
			t.Fatal(r.String())
		}
	}
	do(esapi.IndicesCreateRequest{Index: index, Body: strings.NewReader(`{"settings":{"number_of_replicas":0}}`)})
	t.Cleanup(func() {
		r, err := esapi.IndicesDeleteRequest{Index: []string{index}}.Do(context.Background(), c.ES)
		if err == nil {
			closeBody(r)
		}
	})
	do(esapi.IndexRequest{Index: index, DocumentID: "old", Body: strings.NewReader(`{"id":"old","label":"L"}`)})
	do(esapi.IndexRequest{Index: index, DocumentID: "new", Body: strings.NewReader(`{"id":"new","heading":"H","status":"done"}`)})

	d, err := New(ctx, m, cfg, desc, WithIndex(index), WithoutEnsureIndex())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.codec.up = newReadUpgrade(h, "Item")
	ids := []string{"old", "missing", "new"}
	recs := make([]upItem, len(ids))
	res := make([]repo.Result, len(ids))
	if err := d.GetMany(ctx, ids, recs, res); err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || recs[0].Heading != "L" || recs[0].Status != "new" {
		t.Errorf("GetMany of an old-form document = %+v, %v; want heading L, status new", recs[0], res[0].Err)
	}
	if !errors.Is(res[1].Err, repo.ErrNotFound) {
		t.Errorf("GetMany of a missing id: %v", res[1].Err)
	}
	if res[2].Err != nil || recs[2].Heading != "H" || recs[2].Status != "done" {
		t.Errorf("GetMany of a new-form document = %+v, %v", recs[2], res[2].Err)
	}
	if one, err := d.Get(ctx, "old"); err != nil || one != recs[0] {
		t.Errorf("Get = %+v, %v; GetMany = %+v", one, err, recs[0])
	}
}
