package s3_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/repokit/repokit/internal/recordtest"
	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// member is a test record with two unique fields: email (required) and nick (optional).
type member struct {
	ID            string  `json:"id"`
	Email         string  `json:"email" record:",unique"`
	Nick          *string `json:"nick,omitempty" record:",unique"`
	Name          string  `json:"name"`
	RecordVersion string  `json:"-"`
}

var memberSchema = recordtest.MustNew[member]("Member", recordtest.Names("members"))

func nick(s string) *string { return &s }

// openMembers returns an S3 driver for members under cfg and the Collection over it.
func openMembers(ctx context.Context, t *testing.T, m *pool.Manager, cfg pool.S3PoolConfig, opts ...s3.Option) (*s3.Driver[member], *repo.Collection[member]) {
	t.Helper()
	d, err := s3.New(ctx, m, cfg, memberSchema, opts...)
	if err != nil {
		t.Fatal(err)
	}
	r := repo.New(memberSchema, d)
	t.Cleanup(func() { _ = r.Close() })
	return d, r
}

// TestUniqueConcurrent starts many writers of one value at once, through separate
// repositories (separate clients and caches): exactly one wins.
func TestUniqueConcurrent(t *testing.T) {
	ctx, m, cfg := sharedPrefix(t)
	const n = 12
	repos := make([]*repo.Collection[member], n)
	for i := range repos {
		cfg := cfg
		cfg.MaxConnections = 2 + i // another pool key: another client
		_, repos[i] = openMembers(ctx, t, m, cfg)
	}
	// Records to update concurrently to one value.
	for i := range n {
		if _, err := repos[0].Create(ctx, member{ID: fmt.Sprintf("u%02d", i), Email: fmt.Sprintf("u%02d@x", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name  string
		write func(r *repo.Collection[member], i int) error
	}{
		{"Create", func(r *repo.Collection[member], i int) error {
			_, err := r.Create(ctx, member{ID: fmt.Sprintf("c%02d", i), Email: "same@x"})
			return err
		}},
		{"Update", func(r *repo.Collection[member], i int) error {
			_, err := r.Update(ctx, member{ID: fmt.Sprintf("u%02d", i), Email: "other@x"})
			return err
		}},
		{"Upsert", func(r *repo.Collection[member], i int) error {
			_, err := r.Upsert(ctx, member{ID: fmt.Sprintf("p%02d", i), Email: "third@x"})
			return err
		}},
		// A value given up by its record: every writer takes over the same held reservation.
		{"Create of a freed value", func(r *repo.Collection[member], i int) error {
			_, err := r.Create(ctx, member{ID: fmt.Sprintf("f%02d", i), Email: "freed@x"})
			return err
		}},
	} {
		if c.name == "Create of a freed value" {
			x, err := repos[0].Create(ctx, member{ID: "x", Email: "freed@x"})
			if err != nil {
				t.Fatal(err)
			}
			x.Email = "x@x"
			if _, err := repos[0].Update(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		t.Run(c.name, func(t *testing.T) {
			var wins atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					err := c.write(repos[i], i)
					switch {
					case err == nil:
						wins.Add(1)
					case !errors.Is(err, repo.ErrAlreadyExists):
						t.Errorf("writer %d: %v", i, err)
					}
				}()
			}
			close(start)
			wg.Wait()
			if w := wins.Load(); w != 1 {
				t.Errorf("%d writers won, want 1", w)
			}
		})
	}
	all, err := repos[0].Find(ctx, query.New[member]())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, x := range all {
		if o, dup := seen[x.Email]; dup {
			t.Errorf("records %s and %s both hold %s", o, x.ID, x.Email)
		}
		seen[x.Email] = x.ID
	}
}

// putReservation writes the reservation object of rec's email directly, as a writer that
// stopped (crashed) after its first step would have left it.
func putReservation(ctx context.Context, t *testing.T, m *pool.Manager, cfg pool.S3PoolConfig, key, owner, state string) {
	t.Helper()
	l, err := pool.Get(ctx, m, cfg, s3.Hooks())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	body, _ := json.Marshal(map[string]any{
		"owner": owner, "state": state, "rev": record.NewID(), "record": "Member", "field": "email",
		"sha256": key[len(key)-64:], "at": time.Now().Add(-time.Hour).UTC(),
	})
	if _, err := l.Pool().API.PutObject(ctx, &awss3.PutObjectInput{Bucket: &cfg.Bucket, Key: &key, Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

func getReservation(ctx context.Context, t *testing.T, m *pool.Manager, cfg pool.S3PoolConfig, key string) map[string]any {
	t.Helper()
	l, err := pool.Get(ctx, m, cfg, s3.Hooks())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	out, err := l.Pool().API.GetObject(ctx, &awss3.GetObjectInput{Bucket: &cfg.Bucket, Key: &key})
	if err != nil {
		t.Fatalf("reservation %s: %v", key, err)
	}
	defer out.Body.Close()
	var r map[string]any
	if err := json.NewDecoder(out.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestUniqueOrphans: a reservation whose owner has no record is taken over at once when it
// is held (the owner's write ended), and only once it is older than StaleReservationAfter when it
// is pending (the owner's write may be in flight); one whose owner holds the value never.
func TestUniqueOrphans(t *testing.T) {
	ctx, m, cfg := sharedPrefix(t)
	fresh, r := openMembers(ctx, t, m, cfg)
	stale, rs := openMembers(ctx, t, m, cfg)
	s3.SetReservationAgeOffsetForTest(stale, time.Hour)
	if _, err := r.Create(ctx, member{ID: "owner", Email: "held@x"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, email, owner, state string
		repo                      *repo.Collection[member]
		want                      error
	}{
		{"pending orphan, fresh", "p1@x", "ghost", "pending", r, repo.ErrAlreadyExists},
		{"pending orphan, stale", "p2@x", "ghost", "pending", rs, nil},
		{"held orphan", "h1@x", "ghost", "held", r, nil},
		{"pending, owner holds the value, stale", "held@x", "owner", "pending", rs, repo.ErrAlreadyExists},
		{"held, owner holds the value", "held@x", "owner", "held", r, repo.ErrAlreadyExists},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := fresh.ReservationKey("email", &member{Email: c.email})
			putReservation(ctx, t, m, cfg, key, c.owner, c.state)
			id := fmt.Sprintf("new%d", i)
			_, err := c.repo.Create(ctx, member{ID: id, Email: c.email})
			wantKind(t, "Create", err, c.want)
			res := getReservation(ctx, t, m, cfg, key)
			wantOwner, wantState := c.owner, c.state
			if c.want == nil {
				wantOwner, wantState = id, "held"
			}
			if res["owner"] != wantOwner || res["state"] != wantState {
				t.Errorf("reservation after Create: %v, want owner %s, %s", res, wantOwner, wantState)
			}
		})
	}
	// The record that left a pending reservation can always write its value again.
	key := fresh.ReservationKey("email", &member{Email: "p3@x"})
	putReservation(ctx, t, m, cfg, key, "retry", "pending")
	if _, err := r.Create(ctx, member{ID: "retry", Email: "p3@x"}); err != nil {
		t.Errorf("Create by the owner of a pending reservation: %v", err)
	}
}

// TestUniqueReservationsHidden: reservations live outside every record prefix, so queries
// never see them, and a key prefix cannot reach into their namespace.
func TestUniqueReservationsHidden(t *testing.T) {
	ctx, m, cfg := sharedPrefix(t)
	d, r := openMembers(ctx, t, m, cfg)
	// A sibling record type with its prefix at the config prefix's root.
	_, others := openMembers(ctx, t, m, cfg, s3.WithPrefix("others"))
	for i := range 5 {
		if _, err := r.Create(ctx, member{ID: fmt.Sprintf("m%d", i), Email: fmt.Sprintf("m%d@x", i), Nick: nick(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if keys := listKeys(ctx, t, m, cfg, cfg.Prefix+"/.repokit-unique/members/"); len(keys) != 10 {
		t.Fatalf("reservations: %q, want 10", keys)
	}
	if k := d.ReservationKey("email", &member{Email: "m0@x"}); !strings.HasPrefix(k, cfg.Prefix+"/.repokit-unique/members/email/") {
		t.Errorf("ReservationKey = %q", k)
	}
	for _, rr := range []*repo.Collection[member]{r, others} {
		all, err := rr.Find(ctx, query.New[member]())
		if err != nil {
			t.Fatal(err)
		}
		sorted, err := rr.Find(ctx, query.New[member]().OrderBy(query.NewStringField[member]("email").Desc()))
		if err != nil {
			t.Fatal(err)
		}
		n, err := rr.Count(ctx, query.New[member]())
		if err != nil {
			t.Fatal(err)
		}
		nf, err := rr.Count(ctx, query.New[member]().Where(query.NewStringField[member]("name").EQ("")))
		if err != nil {
			t.Fatal(err)
		}
		streamed := 0
		for _, err := range rr.Stream(ctx, query.New[member]()) {
			if err != nil {
				t.Fatal(err)
			}
			streamed++
		}
		want := 5
		if rr == others {
			want = 0
		}
		if len(all) != want || len(sorted) != want || n != int64(want) || nf != int64(want) || streamed != want {
			t.Errorf("Find %d, sorted %d, Count %d, %d, Stream %d; want %d", len(all), len(sorted), n, nf, streamed, want)
		}
	}
	for _, c := range []struct{ cfgPrefix, prefix string }{
		{cfg.Prefix, ".repokit-unique"},
		{cfg.Prefix, ".repokit-unique/members/email"},
		{cfg.Prefix, "a/.repokit-unique"},
		{cfg.Prefix + "/.repokit-unique", "members"},
	} {
		c2 := cfg
		c2.Prefix = c.cfgPrefix
		_, err := s3.New(ctx, m, c2, memberSchema, s3.WithPrefix(c.prefix))
		if !errors.Is(err, repo.ErrInvalidInput) || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("New with prefix %q under %q: %v, want ErrInvalidInput", c.prefix, c.cfgPrefix, err)
		}
	}
	if _, err := s3.New(ctx, m, cfg, memberSchema, s3.WithStaleReservationAfter(time.Second)); !errors.Is(err, repo.ErrInvalidInput) {
		t.Errorf("WithStaleReservationAfter(1s): %v, want ErrInvalidInput", err)
	}
}

// TestUniqueCacheNotUsed: the uniqueness check reads the owner's record from the server,
// never from the query cache: a repository whose cache holds an old version of the owner
// (without the value) still sees that the owner took the value since.
func TestUniqueCacheNotUsed(t *testing.T) {
	ctx, m, cfg := sharedPrefix(t)
	_, cached := openMembers(ctx, t, m, cfg, s3.WithCache(100))
	cfg2 := cfg
	cfg2.MaxConnections++ // another client, another cache
	_, other := openMembers(ctx, t, m, cfg2)
	a, err := cached.Create(ctx, member{ID: "a", Email: "old@x"})
	if err != nil {
		t.Fatal(err)
	}
	if all, err := cached.Find(ctx, query.New[member]()); err != nil || len(all) != 1 {
		t.Fatalf("Find: %v %v", all, err)
	}
	a.Email = "v@x"
	if _, err := other.Update(ctx, a); err != nil {
		t.Fatal(err)
	}
	_, err = cached.Create(ctx, member{ID: "b", Email: "v@x"})
	wantKind(t, "Create with the value the owner took through another repository", err, repo.ErrAlreadyExists)
	_, err = cached.Create(ctx, member{ID: "b", Email: "old@x"})
	wantKind(t, "Create with the value the owner gave up through another repository", err, nil)
}

// gate is a TCP relay in front of the test server that can be cut: then every open
// connection is closed and new ones are closed at once, a real outage for the client.
type gate struct {
	ln    net.Listener
	up    string
	down  atomic.Bool
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newGate(t *testing.T, upstream string) (*gate, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{ln: ln, up: upstream, conns: map[net.Conn]struct{}{}}
	g.wg.Add(1)
	go g.serve()
	t.Cleanup(func() { _ = ln.Close(); g.cut(); g.wg.Wait() })
	return g, "http://" + ln.Addr().String()
}

func (g *gate) track(c net.Conn, add bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if add {
		g.conns[c] = struct{}{}
	} else {
		delete(g.conns, c)
	}
}

// cut closes every open connection; new ones are closed while down is set.
func (g *gate) cut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for c := range g.conns {
		_ = c.Close()
	}
}

func (g *gate) serve() {
	defer g.wg.Done()
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		if g.down.Load() {
			_ = c.Close()
			continue
		}
		u, err := net.Dial("tcp", g.up)
		if err != nil {
			_ = c.Close()
			continue
		}
		g.track(c, true)
		g.track(u, true)
		g.wg.Add(2)
		go func() { defer g.wg.Done(); _, _ = io.Copy(u, c); _ = u.Close() }()
		go func() {
			defer g.wg.Done()
			_, _ = io.Copy(c, u)
			_ = c.Close()
			g.track(c, false)
			g.track(u, false)
		}()
	}
}

// TestUniqueOutage cuts the connection to the server at each step of a Create with a
// unique value: the call fails with ErrUnavailable (or succeeds when only the last step
// failed), and what it leaves never lets a second record take the value, while the record
// itself can always be written again once the server is back.
func TestUniqueOutage(t *testing.T) {
	ctx, m, cfg := sharedPrefix(t)
	_, direct := openMembers(ctx, t, m, cfg)
	stale, staleRepo := openMembers(ctx, t, m, cfg)
	s3.SetReservationAgeOffsetForTest(stale, time.Hour)
	for _, c := range []struct {
		name    string
		step    int   // the request (1: reserve, 2: record, 3: settle) at which the link is cut
		want    error // of the Create
		written bool  // whether the record is stored
	}{
		{"reserve", 1, repo.ErrUnavailable, false},
		{"record", 2, repo.ErrUnavailable, false},
		{"settle", 3, nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			g, endpoint := newGate(t, strings.TrimPrefix(cfg.EndpointURL, "http://"))
			gcfg := cfg
			gcfg.EndpointURL = endpoint
			m2 := pool.New(pool.Options{})
			defer func() { _ = m2.CloseAll(context.Background()) }()
			d, r := openMembers(ctx, t, m2, gcfg)
			s3.NoRetriesForTest(d)
			var sent atomic.Int32
			s3.WrapHTTPForTest(d, func(next awss3.HTTPClient) awss3.HTTPClient {
				return s3.HTTPDoer(func(req *http.Request) (*http.Response, error) {
					if req.Method == http.MethodPut && sent.Add(1) == int32(c.step) {
						g.down.Store(true)
						g.cut()
					}
					return next.Do(req)
				})
			})
			id, email := "o-"+c.name, c.name+"@x"
			_, err := r.Create(ctx, member{ID: id, Email: email})
			wantKind(t, "Create during the outage", err, c.want)
			if ok, err := direct.Exists(ctx, id); err != nil || ok != c.written {
				t.Errorf("record stored: %v, %v; want %v", ok, err, c.written)
			}
			// Whatever is left, another record gets the value only if the first one does
			// not hold it, and only once the reservation is stale.
			_, err = direct.Create(ctx, member{ID: "x-" + c.name, Email: email})
			if c.step == 1 {
				wantKind(t, "Create by another record after a failed reserve", err, nil)
				return
			}
			wantKind(t, "Create by another record, fresh", err, repo.ErrAlreadyExists)
			_, err = staleRepo.Create(ctx, member{ID: "x-" + c.name, Email: email})
			if c.written {
				wantKind(t, "Create by another record, stale, owner holds the value", err, repo.ErrAlreadyExists)
			} else {
				wantKind(t, "Create by another record, stale", err, nil)
			}
		})
	}
	// The record whose write failed can be written again at once.
	g, endpoint := newGate(t, strings.TrimPrefix(cfg.EndpointURL, "http://"))
	gcfg := cfg
	gcfg.EndpointURL = endpoint
	m2 := pool.New(pool.Options{})
	defer func() { _ = m2.CloseAll(context.Background()) }()
	d, r := openMembers(ctx, t, m2, gcfg)
	s3.NoRetriesForTest(d)
	var sent atomic.Int32
	s3.WrapHTTPForTest(d, func(next awss3.HTTPClient) awss3.HTTPClient {
		return s3.HTTPDoer(func(req *http.Request) (*http.Response, error) {
			if req.Method == http.MethodPut && sent.Add(1) == 2 {
				g.down.Store(true)
				g.cut()
			}
			return next.Do(req)
		})
	})
	_, err := r.Create(ctx, member{ID: "again", Email: "again@x"})
	wantKind(t, "Create during the outage", err, repo.ErrUnavailable)
	g.down.Store(false)
	_, err = r.Create(ctx, member{ID: "again", Email: "again@x"})
	wantKind(t, "Create of the same record after the outage", err, nil)
}

// TestUniqueWriteDeadline: the record write of a write that reserved values must finish
// within half of StaleReservationAfter; one that does not fails with ErrUnavailable and leaves
// its reservation pending, so that nobody takes the value while the write might still land.
func TestUniqueWriteDeadline(t *testing.T) {
	ctx, m, cfg := sharedPrefix(t)
	d, r := openMembers(ctx, t, m, cfg, s3.WithStaleReservationAfter(2*time.Second))
	recordPrefix := "/" + cfg.Bucket + "/" + d.Prefix()
	s3.WrapHTTPForTest(d, func(next awss3.HTTPClient) awss3.HTTPClient {
		return s3.HTTPDoer(func(req *http.Request) (*http.Response, error) {
			if req.Method == http.MethodPut && strings.HasPrefix(req.URL.Path, recordPrefix) {
				// A record write that does not get through: it ends when its context does.
				select {
				case <-req.Context().Done():
					return nil, req.Context().Err()
				case <-time.After(5 * time.Second):
					return nil, errors.New("the record write had no deadline")
				}
			}
			return next.Do(req)
		})
	})
	_, err := r.Create(ctx, member{ID: "slow", Email: "slow@x"})
	wantKind(t, "Create whose record write hangs", err, repo.ErrUnavailable)
	if err != nil && !strings.Contains(err.Error(), "StaleReservationAfter") {
		t.Errorf("error does not say why: %v", err)
	}
	res := getReservation(ctx, t, m, cfg, d.ReservationKey("email", &member{Email: "slow@x"}))
	if res["owner"] != "slow" || res["state"] != "pending" {
		t.Errorf("reservation: %v, want pending for slow", res)
	}
	_, other := openMembers(ctx, t, m, cfg)
	_, err = other.Create(ctx, member{ID: "other", Email: "slow@x"})
	wantKind(t, "Create by another record while the write might land", err, repo.ErrAlreadyExists)
}

// TestUniqueSameRecordInFlight: two writes of one record with the same value overlap; the
// later one completes while the earlier one's record write is still held back. The
// reservation must stay pending (the earlier write may still land), so that after the record
// is deleted no other record takes the value until the reservation is stale; once the
// earlier write lands, exactly one record holds the value.
func TestUniqueSameRecordInFlight(t *testing.T) {
	ctx, m, cfg := sharedPrefix(t)
	slow, slowRepo := openMembers(ctx, t, m, cfg)
	_, r := openMembers(ctx, t, m, cfg)
	recordPrefix := "/" + cfg.Bucket + "/" + slow.Prefix()
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s3.WrapHTTPForTest(slow, func(next awss3.HTTPClient) awss3.HTTPClient {
		return s3.HTTPDoer(func(req *http.Request) (*http.Response, error) {
			if req.Method == http.MethodPut && strings.HasPrefix(req.URL.Path, recordPrefix) {
				once.Do(func() { close(held) })
				<-release // the record write reaches the server only now
			}
			return next.Do(req)
		})
	})
	done := make(chan error, 1)
	go func() {
		_, err := slowRepo.Upsert(ctx, member{ID: "a", Email: "v@x"})
		done <- err
	}()
	select {
	case <-held:
	case err := <-done:
		t.Fatalf("the first Upsert ended before its record write: %v", err)
	}
	if _, err := r.Upsert(ctx, member{ID: "a", Email: "v@x"}); err != nil {
		t.Fatalf("second Upsert of the same record: %v", err)
	}
	key := slow.ReservationKey("email", &member{Email: "v@x"})
	if res := getReservation(ctx, t, m, cfg, key); res["owner"] != "a" || res["state"] != "pending" {
		t.Errorf("reservation after the second write: %v, want pending for a (the first write is in flight)", res)
	}
	if err := r.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	_, err := r.Create(ctx, member{ID: "b", Email: "v@x"})
	wantKind(t, "Create of another record with the value while a write of a is in flight", err, repo.ErrAlreadyExists)
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("first Upsert: %v", err)
	}
	got, err := r.Find(ctx, query.New[member]().Where(query.NewStringField[member]("email").EQ("v@x")))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Errorf("%d records hold the value: %v", len(got), got)
	}
}

// BenchmarkUnique compares writes of members (one required and one optional unique field)
// with the same records under a descriptor without unique fields, on the test server:
//
//	go test ./runtime/backends/s3 -run '^$' -bench Unique -benchtime=20x
func BenchmarkUnique(b *testing.B) {
	plainSchema := drivertest.WithoutUnique(memberSchema)
	cfg := testConfig(b)
	m := pool.New(pool.Options{KeepIdle: true})
	b.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	ctx := context.Background()
	for _, c := range []struct {
		name string
		desc *record.Desc[member]
	}{{"plain", plainSchema}, {"unique", memberSchema}} {
		cfg := cfg
		cfg.Prefix = freshPrefix(b, m, cfg)
		d, err := s3.New(ctx, m, cfg, c.desc)
		if err != nil {
			b.Fatal(err)
		}
		r := repo.New(c.desc, d)
		b.Cleanup(func() { _ = r.Close() })
		seq := 0
		batch := func(n int) []member {
			out := make([]member, n)
			for i := range out {
				seq++
				out[i] = member{ID: fmt.Sprintf("m%07d", seq), Email: fmt.Sprintf("m%07d@x", seq), Nick: nick(fmt.Sprint(seq))}
			}
			return out
		}
		b.Run("CreateBatch100/"+c.name, func(b *testing.B) {
			for b.Loop() {
				res, err := r.CreateBatch(ctx, batch(100))
				if err != nil || res[99].Err != nil {
					b.Fatal(err, res[99].Err)
				}
			}
		})
		b.Run("Create/"+c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := r.Create(ctx, batch(1)[0]); err != nil {
					b.Fatal(err)
				}
			}
		})
		x, err := r.Create(ctx, batch(1)[0])
		if err != nil {
			b.Fatal(err)
		}
		b.Run("UpdateKeepingValues/"+c.name, func(b *testing.B) {
			for b.Loop() {
				x.Name += "x"
				if _, err := r.Update(ctx, x); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("UpdateChangingEmail/"+c.name, func(b *testing.B) {
			for b.Loop() {
				seq++
				x.Email = fmt.Sprintf("u%07d@x", seq)
				if _, err := r.Update(ctx, x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
