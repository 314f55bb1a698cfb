package s3_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// faultyLink is a TCP relay in front of the test server that breaks every connection the
// same way, to get the errors the SDK really returns for broken connections (no mock of
// S3: the responses that do get through are the server's).
type faultyLink struct {
	ln   net.Listener
	wg   sync.WaitGroup
	mode string // "close": accept, read the request, close; "cut": relay, close after limit response bytes; "reset": the same with a TCP reset
	up   string // upstream host:port
	lim  int64
}

func newFaultyLink(t *testing.T, upstream, mode string, limit int64) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &faultyLink{ln: ln, mode: mode, up: upstream, lim: limit}
	f.wg.Add(1)
	go f.serve()
	t.Cleanup(func() { _ = ln.Close(); f.wg.Wait() })
	return "http://" + ln.Addr().String()
}

func (f *faultyLink) serve() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer c.Close()
			if f.mode == "close" {
				_, _ = c.Read(make([]byte, 4096))
				return
			}
			u, err := net.Dial("tcp", f.up)
			if err != nil {
				return
			}
			defer u.Close()
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				_, _ = io.Copy(u, c) // ends when the deferred Closes below run
			}()
			_, _ = io.CopyN(c, u, f.lim)
			if f.mode == "reset" {
				_ = c.(*net.TCPConn).SetLinger(0)
			}
		}()
	}
}

// oneAttempt returns an SDK client for cfg that does not retry, so that each fault is seen
// once and at once.
func oneAttempt(ctx context.Context, t *testing.T, m *pool.Manager, cfg pool.S3PoolConfig) *awss3.Client {
	t.Helper()
	l, err := pool.Get(ctx, m, cfg, s3.Hooks())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Release)
	return awss3.New(l.Pool().API.Options(), func(o *awss3.Options) { o.RetryMaxAttempts = 1 })
}

// TestIsConnErr classifies the errors of real broken connections (refused, closed before
// the response, a response body cut short or reset) as connection errors, and real server
// answers (404, 403) and the caller's cancellation as not.
func TestIsConnErr(t *testing.T) {
	ctx, m, cfg := sharedPrefix(t)
	// One object large enough that its body is cut by the faulty links.
	_, r := openThings(ctx, t, m, cfg)
	part := strings.Repeat("x", 16<<10) // four of them: 64 KiB, each under the string limit
	big := things.Thing{ID: "big", Name: part, Tags: []string{part, part, part}, Created: time.Unix(0, 0).UTC()}
	if _, err := r.Create(ctx, big); err != nil {
		t.Fatal(err)
	}
	d, err := s3.New(ctx, m, cfg, things.ThingSchema)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	key := d.Key("big")
	upstream := strings.TrimPrefix(cfg.EndpointURL, "http://")

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + closed.Addr().String()
	_ = closed.Close()

	// get sends GetObject for key through endpoint (with the given secret) and reads the
	// body; it returns the first error.
	get := func(ctx context.Context, endpoint, secret, bucket, key string) error {
		c := cfg
		c.EndpointURL = endpoint
		if secret != "" {
			c.AWSSecretAccessKey = secret
		}
		api := oneAttempt(context.Background(), t, m, c)
		out, err := api.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		_, err = io.Copy(io.Discard, out.Body)
		return err
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	expired, cancel2 := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel2()
	for _, c := range []struct {
		name string
		err  func() error
		conn bool
	}{
		{"refused", func() error { return get(ctx, refused, "", cfg.Bucket, key) }, true},
		{"closed before the response", func() error { return get(ctx, newFaultyLink(t, upstream, "close", 0), "", cfg.Bucket, key) }, true},
		{"body cut short", func() error { return get(ctx, newFaultyLink(t, upstream, "cut", 8<<10), "", cfg.Bucket, key) }, true},
		{"body reset", func() error { return get(ctx, newFaultyLink(t, upstream, "reset", 8<<10), "", cfg.Bucket, key) }, true},
		{"headers cut short", func() error { return get(ctx, newFaultyLink(t, upstream, "cut", 20), "", cfg.Bucket, key) }, true},
		{"no such key", func() error { return get(ctx, cfg.EndpointURL, "", cfg.Bucket, key+"-missing") }, false},
		{"no such bucket", func() error { return get(ctx, cfg.EndpointURL, "", cfg.Bucket+"-missing", key) }, false},
		{"wrong secret", func() error { return get(ctx, cfg.EndpointURL, "wrong-secret", cfg.Bucket, key) }, false},
		{"caller cancelled", func() error { return get(canceled, cfg.EndpointURL, "", cfg.Bucket, key) }, false},
		{"caller cancelled, refused", func() error { return get(canceled, refused, "", cfg.Bucket, key) }, false},
		{"caller deadline", func() error { return get(expired, cfg.EndpointURL, "", cfg.Bucket, key) }, false},
		{"context.DeadlineExceeded itself", func() error { return context.DeadlineExceeded }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.err()
			if err == nil {
				t.Fatal("no error")
			}
			if got := s3.IsConnErr(err); got != c.conn {
				t.Errorf("IsConnErr = %v, want %v for %T: %v", got, c.conn, err, err)
			}
		})
	}

	// Through a repository: a body cut short is ErrUnavailable, not a decoding error.
	c := cfg
	c.EndpointURL = newFaultyLink(t, upstream, "cut", 8<<10)
	m2 := pool.New(pool.Options{})
	defer func() { _ = m2.CloseAll(context.Background()) }()
	_, cut := openThings(ctx, t, m2, c)
	if _, err := cut.Get(ctx, "big"); !errors.Is(err, repo.ErrUnavailable) {
		t.Errorf("Get of a body cut short: %v, want ErrUnavailable", err)
	}
}
