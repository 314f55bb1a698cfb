package elasticsearch

import (
	"context"
	"net/http"
	"testing"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/pool"
)

func TestLoopback(t *testing.T) {
	for hosts, want := range map[string]bool{
		"http://127.0.0.1:9200": true, "https://localhost:9200": true, "http://[::1]:9200": true,
		"http://127.3.0.1": true, "http://10.0.0.1:9200": false, "http://es.example:9200": false,
		"http://0.0.0.0:9200": false, "": false,
	} {
		var hs []string
		if hosts != "" {
			hs = []string{hosts}
		}
		if got := loopback(hs); got != want {
			t.Errorf("loopback(%q) = %v, want %v", hosts, got, want)
		}
	}
	if loopback([]string{"http://127.0.0.1:9200", "http://10.0.0.1:9200"}) {
		t.Error("loopback of a loopback and a remote host = true")
	}
}

// roundTrip calls fn with each response of the wrapped transport.
type roundTrip struct {
	next http.RoundTripper
	fn   func(*http.Response)
}

func (r roundTrip) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := r.next.RoundTrip(req)
	if err == nil {
		r.fn(res)
	}
	return res, err
}

// TestLoopbackUncompressed: a client of a node on a loopback address asks for uncompressed
// responses, which the node sends (Go's transport would otherwise ask for gzip and
// decompress, marking the response Uncompressed).
func TestLoopbackUncompressed(t *testing.T) {
	cfg := pool.NewElasticsearchPoolConfig()
	cfg.Hosts = []string{servicetest.ElasticsearchURL(t)}
	if !loopback(cfg.Hosts) {
		t.Skipf("the test node %s is not on a loopback address", cfg.Hosts[0])
	}
	var seen, gzipped int
	c, err := newClient(context.Background(), cfg, func(next http.RoundTripper) http.RoundTripper {
		return roundTrip{next, func(res *http.Response) {
			seen++
			if res.Uncompressed || res.Header.Get("Content-Encoding") != "" {
				gzipped++
			}
		}}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.transport.CloseIdleConnections()
	res, err := esapi.ClusterHealthRequest{}.Do(context.Background(), c.ES)
	if err != nil {
		t.Fatal(err)
	}
	closeBody(res)
	if seen == 0 || gzipped > 0 {
		t.Errorf("%d of %d responses were compressed", gzipped, seen)
	}
}
