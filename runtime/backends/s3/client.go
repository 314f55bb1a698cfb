package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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
	transport *transportRef     // its HTTP transport, whose idle pool has MaxConnections connections
	bucket    string            // bucket of the config that created the client, for Validate
	cfg       pool.S3PoolConfig // the config that created the client
}

// MaxConnections returns the connection limit the client was created with.
func (c *Client) MaxConnections() int { return c.cfg.MaxConnections }

// Hooks returns the pool-manager hooks for S3 clients: Create builds a client from a
// pool.S3PoolConfig, Validate sends HeadBucket for the creating config's bucket, Close
// closes the transport's idle connections.
func Hooks() pool.Hooks[*Client] {
	return pool.Hooks[*Client]{
		Create:   createClient,
		Validate: func(ctx context.Context, c *Client) error { return c.validate(ctx) },
		Close: func(_ context.Context, c *Client) error {
			c.transport.closeIdle()
			return nil
		},
	}
}

// transportRef remembers the transports the SDK's buildable HTTP client builds (it builds
// one lazily, and again when the SDK adds options such as a CA bundle from AWS_CA_BUNDLE),
// so that Close can close their idle connections.
type transportRef struct {
	mu  sync.Mutex
	trs []*http.Transport
}

func (r *transportRef) add(tr *http.Transport) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.trs = append(r.trs, tr)
}

func (r *transportRef) closeIdle() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, tr := range r.trs {
		tr.CloseIdleConnections()
	}
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
		tr.add(t)
	})
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithHTTPClient(hc),
		awsconfig.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = MaxAttempts
				o.MaxBackoff = MaxBackoff
				o.RateLimiter = ratelimit.None
			})
		}),
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
		tr.closeIdle()
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
	})
	return &Client{API: api, transport: tr, bucket: cfg.Bucket, cfg: cfg}, nil
}

func (c *Client) validate(ctx context.Context) error {
	_, err := c.API.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(c.bucket)})
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
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
