package drivertest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/repo"
)

func testConcurrentWriters(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	const workers, per, increments = 8, 25, 10
	if _, err := r.Create(ctx, things.Thing{ID: "counter", Name: "counter", Created: t0}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	// Readers run while the writers write.
	var readers sync.WaitGroup
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := r.Find(ctx, things.ThingQuery().Where(things.ThingFields.Count.EQ(1)).Limit(10)); err != nil {
					t.Errorf("concurrent Find: %v", err)
					return
				}
				if _, err := r.Count(ctx, things.ThingQuery()); err != nil {
					t.Errorf("concurrent Count: %v", err)
					return
				}
			}
		}()
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				id := fmt.Sprintf("w%d-%02d", w, i)
				rec, err := r.Create(ctx, things.Thing{ID: id, Name: "worker", Created: t0})
				if err != nil {
					t.Errorf("Create %s: %v", id, err)
					return
				}
				rec.Count = 1
				if _, err := r.Update(ctx, rec, repo.IfVersion(rec.RecordVersion)); err != nil {
					t.Errorf("Update %s: %v", id, err)
					return
				}
			}
			// Optimistic increments of a shared record: retry on conflict.
			for range increments {
				for attempt := 0; ; attempt++ {
					if attempt > 1000 {
						t.Errorf("no progress incrementing the counter")
						return
					}
					c, err := r.Get(ctx, "counter")
					if err != nil {
						t.Errorf("Get counter: %v", err)
						return
					}
					c.Count++
					_, err = r.Update(ctx, c, repo.IfVersion(c.RecordVersion))
					if err == nil {
						break
					}
					if !errors.Is(err, repo.ErrVersionConflict) {
						t.Errorf("Update counter: %v", err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	readers.Wait()
	if t.Failed() {
		return
	}
	if n := count(ctx, t, r, things.ThingQuery()); n != workers*per+1 {
		t.Errorf("Count = %d, want %d", n, workers*per+1)
	}
	if n := count(ctx, t, r, things.ThingQuery().Where(things.ThingFields.Count.EQ(1), things.ThingFields.Name.EQ("worker"))); n != workers*per {
		t.Errorf("updated records = %d, want %d", n, workers*per)
	}
	c, err := r.Get(ctx, "counter")
	if err != nil {
		t.Fatal(err)
	}
	if c.Count != workers*increments {
		t.Errorf("counter = %d after %d optimistic increments: updates were lost", c.Count, workers*increments)
	}

	// Concurrent batches with the same ids: each id is stored exactly once.
	ids := make([]things.Thing, 50)
	for i := range ids {
		ids[i] = things.Thing{ID: fmt.Sprintf("dup-%02d", i), Name: "dup", Created: t0}
	}
	var mu sync.Mutex
	wins := map[string]int{}
	var bwg sync.WaitGroup
	for range 4 {
		bwg.Add(1)
		go func() {
			defer bwg.Done()
			res, err := r.CreateBatch(ctx, ids)
			if err != nil {
				t.Errorf("CreateBatch: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, x := range res {
				switch {
				case x.Err == nil:
					wins[x.ID]++
				case !errors.Is(x.Err, repo.ErrAlreadyExists):
					t.Errorf("batch item %s: %v", x.ID, x.Err)
				}
			}
		}()
	}
	bwg.Wait()
	for _, x := range ids {
		if wins[x.ID] != 1 {
			t.Errorf("id %s was created %d times by concurrent batches", x.ID, wins[x.ID])
		}
	}
	if n := count(ctx, t, r, things.ThingQuery().Where(things.ThingFields.Name.EQ("dup"))); n != 50 {
		t.Errorf("Count of batch records = %d, want 50", n)
	}
}
