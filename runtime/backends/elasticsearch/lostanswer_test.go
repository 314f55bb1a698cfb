package elasticsearch_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// lossyTransport plays the resend of a write whose answer was lost, as Elasticsearch does
// when a primary fails over after applying a write (the coordinating node sends the
// shard-level request again to the promoted replica, which has it already): while armed,
// the next write request on the record index is sent to the server, its answer dropped, and the very same
// request (same body, same write token) sent again; the caller gets the second answer.
// While unreadable is set, reads of documents (_mget, GET of a document) fail as a lost
// connection would.
type lossyTransport struct {
	index      string // the record index: writes of reservations are not dropped
	next       http.RoundTripper
	armed      atomic.Bool
	resent     atomic.Int64
	unreadable atomic.Bool
}

func (lt *lossyTransport) isWrite(req *http.Request) bool {
	p := req.URL.Path
	return strings.HasPrefix(p, "/"+lt.index+"/") && (req.Method == http.MethodPut || req.Method == http.MethodPost || req.Method == http.MethodDelete) &&
		(strings.Contains(p, "/_doc/") || strings.Contains(p, "/_create/") || strings.HasSuffix(p, "/_bulk"))
}

func isDocRead(req *http.Request) bool {
	p := req.URL.Path
	return strings.HasSuffix(p, "/_mget") || (req.Method == http.MethodGet && strings.Contains(p, "/_doc/"))
}

func (lt *lossyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if lt.unreadable.Load() && isDocRead(req) {
		return nil, errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: connection reset by peer")
	}
	if !lt.isWrite(req) || !lt.armed.CompareAndSwap(true, false) {
		return lt.next.RoundTrip(req)
	}
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	send := func() (*http.Response, error) {
		r := req.Clone(req.Context())
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		return lt.next.RoundTrip(r)
	}
	first, err := send()
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, first.Body) // the answer that is lost
	first.Body.Close()
	lt.resent.Add(1)
	return send()
}

// lossyDriver opens a driver of desc on a fresh index whose requests go through a
// lossyTransport.
func lossyDriver[T any](t *testing.T, desc *record.Desc[T]) (context.Context, *repo.Collection[T], *lossyTransport) {
	t.Helper()
	cfg := testConfig(t)
	m := pool.New(pool.Options{})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	index := uniqueIndex(t, "lost")
	d, err := elasticsearch.New(ctx, m, cfg, desc, elasticsearch.WithIndex(index), elasticsearch.WithUniqueIndex(index+"-unique"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close(); deleteIndex(t, m, cfg, index); deleteIndex(t, m, cfg, index+"-unique") })
	lt := &lossyTransport{index: index}
	if err := elasticsearch.WrapTransport(ctx, d, cfg, func(next http.RoundTripper) http.RoundTripper {
		lt.next = next
		return lt
	}); err != nil {
		t.Fatal(err)
	}
	return ctx, repo.New(desc, d), lt
}

// lose arms lt for the next write and, after fn, checks that the write was resent.
func (lt *lossyTransport) lose(t *testing.T, what string, fn func()) {
	t.Helper()
	before := lt.resent.Load()
	lt.armed.Store(true)
	fn()
	lt.armed.Store(false)
	if lt.resent.Load() == before {
		t.Fatalf("%s: no write was resent; the test did not exercise a lost answer", what)
	}
}

