package elasticsearch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/internal/recordtest"
	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// The unique-field tests use a test-local record, ukey (the generated examples/shop package
// would tie this package's tests to every backend's code). testUniqueCustomers is written
// against repo.Repository alone, so that it can move to the conformance suite once every
// backend enforces unique; the others look at the reservations.

// uniqueEnv is a repository of a record with unique fields on fresh indices (the record's
// and its unique index), deleted when the test ends.
type uniqueEnv[T any] struct {
	ctx    context.Context
	r      *repo.Collection[T]
	d      *elasticsearch.Driver[T]
	c      *elasticsearch.Client
	cfg    pool.ElasticsearchPoolConfig
	m      *pool.Manager
	index  string
	unique string
}

func openUnique[T any](t *testing.T, desc *record.Desc[T], cfg pool.ElasticsearchPoolConfig, index string, opts ...elasticsearch.Option) (*uniqueEnv[T], error) {
	t.Helper()
	m := pool.New(pool.Options{})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	if index == "" {
		index = uniqueIndex(t, "uq")
	}
	t.Cleanup(func() {
		deleteIndex(t, m, cfg, index)
		deleteIndex(t, m, cfg, index+elasticsearch.UniqueIndexSuffix)
	})
	// RefreshTrue: a refresh per write is far quicker on these small indices than waiting
	// for the periodic one (the policy does not concern the reservations).
	r, err := elasticsearch.NewRepository(ctx, m, cfg, desc, append([]elasticsearch.Option{elasticsearch.WithIndex(index),
		elasticsearch.WithRefresh(elasticsearch.RefreshTrue)}, opts...)...)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = r.Close() })
	d := r.Driver().(*elasticsearch.Driver[T])
	return &uniqueEnv[T]{ctx: ctx, r: r, d: d, c: d.Client(), cfg: cfg, m: m, index: index, unique: d.UniqueIndex()}, nil
}

func mustOpenUnique[T any](t *testing.T, desc *record.Desc[T], opts ...elasticsearch.Option) *uniqueEnv[T] {
	t.Helper()
	e, err := openUnique(t, desc, testConfig(t), "", opts...)
	if err != nil {
		t.Fatalf("NewRepository: %v", err)
	}
	return e
}

// reservation returns the reservation document of the value, or found false.
func (e *uniqueEnv[T]) reservation(t *testing.T, field, value string) (owner string, found bool) {
	t.Helper()
	res, err := esapi.GetRequest{Index: e.unique, DocumentID: url.PathEscape(elasticsearch.ReservationID(field, value))}.Do(e.ctx, e.c.ES)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var g struct {
		Found  bool `json:"found"`
		Source struct {
			Owner string `json:"owner"`
		} `json:"_source"`
	}
	if err := json.NewDecoder(res.Body).Decode(&g); err != nil {
		t.Fatal(err)
	}
	return g.Source.Owner, g.Found
}

// putReservation writes a reservation document directly, as a write that stopped after
// reserving would have left it.
func (e *uniqueEnv[T]) putReservation(t *testing.T, field, value, owner string, at time.Time) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"owner": owner, "field": field, "at": at.UTC().Format(time.RFC3339Nano)})
	res, err := esapi.IndexRequest{Index: e.unique, DocumentID: url.PathEscape(elasticsearch.ReservationID(field, value)),
		Body: bytes.NewReader(body), Refresh: "true"}.Do(e.ctx, e.c.ES)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.IsError() {
		t.Fatalf("writing a reservation: %s", res)
	}
}

// customer returns a record with an email and a name (as shopdb.Customer has).
func customer(email, name string) ukey { return ukey{Email: &email, Name: name} }

func wantErr(t *testing.T, what string, err, kind error) {
	t.Helper()
	if kind == nil && err != nil {
		t.Errorf("%s: %v, want success", what, err)
	}
	if kind != nil && !errors.Is(err, kind) {
		t.Errorf("%s: %v, want %v", what, err, kind)
	}
}

// TestUniqueCustomers runs the portable checks.
func TestUniqueCustomers(t *testing.T) {
	e := mustOpenUnique(t, ukeySchema)
	testUniqueCustomers(e.ctx, t, e.r)
}

