package elasticsearch_test

import (
	"crypto/tls"
	"encoding/base64"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/internal/testcerts"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/pool"
)

// The credentials the TLS proxy accepts, and wrong ones; none may appear in an error.
const (
	proxyUser        = "repokit"
	proxyPassword    = "es-proxy-pw-4c1e8b"
	proxyAPIKey      = "ZXMtcHJveHk6YXBpa2V5LTlkMmY3YQ"
	wrongPassword    = "es-wrong-pw-b7e310"
	wrongAPIKey      = "d3JvbmcteWFwaWtleS01NWE5MQ"
	proxyAuthFailure = `{"error":{"type":"security_exception","reason":"unable to authenticate"},"status":401}`
)

// tlsProxy starts an HTTPS reverse proxy in front of the test node (the embedded engine has
// no security module) that serves cert and lets a request through only with basic auth
// proxyUser/proxyPassword or the API key proxyAPIKey, answering 401 as Elasticsearch does
// otherwise. With clientAuth it also requires a client certificate signed by certs' CA.
func tlsProxy(t *testing.T, certs *testcerts.Set, cert tls.Certificate, clientAuth bool) string {
	t.Helper()
	node, err := url.Parse(servicetest.ElasticsearchURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(node)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(proxyUser+":"+proxyPassword))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		scheme, cred, _ := strings.Cut(auth, " ")
		if auth != basic && !(strings.EqualFold(scheme, "ApiKey") && cred == proxyAPIKey) {
			w.Header().Set("WWW-Authenticate", `Basic realm="security", ApiKey`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(proxyAuthFailure))
			return
		}
		r.Header.Del("Authorization")
		rp.ServeHTTP(w, r)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientAuth {
		srv.TLS.ClientAuth, srv.TLS.ClientCAs = tls.RequireAndVerifyClientCert, certs.CAPool
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestTLSAndAuth: through a TLS proxy with basic auth and API keys, the seed's settings in a
// pool config map (hosts, basic_auth, api_key, verify_certs, ca_certs, client_cert,
// client_key) reach the client: a repository works end to end with either credential, with a
// client certificate where the proxy requires one, and without verification when
// verify_certs is false; a wrong CA, an expired server certificate, a wrong password or API
// key and a missing client certificate each fail at once with pool.ErrInvalidConfig, and no
// error shows a password or key.
func TestTLSAndAuth(t *testing.T) {
	certs := testcerts.New(t, t.TempDir(), "repokit-client")
	open := tlsProxy(t, certs, certs.Server, false)
	mutual := tlsProxy(t, certs, certs.Server, true)
	expired := tlsProxy(t, certs, certs.Expired, false)
	basicAuth := func(pw string) map[string]any { return map[string]any{"username": proxyUser, "password": pw} }
	cfgMap := func(host string, extra ...map[string]any) map[string]any {
		return testcerts.Config(map[string]any{"hosts": []any{host}, "basic_auth": basicAuth(proxyPassword),
			"ca_certs": certs.CAFile, "verify_certs": true}, extra...)
	}
	clientCert := map[string]any{"client_cert": certs.ClientCertFile, "client_key": certs.ClientKeyFile}
	cases := []struct {
		name string
		cfg  map[string]any
		ok   bool
	}{
		{"basic auth", cfgMap(open, nil), true},
		{"API key", cfgMap(open, map[string]any{"basic_auth": nil, "api_key": proxyAPIKey}), true},
		{"client certificate", cfgMap(mutual, clientCert), true},
		{"verify_certs false ignores the CA", cfgMap(open, map[string]any{"ca_certs": certs.WrongCAFile, "verify_certs": false}), true},
		{"wrong CA", cfgMap(open, map[string]any{"ca_certs": certs.WrongCAFile}), false},
		{"system CAs only", cfgMap(open, map[string]any{"ca_certs": nil}), false},
		{"expired server certificate", cfgMap(expired, nil), false},
		{"wrong password", cfgMap(open, map[string]any{"basic_auth": basicAuth(wrongPassword)}), false},
		{"wrong API key", cfgMap(open, map[string]any{"basic_auth": nil, "api_key": wrongAPIKey}), false},
		{"no client certificate", cfgMap(mutual, nil), false},
		{"client certificate, wrong password", cfgMap(mutual, clientCert, map[string]any{"basic_auth": basicAuth(wrongPassword)}), false},
	}
	direct := testConfig(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, m, cfg := testcerts.Case(t, c.cfg, pool.ElasticsearchPoolConfigFromMap, pool.Options{}, 30*time.Second)
			index := uniqueIndex(t, "tls")
			r, err := elasticsearch.NewRepository(ctx, m, cfg, things.OtherSchema, elasticsearch.WithIndex(index))
			if err == nil {
				t.Cleanup(func() { deleteIndex(t, m, direct, index) })
				defer r.Close()
				var got things.Other
				if got, err = r.Create(ctx, things.Other{Label: "over TLS"}); err == nil {
					_, err = r.Get(ctx, got.ID)
				}
			}
			testcerts.CheckOutcome(t, c.name, c.ok, err, proxyPassword, wrongPassword, proxyAPIKey, wrongAPIKey)
		})
	}
}
