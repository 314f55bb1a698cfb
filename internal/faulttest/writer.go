package faulttest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/repo"
)

// writer runs writes on ids of its own until stop closes, each call under its own deadline,
// and books every call in its ledger.
type writer struct {
	id  string // prefix of the ids it creates
	r   repo.Repository[things.Thing]
	l   *ledger
	cfg Config
	col *Collector
	rng *rand.Rand
	n   int
	// during is true while the fault is on: calls that start then are counted apart.
	during *atomic.Bool
}

// errorPause is how long a writer waits after a failed call.
const errorPause = 20 * time.Millisecond

// batchSize is the number of records of each CreateBatch.
const batchSize = 3

func (w *writer) run(ctx context.Context, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		default:
		}
		switch p := w.rng.IntN(10); {
		case len(w.l.live) == 0 || p < 3:
			w.create(ctx)
		case p < 5:
			w.batch(ctx)
		case p < 8:
			w.update(ctx)
		default:
			w.delete(ctx)
		}
	}
}

func (w *writer) nextID() string {
	w.n++
	return fmt.Sprintf("%s-%d", w.id, w.n)
}

// timed runs fn under the per-call deadline and books the call.
func (w *writer) timed(ctx context.Context, what string, fn func(context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, w.cfg.CallTimeout)
	defer cancel()
	during := w.during.Load()
	start := time.Now()
	err := fn(cctx)
	w.l.call(what, during, time.Since(start), w.cfg.CallTimeout+w.cfg.Slack, err)
	w.col.Err(err)
	if err != nil {
		sleep(ctx, errorPause) // a refused connection fails at once: do not spin
	}
	return err
}

func (w *writer) create(ctx context.Context) {
	id := w.nextID()
	var got things.Thing
	err := w.timed(ctx, "Create "+id, func(ctx context.Context) (err error) {
		got, err = w.r.Create(ctx, thing(id, 1))
		return err
	})
	w.l.write(id, "Create", state{true, 1}, got.RecordVersion, err)
}

func (w *writer) batch(ctx context.Context) {
	recs := make([]things.Thing, batchSize)
	for i := range recs {
		recs[i] = thing(w.nextID(), 1)
	}
	var res []repo.Result
	err := w.timed(ctx, "CreateBatch "+recs[0].ID, func(ctx context.Context) (err error) {
		res, err = w.r.CreateBatch(ctx, recs)
		return err
	})
	for i, rec := range recs {
		switch {
		case err != nil:
			w.l.write(rec.ID, "CreateBatch", state{true, 1}, "", err)
		case len(res) != len(recs):
			w.l.write(rec.ID, "CreateBatch", state{true, 1}, "", fmt.Errorf("CreateBatch returned %d results for %d records", len(res), len(recs)))
		default:
			w.col.Err(res[i].Err)
			if res[i].Err != nil {
				w.l.kinds[kindName(res[i].Err)]++
			}
			w.l.write(rec.ID, "CreateBatch", state{true, 1}, res[i].Version, res[i].Err)
		}
	}
}

func (w *writer) pick() (string, *entry) {
	id := w.l.live[w.rng.IntN(len(w.l.live))]
	return id, w.l.ids[id]
}

func (w *writer) update(ctx context.Context) {
	id, e := w.pick()
	rec := thing(id, e.confirmed.count+1)
	var got things.Thing
	err := w.timed(ctx, "Update "+id, func(ctx context.Context) (err error) {
		got, err = w.r.Update(ctx, rec, repo.IfVersion(e.version))
		return err
	})
	w.l.write(id, "Update", state{true, rec.Count}, got.RecordVersion, err)
}

func (w *writer) delete(ctx context.Context) {
	id, e := w.pick()
	err := w.timed(ctx, "Delete "+id, func(ctx context.Context) error {
		return w.r.Delete(ctx, id, repo.IfVersion(e.version))
	})
	w.l.write(id, "Delete", state{}, "", err)
}