// testUniqueCustomers checks that a unique field (ukey.email) is enforced as on the
// memory and PostgreSQL backends (examples/shop TestUniqueEmail, on Customer.email): a taken value fails
// Create, CreateBatch (per record: against stored records and earlier records of the batch),
// Update (with and without a version) and Upsert with ErrAlreadyExists and leaves the stored
// record as it was; a value is free again once its record changes it or is deleted; a
// record keeps its own value.
func testUniqueCustomers(ctx context.Context, t *testing.T, r repo.Repository[ukey]) {
	a, err := r.Create(ctx, customer("a@example.com", "A"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Create(ctx, customer("b@example.com", "B"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Create(ctx, customer("a@example.com", "A2"))
	wantErr(t, "Create with a taken email", err, repo.ErrAlreadyExists)

	// CreateBatch: one result per record.
	res, err := r.CreateBatch(ctx, []ukey{
		customer("c@example.com", "C"),
		customer("c@example.com", "C repeated in the batch"),
		customer("a@example.com", "A taken in the store"),
		customer("d@example.com", "D"),
		{ID: b.ID, Email: ptr("e@example.com"), Name: "id taken"},
		customer("e@example.com", "E, free since the record before it failed"),
		customer("d@example.com", "D repeated"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []error{nil, repo.ErrAlreadyExists, repo.ErrAlreadyExists, nil, repo.ErrAlreadyExists, nil, repo.ErrAlreadyExists} {
		wantErr(t, fmt.Sprintf("CreateBatch record %d", i), res[i].Err, want)
		if (res[i].Err == nil) != (res[i].Version != "") {
			t.Errorf("CreateBatch record %d: version %q with error %v", i, res[i].Version, res[i].Err)
		}
	}
	if got, err := r.Get(ctx, b.ID); err != nil || email(got) != "b@example.com" {
		t.Errorf("b after a batch repeating its id: %q, %v", email(got), err)
	}
	if n, err := r.Count(ctx, ukeyQuery().Where(ukeyEmail.EQ("c@example.com"))); err != nil || n != 1 {
		t.Errorf("records with c@example.com: %d, %v; want 1", n, err)
	}

	// Update, Upsert to a taken value.
	moved := b
	moved.Email = ptr("a@example.com")
	_, err = r.Update(ctx, moved)
	wantErr(t, "Update to a taken email", err, repo.ErrAlreadyExists)
	_, err = r.Update(ctx, moved, repo.IfVersion(b.RecordVersion))
	wantErr(t, "Update with IfVersion to a taken email", err, repo.ErrAlreadyExists)
	_, err = r.Upsert(ctx, moved)
	wantErr(t, "Upsert to a taken email", err, repo.ErrAlreadyExists)
	newID := record.NewID()
	_, err = r.Upsert(ctx, ukey{ID: newID, Email: ptr("a@example.com"), Name: "N"})
	wantErr(t, "Upsert creating a record with a taken email", err, repo.ErrAlreadyExists)
	if got, err := r.Get(ctx, b.ID); err != nil || email(got) != "b@example.com" || got.RecordVersion != b.RecordVersion {
		t.Errorf("after the failed writes, b = %q (version %s), %v; want it unchanged", email(got), got.RecordVersion, err)
	}
	if _, err := r.Get(ctx, newID); !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("the failed Upsert stored its record: %v", err)
	}

	// A record keeps its own value; a value freed by a change or a delete is free.
	a.Name = "A renamed"
	if a, err = r.Update(ctx, a, repo.IfVersion(a.RecordVersion)); err != nil {
		t.Fatalf("Update keeping its own email: %v", err)
	}
	if a, err = r.Upsert(ctx, a); err != nil {
		t.Fatalf("Upsert keeping its own email: %v", err)
	}
	a.Email = ptr("a2@example.com")
	if a, err = r.Update(ctx, a); err != nil {
		t.Fatalf("Update to a free email: %v", err)
	}
	if b, err = r.Update(ctx, moved, repo.IfVersion(b.RecordVersion)); err != nil {
		t.Fatalf("Update to an email freed by an Update: %v", err)
	}
	a.Email = ptr("a3@example.com")
	if a, err = r.Upsert(ctx, a); err != nil {
		t.Fatalf("Upsert to a free email: %v", err)
	}
	if _, err := r.Create(ctx, customer("a2@example.com", "freed by Upsert")); err != nil {
		t.Errorf("Create with an email freed by an Upsert: %v", err)
	}
	if _, err := r.Upsert(ctx, ukey{ID: newID, Email: ptr("n@example.com"), Name: "N"}); err != nil {
		t.Errorf("Upsert creating a record with a free email: %v", err)
	}
	if err := r.Delete(ctx, b.ID, repo.IfVersion(b.RecordVersion)); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, newID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Create(ctx, customer("a@example.com", "freed by a Delete with a version")); err != nil {
		t.Errorf("Create with an email freed by a delete: %v", err)
	}
	if _, err := r.Create(ctx, customer("n@example.com", "freed by a Delete")); err != nil {
		t.Errorf("Create with an email freed by a delete: %v", err)
	}
	// Version checks keep their meaning.
	stale := a
	a.Name = "A again"
	if a, err = r.Update(ctx, a); err != nil {
		t.Fatal(err)
	}
	_, err = r.Update(ctx, stale, repo.IfVersion(stale.RecordVersion))
	wantErr(t, "Update with an old version", err, repo.ErrVersionConflict)
	wantErr(t, "Delete with an old version", r.Delete(ctx, a.ID, repo.IfVersion(stale.RecordVersion)), repo.ErrVersionConflict)
	missing := customer("x@example.com", "missing")
	missing.ID = record.NewID()
	_, err = r.Update(ctx, missing)
	wantErr(t, "Update of a missing record", err, repo.ErrNotFound)
	wantErr(t, "Delete of a missing record", r.Delete(ctx, missing.ID), repo.ErrNotFound)
	if _, err := r.Create(ctx, customer("x@example.com", "x free after the failed Update")); err != nil {
		t.Errorf("Create after a failed Update of a missing record: %v", err)
	}
}

// ukey is a test-local record (described as the generator would) with a unique field of
// every kind unique allows, all optional, and a name that is not unique.
type ukey struct {
	ID            string     `json:"id"`
	Email         *string    `json:"email,omitempty" record:",unique"`
	Code          *int64     `json:"code,omitempty" record:",unique"`
	Score         *float64   `json:"score,omitempty" record:",unique"`
	At            *time.Time `json:"at,omitempty" record:",unique"`
	On            *bool      `json:"on,omitempty" record:",unique"`
	Name          string     `json:"name"`
	RecordVersion string     `json:"-"`
}

var ukeyEmail = query.NewStringField[ukey]("email")

func ukeyQuery() query.Query[ukey] { return query.New[ukey]() }

func email(r ukey) string {
	if r.Email == nil {
		return "<missing>"
	}
	return *r.Email
}

// ukeySchema prepares as generated code does but without the round-trip rule, so that −0
// reaches the driver (TestUniqueKinds' "negative zero": the driver reserves it as 0).
var ukeySchema = recordtest.MustNew[ukey]("ukey", recordtest.IDGenerated(), recordtest.NoRoundTrip())

// TestUniqueKinds checks unique values of every kind with the equality of the memory and
// PostgreSQL backends (-0 equals 0, an instant in any zone and below a microsecond is one
// value), that missing values never conflict, and that a record failing on one unique field
// reserves none of its other values.
func TestUniqueKinds(t *testing.T) {
	e := mustOpenUnique(t, ukeySchema)
	ctx, r := e.ctx, e.r
	at := time.Date(2025, 6, 7, 8, 9, 10, 123456000, time.UTC)
	berlin := at.In(time.FixedZone("CEST", 2*3600)).Add(700 * time.Nanosecond)
	for i := range 3 {
		if _, err := r.Create(ctx, ukey{ID: fmt.Sprintf("missing-%d", i)}); err != nil {
			t.Fatalf("Create with every unique value missing (%d): %v", i, err)
		}
	}
	if _, err := r.Create(ctx, ukey{ID: "first", Email: ptr(""), Code: ptr(int64(5)), Score: ptr(0.0), At: &at, On: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		rec  ukey
		want error
	}{
		{"empty string", ukey{Email: ptr("")}, repo.ErrAlreadyExists},
		{"int", ukey{Code: ptr(int64(5))}, repo.ErrAlreadyExists},
		{"other int", ukey{Code: ptr(int64(-5))}, nil},
		{"negative zero", ukey{Score: ptr(-1 / posInf())}, repo.ErrAlreadyExists},
		{"other float", ukey{Score: ptr(0.1)}, nil},
		{"same instant, other zone and nanoseconds", ukey{At: &berlin}, repo.ErrAlreadyExists},
		{"next microsecond", ukey{At: ptr(at.Add(time.Microsecond))}, nil},
		{"bool", ukey{On: ptr(false)}, repo.ErrAlreadyExists},
		{"other bool", ukey{On: ptr(true)}, nil},
		{"free email, taken code", ukey{Email: ptr("free@example.com"), Code: ptr(int64(5))}, repo.ErrAlreadyExists},
		{"the email left free", ukey{Email: ptr("free@example.com")}, nil},
	} {
		_, err := r.Create(ctx, tc.rec)
		wantErr(t, tc.name, err, tc.want)
	}
	// Every unique value of a record is reserved, and released with the record.
	if err := r.Delete(ctx, "first"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Create(ctx, ukey{Email: ptr(""), Code: ptr(int64(5)), Score: ptr(0.0), At: &at, On: ptr(false)}); err != nil {
		t.Errorf("Create with the values of a deleted record: %v", err)
	}
}

func posInf() float64 { return 1 / zero }

var zero float64

// TestUniqueConcurrent runs writers racing for one value: exactly one Create, and exactly
// one Update moving a record to it, wins; the others get ErrAlreadyExists.
func TestUniqueConcurrent(t *testing.T) {
	e := mustOpenUnique(t, ukeySchema)
	ctx, r := e.ctx, e.r
	const n = 8
	race := func(name string, write func(i int) error) {
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { errs[i] = write(i) })
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, repo.ErrAlreadyExists):
				t.Errorf("%s %d: %v, want success or ErrAlreadyExists", name, i, err)
			}
		}
		if won != 1 {
			t.Errorf("%s: %d writers won, want exactly 1", name, won)
		}
	}
	race("Create", func(i int) error {
		_, err := r.Create(ctx, customer("race@example.com", fmt.Sprint(i)))
		return err
	})
	recs := make([]ukey, n)
	for i := range recs {
		var err error
		if recs[i], err = r.Create(ctx, customer(fmt.Sprintf("r%d@example.com", i), fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	race("Update", func(i int) error {
		rec := recs[i]
		rec.Email = ptr("race2@example.com")
		_, err := r.Update(ctx, rec)
		return err
	})
	upIDs := make([]string, n)
	for i := range upIDs {
		upIDs[i] = record.NewID()
	}
	race("Upsert", func(i int) error {
		_, err := r.Upsert(ctx, ukey{ID: upIDs[i], Email: ptr("race3@example.com"), Name: "U"})
		return err
	})
	for _, email := range []string{"race@example.com", "race2@example.com", "race3@example.com"} {
		if n, err := r.Count(ctx, ukeyQuery().Where(ukeyEmail.EQ(email))); err != nil || n != 1 {
			t.Errorf("records with %s: %d, %v; want 1", email, n, err)
		}
	}
}

// TestUniqueOrphans checks reservations left by writes that stopped half-way: one older
// than the stale age whose owner record is missing, or does not hold the value, is taken
// over; a younger one is not (its write may still be in flight), nor an old one whose owner
// holds the value; a record's own reservation is reused.
func TestUniqueOrphans(t *testing.T) {
	e := mustOpenUnique(t, ukeySchema, elasticsearch.WithStaleReservationAfter(time.Minute))
	ctx, r := e.ctx, e.r
	now, old := time.Now(), time.Now().Add(-time.Hour)
	holder, err := r.Create(ctx, customer("held@example.com", "holder"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := r.Create(ctx, customer("other@example.com", "other"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, email, owner string
		at                 time.Time
		want               error
	}{
		{"old orphan, no owner record", "stale@example.com", record.NewID(), old, nil},
		{"young orphan, no owner record", "fresh@example.com", record.NewID(), now, repo.ErrAlreadyExists},
		{"old orphan, owner without the value", "moved@example.com", other.ID, old, nil},
		{"young orphan, owner without the value", "moving@example.com", other.ID, now, repo.ErrAlreadyExists},
		{"old reservation, owner holds the value", "held@example.com", holder.ID, old, repo.ErrAlreadyExists},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.putReservation(t, "email", tc.email, tc.owner, tc.at)
			got, err := r.Create(ctx, customer(tc.email, "claimant"))
			wantErr(t, "Create", err, tc.want)
			wantOwner := tc.owner
			if tc.want == nil {
				wantOwner = got.ID
			}
			if owner, found := e.reservation(t, "email", tc.email); !found || owner != wantOwner {
				t.Errorf("reservation owner %q (found %v), want %q", owner, found, wantOwner)
			}
		})
	}
	// A young reservation owned by the record being written is its own (a retried write).
	retried := record.NewID()
	e.putReservation(t, "email", "mine@example.com", retried, now)
	if _, err := r.Create(ctx, ukey{ID: retried, Email: ptr("mine@example.com"), Name: "R"}); err != nil {
		t.Errorf("Create over its own reservation: %v", err)
	}
}

// TestUniqueLateWrite checks that a write whose reservations are older than half the stale
// age by the time it would write the record gives up with ErrUnavailable, writes nothing
// and releases them (the clock jumps a whole stale age at every reading).
func TestUniqueLateWrite(t *testing.T) {
	e := mustOpenUnique(t, ukeySchema, elasticsearch.WithStaleReservationAfter(time.Minute))
	ctx, r := e.ctx, e.r
	kept, err := r.Create(ctx, customer("kept@example.com", "K"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	clock := time.Now()
	elasticsearch.SetUniqueClock(e.d, func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Minute)
		return clock
	})
	_, err = r.Create(ctx, customer("late@example.com", "L"))
	wantErr(t, "Create", err, repo.ErrUnavailable)
	res, err := r.CreateBatch(ctx, []ukey{customer("late1@example.com", "L1"), customer("late2@example.com", "L2")})
	if err != nil {
		t.Fatal(err)
	}
	for i := range res {
		wantErr(t, fmt.Sprintf("CreateBatch record %d", i), res[i].Err, repo.ErrUnavailable)
	}
	moved := kept
	moved.Email = ptr("late3@example.com")
	_, err = r.Update(ctx, moved)
	wantErr(t, "Update", err, repo.ErrUnavailable)
	if n, err := r.Count(ctx, ukeyQuery()); err != nil || n != 1 {
		t.Errorf("%d records stored, %v; want only the first", n, err)
	}
	for _, email := range []string{"late@example.com", "late1@example.com", "late2@example.com", "late3@example.com"} {
		if owner, found := e.reservation(t, "email", email); found {
			t.Errorf("%s is still reserved by %q", email, owner)
		}
	}
	if got, err := r.Get(ctx, kept.ID); err != nil || email(got) != "kept@example.com" {
		t.Errorf("kept = %q, %v", email(got), err)
	}
}

// TestUniqueBackfill opens a unique repository on an index that already holds records
// written without reservations: opening reserves their values (later duplicates fail), and
// fails with ErrAlreadyExists naming the records when two of them share a value.
func TestUniqueBackfill(t *testing.T) {
	// The descriptor the records were written with: email not (yet) unique.
	plain := drivertest.WithoutUnique(ukeySchema)
	cfg := testConfig(t)
	before, err := openUnique(t, plain, cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	if before.unique != "" {
		t.Fatalf("a record without unique fields has the unique index %q", before.unique)
	}
	ctx := before.ctx
	recs := make([]ukey, 25)
	for i := range recs {
		recs[i] = customer(fmt.Sprintf("old%d@example.com", i), "old")
	}
	if _, err := before.r.CreateBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	after, err := openUnique(t, ukeySchema, cfg, before.index, elasticsearch.WithBatchSize(10, 1<<20))
	if err != nil {
		t.Fatalf("opening with email unique: %v", err)
	}
	for _, email := range []string{"old0@example.com", "old24@example.com"} {
		_, err = after.r.Create(ctx, customer(email, "new"))
		wantErr(t, "Create repeating "+email+" of a record stored before", err, repo.ErrAlreadyExists)
	}
	// The state is kept: opening again reads no record.
	if _, err := openUnique(t, ukeySchema, cfg, before.index); err != nil {
		t.Fatal(err)
	}
	// A duplicate written without reservations makes a rebuild fail, naming both records.
	dup, err := before.r.Create(ctx, customer("old7@example.com", "duplicate"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = openUnique(t, ukeySchema, cfg, before.index, elasticsearch.WithUniqueRebuild())
	wantErr(t, "rebuilding over a duplicate", err, repo.ErrAlreadyExists)
	if err != nil && !strings.Contains(err.Error(), dup.ID) {
		t.Errorf("the error does not name the duplicate %s: %v", dup.ID, err)
	}
	if err := before.r.Delete(ctx, dup.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := openUnique(t, ukeySchema, cfg, before.index, elasticsearch.WithUniqueRebuild()); err != nil {
		t.Errorf("rebuilding without the duplicate: %v", err)
	}
}

// fault is what faultProxy does to a request.
type fault int

const (
	dropBefore fault = iota + 1 // close the connection without forwarding the request
	dropAfter                   // forward it, then close the connection without answering
	hang                        // never answer (until the client gives up)
	gateway504                  // forward it, then answer 504 as a proxy that lost the node's answer
)

// faultProxy forwards requests to the real Elasticsearch node and fails the first one a rule
// matches: a network failure at a chosen step of a call, which the server itself cannot
// produce on demand.
type faultProxy struct {
	t      *testing.T
	target string
	srv    *httptest.Server
	mu     sync.Mutex
	match  func(*http.Request) bool
	do     fault
	hits   int
}

func newFaultProxy(t *testing.T, target string) *faultProxy {
	p := &faultProxy{t: t, target: strings.TrimSuffix(target, "/")}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

// arm makes the proxy fail the next request that match accepts.
func (p *faultProxy) arm(do fault, match func(*http.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.match, p.do, p.hits = match, do, 0
}

// fired reports whether the armed fault happened.
func (p *faultProxy) fired() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits > 0
}

func (p *faultProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	var do fault
	if p.match != nil && p.match(r) {
		do, p.match = p.do, nil
		p.hits++
	}
	p.mu.Unlock()
	drop := func() {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}
	switch do {
	case dropBefore:
		drop()
		return
	case hang:
		<-r.Context().Done()
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		p.t.Error(err)
		return
	}
	req.Header = r.Header.Clone()
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		drop()
		return
	}
	defer res.Body.Close()
	switch do {
	case dropAfter:
		_, _ = io.Copy(io.Discard, res.Body)
		drop()
		return
	case gateway504:
		_, _ = io.Copy(io.Discard, res.Body)
		w.WriteHeader(http.StatusGatewayTimeout)
		return
	}
	for k, v := range res.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(res.StatusCode)
	_, _ = io.Copy(w, res.Body)
}

// TestUniqueOutage fails one request of a write (network failure before or after the server
// handled it, or no answer) and checks that the call fails with its mapped error, that no two
// records ever hold one value, and that what the failure left behind is at worst an orphan
// reservation: reused by a retry of the same record, and taken over by another record once
// it is older than the stale age.
func TestUniqueOutage(t *testing.T) {
	proxy := newFaultProxy(t, servicetest.ElasticsearchURL(t))
	cfg := pool.NewElasticsearchPoolConfig()
	cfg.Hosts = []string{proxy.srv.URL}
	e, err := openUnique(t, ukeySchema, cfg, "", elasticsearch.WithStaleReservationAfter(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ctx, r := e.ctx, e.r
	onRecord := func(method string) func(*http.Request) bool {
		return func(req *http.Request) bool {
			return req.Method == method && strings.HasPrefix(req.URL.Path, "/"+e.index+"/_doc/")
		}
	}
	onUnique := func(req *http.Request) bool { return req.URL.Path == "/"+e.unique+"/_bulk" }
	onRecordBulk := func(req *http.Request) bool { return req.URL.Path == "/"+e.index+"/_bulk" }
	var later time.Duration // how far the clock is moved on to make orphans stale
	elasticsearch.SetUniqueClock(e.d, func() time.Time { return time.Now().Add(later) })
	age := func() { later += 2 * time.Minute }
	count := func(email string) int64 {
		t.Helper()
		n, err := r.Count(ctx, ukeyQuery().Where(ukeyEmail.EQ(email)))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	other := func(email string, want error) {
		t.Helper()
		_, err := r.Create(ctx, customer(email, "other"))
		wantErr(t, "another record's Create of "+email, err, want)
	}
	armed := func(do fault, match func(*http.Request) bool) {
		t.Helper()
		proxy.arm(do, match)
		t.Cleanup(func() {
			if !proxy.fired() {
				t.Errorf("the fault did not happen")
			}
		})
	}
	sub := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			proxy.arm(0, nil)
		}
	}

	// A write the node applied whose answer was lost: the connection dropped, or a proxy in
	// front of the node answered 504. The client must not send the write again (its second
	// attempt would answer 409 for the first one's write, and the reservation would be
	// released under a stored record).
	for _, lost := range []struct {
		name, tag string
		do        fault
	}{{"unanswered", "", dropAfter}, {"504 from a proxy", "g-", gateway504}} {
		mail := func(s string) string { return lost.tag + s + "@example.com" }
		sub("Create, the record written, "+lost.name, func(t *testing.T) {
			armed(lost.do, onRecord(http.MethodPut))
			_, err := r.Create(ctx, customer(mail("c1"), "C1"))
			wantErr(t, "Create", err, repo.ErrUnavailable)
			if n := count(mail("c1")); n != 1 {
				t.Fatalf("%d records with the email, want the 1 written", n)
			}
			other(mail("c1"), repo.ErrAlreadyExists)
			age()
			other(mail("c1"), repo.ErrAlreadyExists) // the record holds it
		})
		sub("CreateBatch, the records written, "+lost.name, func(t *testing.T) {
			armed(lost.do, onRecordBulk)
			res, err := r.CreateBatch(ctx, []ukey{customer(mail("b1"), "B1"), customer(mail("b2"), "B2")})
			wantErr(t, "CreateBatch", err, repo.ErrUnavailable)
			for i := range res {
				wantErr(t, fmt.Sprintf("record %d", i), res[i].Err, repo.ErrUnavailable)
			}
			age()
			res, err = r.CreateBatch(ctx, []ukey{customer(mail("b1"), "B1"), customer(mail("b2"), "B2")})
			if err != nil {
				t.Fatal(err)
			}
			for i := range res {
				wantErr(t, fmt.Sprintf("repeating record %d", i), res[i].Err, repo.ErrAlreadyExists)
			}
			other(mail("b1"), repo.ErrAlreadyExists)
			other(mail("b2"), repo.ErrAlreadyExists)
		})
		sub("Update, the record written, "+lost.name, func(t *testing.T) {
			rec, err := r.Create(ctx, customer(mail("u1"), "U1"))
			if err != nil {
				t.Fatal(err)
			}
			armed(lost.do, onRecord(http.MethodPut))
			rec.Email = ptr(mail("u2"))
			_, err = r.Update(ctx, rec)
			wantErr(t, "Update", err, repo.ErrUnavailable)
			if n := count(mail("u2")); n != 1 {
				t.Fatalf("%d records with the new email, want the 1 written", n)
			}
			other(mail("u2"), repo.ErrAlreadyExists)
			age()
			other(mail("u2"), repo.ErrAlreadyExists) // held by the record
			other(mail("u1"), nil)                   // the old value's reservation is an old orphan
		})
	}
	sub("Create, the record not written", func(t *testing.T) {
		armed(dropBefore, onRecord(http.MethodPut))
		rec := customer("c2@example.com", "C2")
		rec.ID = record.NewID()
		_, err := r.Create(ctx, rec)
		wantErr(t, "Create", err, repo.ErrUnavailable)
		other("c2@example.com", repo.ErrAlreadyExists) // a young orphan: the write may be in flight
		if _, err := r.Create(ctx, rec); err != nil {
			t.Errorf("retrying the Create: %v", err)
		}
		if n := count("c2@example.com"); n != 1 {
			t.Errorf("%d records with the email, want 1", n)
		}
	})
	sub("Create, the orphan taken over", func(t *testing.T) {
		armed(dropBefore, onRecord(http.MethodPut))
		_, err := r.Create(ctx, customer("c3@example.com", "C3"))
		wantErr(t, "Create", err, repo.ErrUnavailable)
		age()
		other("c3@example.com", nil)
	})
	sub("Create, the reservation made but unanswered", func(t *testing.T) {
		armed(dropAfter, onUnique)
		rec := customer("c4@example.com", "C4")
		rec.ID = record.NewID()
		_, err := r.Create(ctx, rec)
		wantErr(t, "Create", err, repo.ErrUnavailable)
		if _, err := r.Get(ctx, rec.ID); !errors.Is(err, repo.ErrNotFound) {
			t.Errorf("the record was written: %v", err)
		}
		if _, err := r.Create(ctx, rec); err != nil {
			t.Errorf("retrying the Create: %v", err)
		}
	})
	sub("Create, no answer", func(t *testing.T) {
		armed(hang, onRecord(http.MethodPut))
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err := r.Create(cctx, customer("c5@example.com", "C5"))
		wantErr(t, "Create", err, context.DeadlineExceeded)
	})
	sub("CreateBatch, the records not written", func(t *testing.T) {
		armed(dropBefore, onRecordBulk)
		recs := []ukey{customer("b3@example.com", "B3"), customer("b4@example.com", "B4")}
		for i := range recs {
			recs[i].ID = record.NewID()
		}
		_, err := r.CreateBatch(ctx, recs)
		wantErr(t, "CreateBatch", err, repo.ErrUnavailable)
		other("b3@example.com", repo.ErrAlreadyExists)
		res, err := r.CreateBatch(ctx, recs)
		if err != nil {
			t.Fatal(err)
		}
		for i := range res {
			wantErr(t, fmt.Sprintf("retrying record %d", i), res[i].Err, nil)
		}
	})
	sub("Update, the record not written", func(t *testing.T) {
		rec, err := r.Create(ctx, customer("u3@example.com", "U3"))
		if err != nil {
			t.Fatal(err)
		}
		armed(dropBefore, onRecord(http.MethodPut))
		moved := rec
		moved.Email = ptr("u4@example.com")
		_, err = r.Update(ctx, moved)
		wantErr(t, "Update", err, repo.ErrUnavailable)
		age()
		other("u3@example.com", repo.ErrAlreadyExists) // still held
		other("u4@example.com", nil)
		if got, err := r.Get(ctx, rec.ID); err != nil || email(got) != "u3@example.com" {
			t.Errorf("the record after the failed Update: %q, %v", email(got), err)
		}
	})
	sub("Create, the record write cut off at half the stale age", func(t *testing.T) {
		short, err := openUnique(t, ukeySchema, cfg, "", elasticsearch.WithStaleReservationAfter(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		// The reservations' clock stands still: their age is 0 whatever this machine's speed,
		// while the write's deadline runs on the real clock.
		frozen := time.Now()
		elasticsearch.SetUniqueClock(short.d, func() time.Time { return frozen })
		armed(hang, func(req *http.Request) bool {
			return req.Method == http.MethodPut && strings.HasPrefix(req.URL.Path, "/"+short.index+"/_doc/")
		})
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		_, err = short.r.Create(cctx, customer("h1@example.com", "H1"))
		wantErr(t, "Create whose record write hangs", err, repo.ErrUnavailable)
		if err != nil && !strings.Contains(err.Error(), "did not finish within 1s") {
			t.Errorf("the error does not say why: %v", err)
		}
		if _, err := short.r.Create(cctx, customer("h1@example.com", "other")); !errors.Is(err, repo.ErrAlreadyExists) {
			t.Errorf("another record's Create while the write might land: %v, want ErrAlreadyExists", err)
		}
	})
	sub("Delete, the release lost", func(t *testing.T) {
		rec, err := r.Create(ctx, customer("d1@example.com", "D1"))
		if err != nil {
			t.Fatal(err)
		}
		armed(dropBefore, onUnique)
		if err := r.Delete(ctx, rec.ID); err != nil {
			t.Errorf("Delete: %v", err)
		}
		other("d1@example.com", repo.ErrAlreadyExists) // a young orphan
		age()
		other("d1@example.com", nil)
	})
	sub("Delete, the record deleted but unanswered", func(t *testing.T) {
		rec, err := r.Create(ctx, customer("d2@example.com", "D2"))
		if err != nil {
			t.Fatal(err)
		}
		armed(dropAfter, onRecord(http.MethodDelete))
		wantErr(t, "Delete", r.Delete(ctx, rec.ID), repo.ErrUnavailable)
		age()
		other("d2@example.com", nil)
	})
}
