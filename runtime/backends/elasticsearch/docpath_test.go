package elasticsearch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/pool"
)

// TestDocPath: ids that name APIs or dot segments reach the server encoded.
func TestDocPath(t *testing.T) {
	for id, want := range map[string]string{
		"_search": "%5Fsearch", "..": "%2E%2E", "a/b": "a%2Fb", "aZ9-": "aZ9-", "é": "%C3%A9", "a b~": "a%20b%7E",
	} {
		if got := docPath(id); got != want {
			t.Errorf("docPath(%q) = %q, want %q", id, got, want)
		}
	}
	var uris []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uris = append(uris, r.RequestURI)
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"found":false}`))
	}))
	defer srv.Close()
	for _, prefix := range []string{""} {
		uris = nil
		cfg := pool.NewElasticsearchPoolConfig()
		cfg.Hosts = []string{srv.URL + prefix}
		c, err := NewClient(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"_search", "a/..", "_mapping"} {
			res, err := esapi.GetRequest{Index: "idx", DocumentID: docPath(id)}.Do(context.Background(), c.ES)
			if err != nil {
				t.Fatal(err)
			}
			closeBody(res)
		}
		want := []string{prefix + "/idx/_doc/%5Fsearch", prefix + "/idx/_doc/a%2F%2E%2E", prefix + "/idx/_doc/%5Fmapping"}
		if len(uris) != len(want) {
			t.Fatalf("prefix %q: requests %q, want %q", prefix, uris, want)
		}
		for i := range want {
			if uris[i] != want[i] {
				t.Errorf("prefix %q: request %q, want %q", prefix, uris[i], want[i])
			}
		}
		c.transport.CloseIdleConnections()
	}
}
