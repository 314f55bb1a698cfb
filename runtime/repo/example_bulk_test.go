package repo_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/memory"
	"github.com/repokit/repokit/runtime/repo"
)

// GetBatch reads many records at once: one result per id, in order, and a missing id is its
// item's ErrNotFound, not the call's error.
func ExampleCollection_GetBatch() {
	ctx := context.Background()
	r := repo.New(things.MemberSchema, memory.New(things.MemberSchema))
	defer r.Close()
	if _, err := r.CreateBatch(ctx, []things.Member{{ID: "ann", Email: "ann@example.com"}, {ID: "bob", Email: "bob@example.com"}}); err != nil {
		panic(err)
	}

	recs, res, err := r.GetBatch(ctx, []string{"bob", "zoe", "ann"})
	if err != nil {
		panic(err) // the call as a whole failed
	}
	for i := range res {
		switch {
		case errors.Is(res[i].Err, repo.ErrNotFound):
			fmt.Printf("%s: not found\n", res[i].ID)
		case res[i].Err != nil:
			fmt.Printf("%s: %v\n", res[i].ID, res[i].Err)
		default:
			fmt.Printf("%s: %s\n", res[i].ID, recs[i].Email)
		}
	}
	// Output:
	// bob: bob@example.com
	// zoe: not found
	// ann: ann@example.com
}

// StreamWrite stores an unbounded sequence in batches, holding one batch in memory, and
// reports every record that failed.
func ExampleCollection_StreamWrite() {
	ctx := context.Background()
	r := repo.New(things.MemberSchema, memory.New(things.MemberSchema))
	defer r.Close()

	members := func(yield func(things.Member) bool) { // e.g. rows of a file being read
		for i := range 2500 {
			email := fmt.Sprintf("m%d@example.com", i)
			if i == 1234 {
				email = "m0@example.com" // taken by m0: this record fails
			}
			if !yield(things.Member{ID: fmt.Sprintf("m%04d", i), Email: email}) {
				return
			}
		}
	}
	res, err := r.StreamWrite(ctx, members, repo.StreamBatchSize(1000))
	if err != nil {
		panic(err)
	}
	fmt.Printf("processed %d, written %d, failed %d, in %d batches\n", res.Processed, res.Written, res.Failed, res.Batches)
	for _, f := range res.Failures {
		fmt.Printf("record %d (%s): %v\n", f.Index, f.ID, errors.Is(f.Err, repo.ErrAlreadyExists))
	}
	// Output:
	// processed 2500, written 2499, failed 1, in 3 batches
	// record 1234 (m1234): true
}
