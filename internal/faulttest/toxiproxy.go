package faulttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Toxiproxy drives one proxy of a Toxiproxy server through its HTTP API
// (https://github.com/Shopify/toxiproxy#http-api): add and remove toxics, disable and enable
// the proxy. It never calls POST /reset, which would also strip the latency toxics of the
// benchmarks' slow S3 link on the same server.
type Toxiproxy struct {
	API   string // e.g. http://127.0.0.1:18474
	Proxy string // proxy name, e.g. pg_fault
	HTTP  *http.Client
}

// Toxic is one toxic as Toxiproxy's API takes it.
type Toxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`   // latency, bandwidth, slow_close, timeout, reset_peer, slicer, limit_data
	Stream     string         `json:"stream"` // upstream (client to server) or downstream
	Toxicity   float64        `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

func (x Toxiproxy) do(ctx context.Context, method, path string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, x.API+"/proxies/"+url.PathEscape(x.Proxy)+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Close = true // keep no idle connection: the soak and matrix count sockets and goroutines
	hc := x.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("toxiproxy %s %s: %w", method, req.URL.Path, err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		return nil, fmt.Errorf("toxiproxy %s %s: %s: %s", method, req.URL.Path, res.Status, bytes.TrimSpace(out))
	}
	return out, nil
}

// AddToxic adds a toxic to the proxy.
func (x Toxiproxy) AddToxic(ctx context.Context, tx Toxic) error {
	_, err := x.do(ctx, http.MethodPost, "/toxics", tx)
	return err
}

// RemoveToxic removes the named toxic from the proxy.
func (x Toxiproxy) RemoveToxic(ctx context.Context, name string) error {
	_, err := x.do(ctx, http.MethodDelete, "/toxics/"+url.PathEscape(name), nil)
	return err
}

// SetEnabled enables or disables the proxy. A disabled proxy closes its connections and stops
// listening: clients get connection refused.
func (x Toxiproxy) SetEnabled(ctx context.Context, enabled bool) error {
	_, err := x.do(ctx, http.MethodPost, "", map[string]bool{"enabled": enabled})
	return err
}

// Clean removes every toxic of the proxy and enables it: the state a test starts from and
// leaves behind.
func (x Toxiproxy) Clean(ctx context.Context) error {
	b, err := x.do(ctx, http.MethodGet, "/toxics", nil)
	if err != nil {
		return err
	}
	var toxics []Toxic
	if err := json.Unmarshal(b, &toxics); err != nil {
		return fmt.Errorf("toxiproxy: toxics of %s: %w", x.Proxy, err)
	}
	for _, tx := range toxics {
		if err := x.RemoveToxic(ctx, tx.Name); err != nil {
			return err
		}
	}
	return x.SetEnabled(ctx, true)
}
