package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/repokit/repokit/runtime/pool"
)

// Retry settings of every client the pool hooks create: an attempt that fails with a
// transient error (connection refused or reset, a timeout, a 5xx, throttling) is retried
// with exponential backoff and jitter, at most MaxAttempts attempts in all and at most
// MaxBackoff between two attempts. There is no client-side retry quota, so a burst of
// failures during a server restart does not turn later retries into immediate errors.
const (
	MaxAttempts = 5
	MaxBackoff  = 2 * time.Second
)

// DefaultRegion is the signing region used with a custom endpoint when neither the config
// nor the SDK's default resolution (AWS_REGION, shared config) names one.
const DefaultRegion = "us-east-1"

// Client is the pooled S3 client shared by every repository whose pool.S3PoolConfig has
// the same Key (region, endpoint, credentials, path style, connection limit).
type Client struct {
	API       *s3.Client        // the aws-sdk-go-v2 client
	transport *transportRef     // the connections of its HTTP transport (an idle pool of MaxConnections)
	bucket    string            // bucket of the config that created the client, for Validate
	cfg       pool.S3PoolConfig // the config that created the client
}

// MaxConnections returns the connection limit the client was created with.
func (c *Client) MaxConnections() int { return c.cfg.MaxConnections }

// Hooks returns the pool-manager hooks for S3 clients: Create builds a client from a
// pool.S3PoolConfig, Validate sends HeadBucket for the creating config's bucket, Close
// closes every connection the client opened (its transport's goroutines end with them) and
// makes it refuse to open new ones.
func Hooks() pool.Hooks[*Client] {
	return pool.Hooks[*Client]{
		Create:   createClient,
		Validate: func(ctx context.Context, c *Client) error { return c.validate(ctx) },
		Close: func(_ context.Context, c *Client) error {
			c.transport.closeAll()
			return nil
		},
	}
}