// TestLostAnswer: a create and a conditional update whose first attempt was stored and
// whose resend was answered 409 are reported done with the stored version (the document
// holds their write token), single and in batches; a 409 caused by another writer still is
// ErrAlreadyExists / ErrVersionConflict.
func TestLostAnswer(t *testing.T) {
	ctx, r, lt := lossyDriver(t, things.ThingSchema)
	at := time.Unix(0, 0).UTC()

	var a things.Thing
	var err error
	lt.lose(t, "Create", func() { a, err = r.Create(ctx, things.Thing{ID: "a", Name: "first", Created: at}) })
	if err != nil {
		t.Fatalf("Create whose answer was lost: %v, want success", err)
	}
	if got, err := r.Get(ctx, "a"); err != nil || got.Name != "first" || got.RecordVersion != a.RecordVersion {
		t.Fatalf("stored %+v, %v; Create returned version %s", got, err, a.RecordVersion)
	}
	if _, err := r.Create(ctx, things.Thing{ID: "a", Name: "other writer", Created: at}); !errors.Is(err, repo.ErrAlreadyExists) {
		t.Fatalf("Create of an existing record by another write: %v, want ErrAlreadyExists", err)
	}

	a.Name = "second"
	var a2 things.Thing
	lt.lose(t, "Update", func() { a2, err = r.Update(ctx, a, repo.IfVersion(a.RecordVersion)) })
	if err != nil {
		t.Fatalf("Update whose answer was lost: %v, want success", err)
	}
	if got, err := r.Get(ctx, "a"); err != nil || got.Name != "second" || got.RecordVersion != a2.RecordVersion {
		t.Fatalf("stored %+v, %v; Update returned version %s", got, err, a2.RecordVersion)
	}
	a.Name = "stale writer"
	if _, err := r.Update(ctx, a, repo.IfVersion(a.RecordVersion)); !errors.Is(err, repo.ErrVersionConflict) {
		t.Fatalf("Update with a stale version: %v, want ErrVersionConflict", err)
	}

	// Batches: the stored items succeed, the item another writer holds does not.
	recs := []things.Thing{{ID: "b", Name: "b", Created: at}, {ID: "a", Name: "taken", Created: at}, {ID: "c", Name: "c", Created: at}}
	var res []repo.Result
	lt.lose(t, "CreateBatch", func() { res, err = r.CreateBatch(ctx, recs) })
	if err != nil || res[0].Err != nil || res[2].Err != nil || !errors.Is(res[1].Err, repo.ErrAlreadyExists) {
		t.Fatalf("CreateBatch whose answer was lost: %v, %+v; want b and c created, a ErrAlreadyExists", err, res)
	}
	for _, k := range []int{0, 2} {
		if got, err := r.Get(ctx, recs[k].ID); err != nil || got.RecordVersion != res[k].Version {
			t.Fatalf("%s: stored %+v, %v; CreateBatch returned version %s", recs[k].ID, got, err, res[k].Version)
		}
	}
	ups := []things.Thing{{ID: "b", Name: "b2", Created: at, RecordVersion: res[0].Version},
		{ID: "c", Name: "c2", Created: at, RecordVersion: "1:1"}} // c: a version it no longer has
	lt.lose(t, "UpdateBatch", func() { res, err = r.UpdateBatch(ctx, ups, repo.IfRecordVersions()) })
	if err != nil || res[0].Err != nil || !errors.Is(res[1].Err, repo.ErrVersionConflict) {
		t.Fatalf("UpdateBatch whose answer was lost: %v, %+v; want b updated, c ErrVersionConflict", err, res)
	}
	if got, err := r.Get(ctx, "b"); err != nil || got.Name != "b2" || got.RecordVersion != res[0].Version {
		t.Fatalf("b: stored %+v, %v; UpdateBatch returned version %s", got, err, res[0].Version)
	}

	// A delete leaves no document to carry its token: the resend of a delete whose first
	// attempt removed the record is ErrNotFound (the record is gone, as the caller wanted;
	// docs/elasticsearch.md).
	lt.lose(t, "Delete", func() { err = r.Delete(ctx, "a", repo.IfVersion(a2.RecordVersion)) })
	if !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("Delete whose answer was lost: %v, want ErrNotFound", err)
	}
	if _, err := r.Get(ctx, "a"); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("a after the Delete: %v, want ErrNotFound", err)
	}
}

// TestLostAnswerUnreadable: when the document of a write answered 409 cannot be read back,
// the outcome is unknown: ErrUnavailable, never ErrAlreadyExists or ErrVersionConflict.
func TestLostAnswerUnreadable(t *testing.T) {
	ctx, r, lt := lossyDriver(t, things.ThingSchema)
	at := time.Unix(0, 0).UTC()
	lt.unreadable.Store(true)
	var err error
	lt.lose(t, "Create", func() { _, err = r.Create(ctx, things.Thing{ID: "a", Name: "first", Created: at}) })
	if !errors.Is(err, repo.ErrUnavailable) {
		t.Fatalf("Create whose answer was lost and could not be checked: %v, want ErrUnavailable", err)
	}
	t.Logf("Create: %v", err)
	var res []repo.Result
	lt.lose(t, "CreateBatch", func() {
		res, err = r.CreateBatch(ctx, []things.Thing{{ID: "b", Name: "b", Created: at}, {ID: "c", Name: "c", Created: at}})
	})
	if err != nil || !errors.Is(res[0].Err, repo.ErrUnavailable) || !errors.Is(res[1].Err, repo.ErrUnavailable) {
		t.Fatalf("CreateBatch whose answer was lost and could not be checked: %v, %+v; want ErrUnavailable items", err, res)
	}
	lt.unreadable.Store(false)
	for _, id := range []string{"a", "b", "c"} {
		if _, err := r.Get(ctx, id); err != nil {
			t.Fatalf("%s: the first attempt's record is not stored: %v", id, err)
		}
	}
}

// TestLostAnswerUnique: the writes of records with unique fields (reservations first, then
// the record) read a lost answer back too, and keep the reservations of the stored record.
func TestLostAnswerUnique(t *testing.T) {
	ctx, r, lt := lossyDriver(t, things.MemberSchema)
	var m things.Member
	var err error
	lt.lose(t, "Create", func() { m, err = r.Create(ctx, things.Member{ID: "m", Email: "m@example.com"}) })
	if err != nil {
		t.Fatalf("Create whose answer was lost: %v, want success", err)
	}
	m.Email = "m2@example.com"
	lt.lose(t, "Update", func() { m, err = r.Update(ctx, m, repo.IfVersion(m.RecordVersion)) })
	if err != nil {
		t.Fatalf("Update whose answer was lost: %v, want success", err)
	}
	if got, err := r.Get(ctx, "m"); err != nil || got.Email != "m2@example.com" || got.RecordVersion != m.RecordVersion {
		t.Fatalf("stored %+v, %v; Update returned version %s", got, err, m.RecordVersion)
	}
	if _, err := r.Create(ctx, things.Member{ID: "n", Email: "m2@example.com"}); !errors.Is(err, repo.ErrAlreadyExists) {
		t.Fatalf("Create repeating the stored record's unique value: %v, want ErrAlreadyExists", err)
	}
	var res []repo.Result
	lt.lose(t, "CreateBatch", func() {
		res, err = r.CreateBatch(ctx, []things.Member{{ID: "p", Email: "p@example.com"}, {ID: "q", Email: "q@example.com"}})
	})
	if err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("CreateBatch whose answer was lost: %v, %+v; want both created", err, res)
	}
}
