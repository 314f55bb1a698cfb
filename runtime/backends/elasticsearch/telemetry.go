package elasticsearch

import (
	"context"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/repokit/repokit/runtime/internal/telemetry"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// Telemetry implements repo.TelemetryDriver: db.system.name "elasticsearch", the index, and
// the providers of the pool.Manager the client came from.
func (d *Driver[T]) Telemetry() repo.Telemetry {
	t := repo.Telemetry{System: "elasticsearch", Collection: d.o.Index}
	t.TracerProvider, t.MeterProvider = d.lease.Manager().Providers()
	return t
}

// instrumentTransport wraps tr so that every request to the cluster is a client span on the
// tracer provider of the Manager creating the client (see pool.ManagerFrom), a child of the
// repository call's span, named by its method and path template: the path's segments that
// do not start with "_" (index names, document ids) become "{}", e.g. "GET /{}/_doc/{}".
// go-elasticsearch's own instrumentation is not used: it records the full URL (document
// ids) and the text of errors.
func instrumentTransport(ctx context.Context, tr http.RoundTripper) http.RoundTripper {
	tp, _ := pool.ManagerFrom(ctx).Providers()
	return telemetry.Transport(tr, tp, describeRequest)
}

func describeRequest(req *http.Request) (string, []attribute.KeyValue) {
	tmpl := pathTemplate(req.URL.EscapedPath()) // escaped: an id "_search" is "%5Fsearch"
	return req.Method + " " + tmpl, []attribute.KeyValue{
		semconv.DBSystemNameElasticsearch, semconv.URLTemplateKey.String(tmpl),
	}
}

// pathTemplate replaces the segments of an Elasticsearch API path that name an index, a
// document or anything else the caller chose by "{}", keeping the API's own ("_search").
func pathTemplate(p string) string {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i, s := range segs {
		if !strings.HasPrefix(s, "_") && s != "" {
			segs[i] = "{}"
		}
	}
	return "/" + strings.Join(segs, "/")
}