// transportRef tracks the connections of a client's HTTP transport, so that Close can close
// them. It cannot hold the transport itself: the SDK's buildable HTTP client clones its
// transport on every With... call and again when it builds, so the transport that carries
// the requests is none that an option function sees (closing the idle connections of those
// closed nothing, and every closed client kept its connections and their two goroutines
// until the idle timeout). Every clone keeps the transport's DialContext, so the connections
// are tracked where they are dialled (see dial).
type transportRef struct {
	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

// dial wraps a transport's DialContext (nil: a plain net.Dialer's) so that every connection
// it opens is tracked until it is closed, and none is opened after closeAll.
func (r *transportRef) dial(next func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if next == nil {
		next = (&net.Dialer{}).DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc := &trackedConn{Conn: c, ref: r}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.closed {
			c.Close()
			return nil, fmt.Errorf("s3: the client is closed: %w", net.ErrClosed)
		}
		if r.conns == nil {
			r.conns = map[*trackedConn]struct{}{}
		}
		r.conns[tc] = struct{}{}
		return tc, nil
	}
}

// closeAll closes every tracked connection, idle or not, and makes dial refuse new ones.
func (r *transportRef) closeAll() {
	r.mu.Lock()
	conns := r.conns
	r.conns, r.closed = nil, true
	r.mu.Unlock()
	for c := range conns {
		c.Conn.Close()
	}
}

// trackedConn is a connection that leaves its transportRef when it is closed.
type trackedConn struct {
	net.Conn
	ref *transportRef
}

func (c *trackedConn) Close() error {
	c.ref.mu.Lock()
	delete(c.ref.conns, c)
	c.ref.mu.Unlock()
	return c.Conn.Close()
}

// ConfigureTransport applies cfg's connection limit to an HTTP transport: an idle pool of
// cfg.MaxConnections connections to the endpoint (MaxIdleConns, MaxIdleConnsPerHost), so
// that that many concurrent requests reuse their connections.
func ConfigureTransport(cfg pool.S3PoolConfig, tr *http.Transport) {
	n := max(cfg.MaxConnections, 1)
	tr.MaxIdleConns = n
	tr.MaxIdleConnsPerHost = n
	tr.IdleConnTimeout = 90 * time.Second
}

func createClient(ctx context.Context, pc pool.Config) (*Client, error) {
	cfg, err := pool.ConfigAs[pool.S3PoolConfig](pc)
	if err != nil {
		return nil, err
	}
	tr := &transportRef{}
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		ConfigureTransport(cfg, t)
	})
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithHTTPClient(hc),
		awsconfig.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = MaxAttempts
				o.MaxBackoff = MaxBackoff
				o.RateLimiter = ratelimit.None
				// A certificate that does not verify stays so: no retry (the first match wins).
				o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
					if pool.IsCertificateError(err) {
						return aws.FalseTernary
					}
					return aws.UnknownTernary
				})}, o.Retryables...)
			})
		}),
	}
	if cfg.CACerts != "" {
		pem, err := os.ReadFile(cfg.CACerts)
		if err != nil {
			return nil, fmt.Errorf("%w: s3: ca_certs: %v", pool.ErrInvalidConfig, err)
		}
		opts = append(opts, awsconfig.WithCustomCABundle(bytes.NewReader(pem)))
	}
	if cfg.RegionName != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.RegionName))
	}
	if cfg.AWSAccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(
			cfg.AWSAccessKeyID, cfg.AWSSecretAccessKey, cfg.AWSSessionToken)))
	}
	ac, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3: loading the AWS configuration: %w", err)
	}
	if ac.Region == "" && cfg.EndpointURL != "" {
		ac.Region = DefaultRegion
	}
	api := s3.NewFromConfig(ac, func(o *s3.Options) {
		if cfg.EndpointURL != "" {
			o.BaseEndpoint = aws.String(cfg.EndpointURL)
		}
		o.UsePathStyle = cfg.PathStyle
		// S3-compatible servers reject or mis-verify the SDK's default flexible checksums
		// (trailing CRC32 on every upload); send and check them only where S3 requires them.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		// The options run after the SDK's last change to its HTTP client (dialer and TLS
		// timeouts of the defaults mode): the transport it builds from this one dials
		// through tr.
		if b, ok := o.HTTPClient.(*awshttp.BuildableClient); ok {
			o.HTTPClient = b.WithTransportOptions(func(t *http.Transport) { t.DialContext = tr.dial(t.DialContext) })
		}
	}, instrumentHTTP(ctx))
	return &Client{API: api, transport: tr, bucket: cfg.Bucket, cfg: cfg}, nil
}

func (c *Client) validate(ctx context.Context) error {
	_, err := c.API.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(c.bucket)})
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if rejectsConfig(err) {
			return fmt.Errorf("%w: s3: HeadBucket %s: %w", pool.ErrInvalidConfig, c.bucket, err)
		}
		if isConnErr(err) {
			return pool.MarkTransient(fmt.Errorf("s3: HeadBucket %s: %w", c.bucket, err))
		}
		return fmt.Errorf("s3: HeadBucket %s: %w", c.bucket, err)
	}
	return nil
}

// isConnErr reports whether err is a failure of the connection to the server rather than an
// answer from it: a refused, reset or closed connection, an EOF before or inside the
// response, a network timeout, a DNS failure. The SDK wraps its HTTP client's failures in a
// *url.Error (a net.Error), but an error while reading a response body (GetObject) comes as
// it is: io.ErrUnexpectedEOF for a body cut short, a *net.OpError for a reset. An error
// carrying an HTTP status is an answer, and context errors are not connection errors
// (context.DeadlineExceeded is a net.Error with Timeout, but the caller's deadline says
// nothing about the server). Like the PostgreSQL backend's isConnErr, it also accepts what
// pool.IsTransient does (refused, reset, aborted connections, broken pipes).
func isConnErr(err error) bool {
	if err == nil || statusOf(err) != 0 ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || pool.IsTransient(err) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}
