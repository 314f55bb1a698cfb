package elasticsearch_test

import (
	"context"
	"fmt"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/pool"
)

// Opening generated repositories on a shared client, writing and querying. (Compiled, not
// run: it needs a node.)
func Example() {
	ctx := context.Background()
	m := pool.New(pool.Options{IdleGrace: time.Minute})
	defer m.CloseAll(ctx)

	cfg := pool.NewElasticsearchPoolConfig()
	cfg.Hosts = []string{"http://127.0.0.1:19200"}

	// Creates index "thing" with things.ThingElasticsearchMapping, or checks its mapping.
	thingsRepo, err := things.NewThingElasticsearchRepository(ctx, m, cfg)
	if err != nil {
		fmt.Println(err) // e.g. an *elasticsearch.DriftError listing every difference
		return
	}
	defer thingsRepo.Close()

	// Writes wait for a refresh (the default), so the Find below sees them.
	if _, err := thingsRepo.CreateBatch(ctx, []things.Thing{
		{ID: "a", Name: "apple", Count: 3, Created: time.Now()},
		{ID: "b", Name: "banana", Count: 5, Created: time.Now()},
	}); err != nil {
		fmt.Println(err)
		return
	}
	F := things.ThingFields
	found, err := thingsRepo.Find(ctx, things.ThingQuery().Where(F.Name.Like("b%"), F.Count.GT(1)).OrderBy(F.Created.Desc()))
	fmt.Println(len(found), err)

	// Another record type on the same config shares the same client.
	others, err := things.NewOtherElasticsearchRepository(ctx, m, cfg, elasticsearch.WithRefresh(elasticsearch.RefreshFalse))
	if err == nil {
		defer others.Close()
	}
}
