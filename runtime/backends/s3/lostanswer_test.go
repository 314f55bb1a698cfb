package s3_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/repo"
)

// loseNextAnswer makes the next PUT of a record reach the server and be stored, and then
// fails it on the client as if the connection had been reset before the answer arrived:
// the SDK resends the request, and a conditional write's resend finds the object changed by
// the first attempt.
func loseNextAnswer(d *s3.Driver[things.Thing], bucket string) *atomic.Bool {
	var armed atomic.Bool
	recordPrefix := "/" + bucket + "/" + d.Prefix()
	s3.WrapHTTPForTest(d, func(next awss3.HTTPClient) awss3.HTTPClient {
		return s3.HTTPDoer(func(req *http.Request) (*http.Response, error) {
			if req.Method == http.MethodPut && strings.HasPrefix(req.URL.Path, recordPrefix) && armed.CompareAndSwap(true, false) {
				res, err := next.Do(req)
				if err != nil {
					return nil, err
				}
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				if res.StatusCode != http.StatusOK {
					return nil, errors.New("the first attempt was not stored: " + res.Status)
				}
				return nil, errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer")
			}
			return next.Do(req)
		})
	})
	return &armed
}

// TestLostAnswer: a conditional write (Create: If-None-Match, Update with a version:
// If-Match) that was stored but whose answer was lost is resent by the SDK; the resend
// fails its condition because of the first attempt. The call must report the write as done,
// with the stored version, not ErrAlreadyExists or ErrVersionConflict.
func TestLostAnswer(t *testing.T) {
	ctx, d, r := newDriverFor(t, things.ThingSchema)
	armed := loseNextAnswer(d, testConfig(t).Bucket)
	created := time.Unix(0, 0).UTC()

	armed.Store(true)
	rec, err := r.Create(ctx, things.Thing{ID: "a", Name: "first", Created: created})
	if err != nil {
		t.Fatalf("Create whose answer was lost: %v, want success", err)
	}
	if armed.Load() {
		t.Fatal("the answer was not lost: the test did not exercise the resend")
	}
	got, err := r.Get(ctx, "a")
	if err != nil || got.RecordVersion != rec.RecordVersion || got.Name != "first" {
		t.Fatalf("stored: %+v, %v; Create returned version %q", got, err, rec.RecordVersion)
	}

	armed.Store(true)
	rec.Name = "second"
	upd, err := r.Update(ctx, rec, repo.IfVersion(rec.RecordVersion))
	if err != nil {
		t.Fatalf("Update whose answer was lost: %v, want success", err)
	}
	got, err = r.Get(ctx, "a")
	if err != nil || got.RecordVersion != upd.RecordVersion || got.Name != "second" {
		t.Fatalf("stored: %+v, %v; Update returned version %q", got, err, upd.RecordVersion)
	}

	// A real conflict is still one: another writer's object does not carry this write's rev.
	if _, err := r.Create(ctx, things.Thing{ID: "a", Name: "third", Created: created}); !errors.Is(err, repo.ErrAlreadyExists) {
		t.Errorf("Create of a taken id: %v, want ErrAlreadyExists", err)
	}
	if _, err := r.Update(ctx, rec, repo.IfVersion(rec.RecordVersion)); !errors.Is(err, repo.ErrVersionConflict) {
		t.Errorf("Update with a stale version: %v, want ErrVersionConflict", err)
	}
}

// TestLostAnswerUnreadable: as TestLostAnswer, but reading the object back fails too (the
// fault that broke the answer lasts). Whether the first attempt was stored cannot be told,
// so the call must say so (ErrUnavailable), never report the stored write as rejected
// (ErrAlreadyExists): the fault matrix once found such a record stored.
func TestLostAnswerUnreadable(t *testing.T) {
	ctx, d, r := newDriverFor(t, things.ThingSchema)
	armed := loseNextAnswer(d, testConfig(t).Bucket)
	var readFails atomic.Bool
	s3.WrapHTTPForTest(d, func(next awss3.HTTPClient) awss3.HTTPClient {
		return s3.HTTPDoer(func(req *http.Request) (*http.Response, error) {
			if req.Method == http.MethodGet && req.Header.Get("Range") != "" && readFails.Load() {
				return nil, errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: i/o timeout")
			}
			return next.Do(req)
		})
	})
	armed.Store(true)
	readFails.Store(true)
	_, err := r.Create(ctx, things.Thing{ID: "a", Name: "first", Created: time.Unix(0, 0).UTC()})
	readFails.Store(false)
	if armed.Load() {
		t.Fatal("the answer was not lost: the test did not exercise the resend")
	}
	if !errors.Is(err, repo.ErrUnavailable) {
		t.Fatalf("Create whose answer was lost and could not be checked: %v, want ErrUnavailable", err)
	}
	if got, gerr := r.Get(ctx, "a"); gerr != nil || got.Name != "first" {
		t.Fatalf("stored: %+v, %v; want the first attempt's record", got, gerr)
	}
	t.Logf("Create: %v", err)
}

// TestLostAnswerBatch: the batch writes read a lost answer back like the single writes: an
// UpdateMany item with a version, and an UpsertMany item with one, whose first attempt was
// stored are reported done with the stored version.
func TestLostAnswerBatch(t *testing.T) {
	ctx, d, r := newDriverFor(t, things.ThingSchema)
	created := time.Unix(0, 0).UTC()
	rec, err := r.Create(ctx, things.Thing{ID: "a", Name: "first", Created: created})
	if err != nil {
		t.Fatal(err)
	}
	armed := loseNextAnswer(d, testConfig(t).Bucket)
	for _, op := range []string{"UpdateMany", "UpsertMany"} {
		armed.Store(true)
		recs := []things.Thing{rec}
		recs[0].Name = op
		res := make([]repo.Result, 1)
		call := d.UpdateMany
		if op == "UpsertMany" {
			call = d.UpsertMany
		}
		if err := call(ctx, recs, []string{rec.RecordVersion}, res); err != nil || res[0].Err != nil {
			t.Fatalf("%s whose answer was lost: %v, %v; want success", op, err, res[0].Err)
		}
		if armed.Load() {
			t.Fatalf("%s: the answer was not lost: the test did not exercise the resend", op)
		}
		got, err := r.Get(ctx, "a")
		if err != nil || got.RecordVersion != res[0].Version || got.Name != op {
			t.Fatalf("stored: %+v, %v; %s returned version %q", got, err, op, res[0].Version)
		}
		rec = got
	}
}
