package s3

import (
	"context"
	"net/http"
	"strings"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/repokit/repokit/runtime/internal/telemetry"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// System is the db.system.name of S3 repositories' spans and metrics (the semantic
// conventions have none for object stores).
const System = "aws.s3"

// Telemetry implements repo.TelemetryDriver: db.system.name "aws.s3", the key prefix (with
// its trailing slash), and the providers of the pool.Manager the client came from.
func (d *Driver[T]) Telemetry() repo.Telemetry {
	t := repo.Telemetry{System: System, Collection: d.prefix}
	t.TracerProvider, t.MeterProvider = d.lease.Manager().Providers()
	return t
}

// instrumentHTTP returns an S3 option that makes every HTTP request of the client a client
// span on the tracer provider of the Manager creating the client (see pool.ManagerFrom), a
// child of the repository call's span, named by the S3 operation ("S3.GetObject"), with
// the AWS RPC attributes and the bucket; never the object key (it holds the record id) nor
// the URL. Retries are one span each.
func instrumentHTTP(ctx context.Context) func(*s3.Options) {
	tp, _ := pool.ManagerFrom(ctx).Providers()
	return func(o *s3.Options) {
		hc := o.HTTPClient
		if hc == nil {
			return
		}
		rt := telemetry.Transport(doer{hc}, tp, describeRequest(o.UsePathStyle))
		if _, ok := rt.(doer); ok {
			return // tracing off for good: keep the client as it is
		}
		o.HTTPClient = roundTripClient{rt}
	}
}

// describeRequest names an S3 request by the SDK operation in its context.
func describeRequest(pathStyle bool) telemetry.Describe {
	return func(req *http.Request) (string, []attribute.KeyValue) {
		op := awsmiddleware.GetOperationName(req.Context())
		attrs := []attribute.KeyValue{
			attribute.String("rpc.system", "aws-api"), attribute.String("rpc.service", "S3"),
			attribute.String("rpc.method", op),
		}
		if b := bucketOf(req, pathStyle); b != "" {
			attrs = append(attrs, semconv.AWSS3BucketKey.String(b))
		}
		return "S3." + op, attrs
	}
}

// bucketOf returns the bucket of a path-style request (the first path segment) or of a
// virtual-hosted one (the first label of the host).
func bucketOf(req *http.Request, pathStyle bool) string {
	if pathStyle {
		b, _, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
		return b
	}
	b, _, _ := strings.Cut(req.URL.Hostname(), ".")
	return b
}

// doer adapts the SDK's HTTP client to an http.RoundTripper.
type doer struct{ c s3.HTTPClient }

func (d doer) RoundTrip(req *http.Request) (*http.Response, error) { return d.c.Do(req) }

// roundTripClient adapts an http.RoundTripper to the SDK's HTTP client.
type roundTripClient struct{ rt http.RoundTripper }

func (c roundTripClient) Do(req *http.Request) (*http.Response, error) { return c.rt.RoundTrip(req) }
