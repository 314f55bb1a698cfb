package elasticsearch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	es "github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/pool"
)

// Retry settings of the client: requests answered with one of RetryStatuses, and requests
// that failed before they reached the server (connection refused), are retried at most
// MaxRetries times with exponential backoff (RetryBase doubling up to RetryCap, ±50 % jitter).
// Requests that may have been applied are never retried, so that a create or a conditional
// write is not sent twice (its second attempt would answer 409 for the first one's write):
// not on a network error once connected, and not on 502, 503 or 504, which a proxy in front
// of the cluster answers when it lost the node's answer (Envoy answers 503 to an upstream
// reset after forwarding). Only 429, which Elasticsearch and rate limiters answer before
// doing anything, is retried; reads fail on the others too, with repo.ErrUnavailable.
const (
	MaxRetries = 3
	RetryBase  = 50 * time.Millisecond
	RetryCap   = 2 * time.Second
)

// RetryStatuses are the HTTP statuses the client retries: 429 Too Many Requests, a refusal
// that says the request was not applied.
var RetryStatuses = []int{http.StatusTooManyRequests}

// Client is the pooled Elasticsearch client: a go-elasticsearch client over its own HTTP
// transport. Repositories on configs with the same identity share one Client through the
// pool manager.
type Client struct {
	ES        *es.Client
	transport *http.Transport
	hosts     int
}

// Hooks returns the pool-manager hooks for Elasticsearch clients: Create builds a client
// with NewClient from a pool.ElasticsearchPoolConfig, Validate calls the info API, Close
// closes idle connections. Like the other backends' Hooks it is a function, so every caller
// gets its own value.
func Hooks() pool.Hooks[*Client] {
	return pool.Hooks[*Client]{
		Create:   func(ctx context.Context, cfg pool.Config) (*Client, error) { return NewClient(ctx, cfg) },
		Validate: func(ctx context.Context, c *Client) error { return c.Ping(ctx) },
		Close: func(_ context.Context, c *Client) error {
			c.transport.CloseIdleConnections()
			return nil
		},
	}
}

// NewClient builds a client from c (a pool.ElasticsearchPoolConfig, a pointer to one or a
// *pool.Prepared of either; anything else is pool.ErrInvalidConfig, see pool.ConfigAs):
// addresses, API key or basic auth, TLS (verify_certs, ca_certs, client_cert/client_key), an
// HTTP transport keeping cfg.Connections idle connections per node and at most cfg.MaxSize
// connections per node (asking for gzip responses unless every node is on a loopback
// address), and bounded retries. It does not contact the server; the pool
// manager validates new clients with Ping before their first use only when asked to, so
// repositories call Ping themselves when they open.
func NewClient(ctx context.Context, c pool.Config) (*Client, error) {
	return newClient(ctx, c, nil)
}

// newClient is NewClient; wrap, when not nil, wraps the HTTP transport (tests put faults
// between the client and the server with it).
func newClient(ctx context.Context, c pool.Config, wrap func(http.RoundTripper) http.RoundTripper) (*Client, error) {
	cfg, err := pool.ConfigAs[pool.ElasticsearchPoolConfig](c)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tlsCfg, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConns:          cfg.Connections * len(cfg.Hosts),
		MaxIdleConnsPerHost:   cfg.Connections,
		MaxConnsPerHost:       cfg.MaxSize,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     false,
		DisableCompression:    loopback(cfg.Hosts),
	}
	var rt http.RoundTripper = tr
	if wrap != nil {
		rt = wrap(tr)
	}
	client, err := es.NewClient(es.Config{
		Addresses:     cfg.Hosts,
		Username:      cfg.BasicAuthUser,
		Password:      cfg.BasicAuthPassword,
		APIKey:        cfg.APIKey,
		Transport:     instrumentTransport(ctx, rt),
		RetryOnStatus: RetryStatuses,
		MaxRetries:    MaxRetries,
		RetryOnError:  retryOnError,
		RetryBackoff:  backoff,
		// The client's own product check runs on the first request; it is kept.
	})
	if err != nil {
		tr.CloseIdleConnections()
		return nil, fmt.Errorf("elasticsearch: %s", cfg.RedactSecrets(err.Error()))
	}
	return &Client{ES: client, transport: tr, hosts: len(cfg.Hosts)}, nil
}

func tlsConfig(cfg pool.ElasticsearchPoolConfig) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: !cfg.VerifyCerts} //nolint:gosec // the user's verify_certs setting
	if cfg.CACerts != "" {
		pem, err := os.ReadFile(cfg.CACerts)
		if err != nil {
			return nil, fmt.Errorf("elasticsearch: ca_certs: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("elasticsearch: ca_certs: no PEM certificate in %s", cfg.CACerts)
		}
		t.RootCAs = roots
	}
	if cfg.ClientCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.ClientCert, cfg.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("elasticsearch: client_cert/client_key: %w", err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	return t, nil
}

// loopback reports whether every host is a loopback address (localhost, 127.0.0.0/8, ::1):
// responses are then asked for uncompressed, since gzip would only cost CPU on both sides
// of a link with no bandwidth to save (about 15 % of a 1000-document _mget's CPU, 20 % of a
// Get's).
func loopback(hosts []string) bool {
	for _, h := range hosts {
		u, err := url.Parse(h)
		if err != nil {
			return false
		}
		name := u.Hostname()
		if ip := net.ParseIP(name); !(name == "localhost" || ip != nil && ip.IsLoopback()) {
			return false
		}
	}
	return len(hosts) > 0
}

// retryOnError retries a failed request only when it cannot have reached the server: the
// connection could not be opened.
func retryOnError(req *http.Request, err error) bool {
	if req.Context().Err() != nil {
		return false
	}
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

func backoff(attempt int) time.Duration {
	d := RetryBase << min(attempt-1, 10)
	if d > RetryCap {
		d = RetryCap
	}
	return d/2 + time.Duration(rand.Int64N(int64(d)))
}

// Ping calls the info API and reports an error unless the server answers 200.
func (c *Client) Ping(ctx context.Context) error {
	res, err := esapi.InfoRequest{}.Do(ctx, c.ES)
	if err != nil {
		return transportError(ctx, err)
	}
	defer closeBody(res)
	if res.StatusCode != http.StatusOK {
		return responseError(res, nil)
	}
	return nil
}

// PoolStats returns the number of configured nodes (pool.StatsProvider); go-elasticsearch keeps no statistics
// without metrics enabled.
func (c *Client) PoolStats() any { return map[string]int{"nodes": c.hosts} }

func closeBody(res *esapi.Response) {
	if res != nil && res.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
		_ = res.Body.Close()
	}
}
