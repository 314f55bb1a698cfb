package pool

import (
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Defaults of ElasticsearchPoolConfig. Hosts, index, verify_certs and ssl_show_warn follow the
// seed; the pool sizes follow the Python client's per-node default of 10 connections.
const (
	DefaultElasticsearchHost        = "http://localhost:9200"
	DefaultElasticsearchPort        = 9200
	DefaultElasticsearchIndex       = "records"
	DefaultElasticsearchConnections = 10
	DefaultElasticsearchMaxSize     = 10
)

// Environment variables read by ElasticsearchPoolConfig.ApplyEnv (the seed's names).
const (
	EnvElasticsearchConnections = "ES_POOL_CONNECTIONS"
	EnvElasticsearchMaxSize     = "ES_POOL_MAXSIZE"
)

// BackendElasticsearch is the Backend() of ElasticsearchPoolConfig.
const BackendElasticsearch = "elasticsearch"

// ElasticsearchPoolConfig is the seed's ElasticsearchPoolConfig: the nodes, credentials and TLS
// settings of an Elasticsearch client, plus its connection pool sizes. Use
// NewElasticsearchPoolConfig (or a From function) for the seed's defaults. Printing it shows
// secrets masked.
type ElasticsearchPoolConfig struct {
	Hosts             []string // node URLs, http:// or https://
	Index             string   // default index of the repository; not part of the pool identity
	APIKey            string   // secret; exclusive with basic auth
	BasicAuthUser     string   // the seed's basic_auth tuple, first element
	BasicAuthPassword string   // the seed's basic_auth tuple, second element; secret
	VerifyCerts       bool     // verify server certificates (default true)
	CACerts           string   // path of a CA bundle
	ClientCert        string   // path of a client certificate (needs ClientKey)
	ClientKey         string   // path of the client certificate's key
	// SSLShowWarn is the seed's ssl_show_warn: backends may warn when VerifyCerts is off. It
	// does not affect connections and is not part of the identity.
	SSLShowWarn bool
	Connections int // idle connections kept per node (the seed's pool.connections, ES_POOL_CONNECTIONS)
	MaxSize     int // connection limit per node (the seed's pool.maxsize, ES_POOL_MAXSIZE)
	// Shards and Replicas are the number_of_shards and number_of_replicas of an index a
	// repository creates (0: the backend's default, 1 shard and 0 replicas; use 1 replica
	// or more on a cluster). WaitForActiveShards is the wait_for_active_shards of the
	// repositories' writes: how many copies of a shard must be active before a write
	// proceeds, "all" or a number ("": the backend's default, "1"). Options given to the
	// backend override all three. They are settings of the repositories, not of the client:
	// not part of the identity.
	Shards              int
	Replicas            int
	WaitForActiveShards string
}

// MaxElasticsearchShards is the largest Shards a config accepts (Elasticsearch's own limit
// on number_of_shards).
const MaxElasticsearchShards = 1024

// ValidWaitForActiveShards reports whether v is a wait_for_active_shards value repokit sends:
// "all" or a whole number of copies from 1.
func ValidWaitForActiveShards(v string) bool {
	if v == "all" {
		return true
	}
	n, err := strconv.Atoi(v)
	return err == nil && n >= 1 && strconv.Itoa(n) == v
}

// NewElasticsearchPoolConfig returns a config with the seed's defaults.
func NewElasticsearchPoolConfig() ElasticsearchPoolConfig {
	return ElasticsearchPoolConfig{
		Hosts: []string{DefaultElasticsearchHost}, Index: DefaultElasticsearchIndex,
		VerifyCerts: true, SSLShowWarn: true,
		Connections: DefaultElasticsearchConnections, MaxSize: DefaultElasticsearchMaxSize,
	}
}

// Backend returns "elasticsearch".
func (c ElasticsearchPoolConfig) Backend() string { return BackendElasticsearch }

// Key is the identity of the client: hosts, credentials (hashed), TLS settings and pool sizes.
// Index and SSLShowWarn are left out: repositories on different indices share one client.
func (c ElasticsearchPoolConfig) Key() Key {
	return NewKeyBuilder(BackendElasticsearch).Strings("hosts", c.Hosts).
		Secret("api_key", c.APIKey).String("basic_auth_user", c.BasicAuthUser).
		Secret("basic_auth_password", c.BasicAuthPassword).Bool("verify_certs", c.VerifyCerts).
		String("ca_certs", c.CACerts).String("client_cert", c.ClientCert).
		String("client_key", c.ClientKey).Int("connections", int64(c.Connections)).
		Int("maxsize", int64(c.MaxSize)).Key()
}

func (c ElasticsearchPoolConfig) cloneConfig() Config {
	c.Hosts = append([]string(nil), c.Hosts...)
	return c
}

func (c ElasticsearchPoolConfig) urls(password string) []string {
	out := make([]string, len(c.Hosts))
	for i, h := range c.Hosts {
		u, err := url.Parse(h)
		if err != nil || c.BasicAuthUser == "" {
			out[i] = h
			continue
		}
		u.User = url.UserPassword(c.BasicAuthUser, password)
		out[i] = u.String()
	}
	return out
}

// ConnectionString renders the node URLs separated by commas, with the basic-auth user and
// password (URL-escaped) in each URL when set. The API key is not part of it: the backend sends
// it as a header. It contains secrets: do not log it.
func (c ElasticsearchPoolConfig) ConnectionString() string {
	return strings.Join(c.urls(c.BasicAuthPassword), ",")
}

// Redacted describes the config with the password and API key masked.
func (c ElasticsearchPoolConfig) Redacted() string {
	pw := ""
	if c.BasicAuthPassword != "" {
		pw = Mask
	}
	s := strings.Join(c.urls(pw), ",")
	if c.Index != "" {
		s += " index=" + c.Index
	}
	if c.APIKey != "" {
		s += " api_key=" + Mask
	}
	if !c.VerifyCerts {
		s += " verify_certs=false"
	}
	if c.CACerts != "" {
		s += " ca_certs=" + c.CACerts
	}
	if c.ClientCert != "" {
		s += " client_cert=" + c.ClientCert
	}
	if c.Shards != 0 {
		s += fmt.Sprintf(" shards=%d", c.Shards)
	}
	if c.Replicas != 0 {
		s += fmt.Sprintf(" replicas=%d", c.Replicas)
	}
	if c.WaitForActiveShards != "" {
		s += " wait_for_active_shards=" + c.WaitForActiveShards
	}
	return s + fmt.Sprintf(" connections=%d maxsize=%d", c.Connections, c.MaxSize)
}

// String is Redacted.
func (c ElasticsearchPoolConfig) String() string { return c.Redacted() }

// GoString is Redacted, so %#v does not print secrets either.
func (c ElasticsearchPoolConfig) GoString() string {
	return "ElasticsearchPoolConfig(" + c.Redacted() + ")"
}

// LogValue makes slog print the redacted form.
func (c ElasticsearchPoolConfig) LogValue() slog.Value { return slog.StringValue(c.Redacted()) }

// RedactSecrets replaces the API key and the basic-auth password in s.
func (c ElasticsearchPoolConfig) RedactSecrets(s string) string {
	return redactSecrets(s, c.APIKey, c.BasicAuthPassword)
}

// Validate checks every field; errors wrap ErrInvalidConfig and name the setting.
func (c ElasticsearchPoolConfig) Validate() error { return problemsError(c.problems()) }

func (c ElasticsearchPoolConfig) problems() []problem {
	var p []problem
	if len(c.Hosts) == 0 {
		p = append(p, problem{"hosts", "at least one host is required"})
	}
	for i, h := range c.Hosts {
		if msg := checkHTTPURL(h); msg != "" {
			p = append(p, problem{fmt.Sprintf("hosts[%d]", i), msg})
		}
	}
	if c.APIKey != "" && (c.BasicAuthUser != "" || c.BasicAuthPassword != "") {
		p = append(p, problem{"api_key", "cannot be combined with basic_auth"})
	}
	if c.BasicAuthPassword != "" && c.BasicAuthUser == "" {
		p = append(p, problem{"basic_auth", "username is required with a password"})
	}
	if (c.ClientCert == "") != (c.ClientKey == "") {
		p = append(p, problem{"client_key", "client_cert and client_key must be given together"})
	}
	if c.Shards < 0 || c.Shards > MaxElasticsearchShards {
		p = append(p, problem{"shards", fmt.Sprintf("must be between 0 (the default) and %d, got %d", MaxElasticsearchShards, c.Shards)})
	}
	if c.Replicas < 0 {
		p = append(p, problem{"replicas", fmt.Sprintf("must not be negative, got %d", c.Replicas)})
	}
	if c.WaitForActiveShards != "" && !ValidWaitForActiveShards(c.WaitForActiveShards) {
		p = append(p, problem{"wait_for_active_shards", fmt.Sprintf(`expected "all" or a number of copies from 1, got %q`, c.WaitForActiveShards)})
	}
	if c.Connections < 1 {
		p = append(p, problem{"connections", fmt.Sprintf("must be at least 1, got %d", c.Connections)})
	}
	if c.MaxSize < 1 {
		p = append(p, problem{"maxsize", fmt.Sprintf("must be at least 1, got %d", c.MaxSize)})
	} else if c.Connections > c.MaxSize {
		p = append(p, problem{"maxsize", fmt.Sprintf("must not be less than connections (%d), got %d", c.Connections, c.MaxSize)})
	}
	return p
}

// checkHTTPURL returns what is wrong with an Elasticsearch node URL, or "".
func checkHTTPURL(h string) string {
	u, err := url.Parse(h)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("expected an http:// or https:// URL, got %q", h)
	}
	if u.User != nil {
		return "credentials in the URL are not supported (use basic_auth)"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("invalid port %q in %q", p, h)
		}
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Sprintf("expected a URL without path or query, got %q", h)
	}
	return ""
}

// ApplyEnv overrides the pool sizes from ES_POOL_CONNECTIONS and ES_POOL_MAXSIZE found
// through lookup, and validates the result.
func (c *ElasticsearchPoolConfig) ApplyEnv(lookup func(string) (string, bool)) error {
	d := &decoder{}
	r := envReader{lookup: lookup, d: d}
	r.intIn(EnvElasticsearchConnections, 1, math.MaxInt32, &c.Connections)
	r.intIn(EnvElasticsearchMaxSize, 1, math.MaxInt32, &c.MaxSize)
	if err := d.err(); err != nil {
		return err
	}
	return c.Validate()
}

// ElasticsearchPoolConfigFromEnv returns the seed's defaults with ApplyEnv applied.
func ElasticsearchPoolConfigFromEnv(lookup func(string) (string, bool)) (ElasticsearchPoolConfig, error) {
	c := NewElasticsearchPoolConfig()
	err := c.ApplyEnv(lookup)
	return c, err
}

// ElasticsearchPoolConfigFromMap is the seed's from_dict. Nodes come from hosts (a list of
// URLs) or from host and port, never both:
//
//   - host may be a name ("localhost"), a name with port ("localhost:9200", "[::1]:9200") or a
//     URL ("https://es:9243"); the scheme defaults to http and the port to 9200;
//   - port, when given with a host that already names a port, must equal it: host
//     "localhost:9200" with port 9200 gives http://localhost:9200, with port 9300 an error.
//
// Other keys: index, api_key, basic_auth (a mapping with username and password, or a
// two-element list), verify_certs, ca_certs, client_cert, client_key, ssl_show_warn, shards,
// replicas, wait_for_active_shards ("all" or a number, as a string or an integer), and a pool
// mapping with connections and maxsize.
func ElasticsearchPoolConfigFromMap(m map[string]any) (ElasticsearchPoolConfig, error) {
	d := &decoder{}
	c := d.elasticsearch(field{v: d.fromGo(m, "")})
	return c, d.err()
}

var esKeys = []string{"hosts", "host", "port", "index", "api_key", "basic_auth", "verify_certs",
	"ca_certs", "client_cert", "client_key", "ssl_show_warn", "shards", "replicas", "wait_for_active_shards", "pool"}
var esPoolKeys = []string{"connections", "maxsize"}
var esHints = map[string]string{"max_size": "maxsize", "url": "hosts", "urls": "hosts", "nodes": "hosts",
	"number_of_shards": "shards", "number_of_replicas": "replicas"}

func (d *decoder) elasticsearch(section field) ElasticsearchPoolConfig {
	c := NewElasticsearchPoolConfig()
	s := newSeen(section)
	fs, ok := d.entries(section)
	if !ok {
		return c
	}
	var host, port *field
	for _, f := range fs {
		f := f
		if f.v.kind == kNull {
			continue
		}
		if !contains(esKeys, f.key) {
			d.unknown(f, esKeys, esHints)
			continue
		}
		if !s.set(d, f.key, f) {
			continue
		}
		switch f.key {
		case "hosts":
			if hs, ok := d.strList(f); ok {
				c.Hosts = hs
				for i, h := range hs {
					if msg := checkHTTPURL(h); msg != "" {
						d.fail(field{path: fmt.Sprintf("%s[%d]", f.path, i), line: f.v.items[i].line}, "%s", msg)
					}
				}
			}
		case "host":
			host = &f
		case "port":
			port = &f
		case "index":
			c.Index, _ = d.str(f, false)
		case "api_key":
			c.APIKey, _ = d.str(f, true)
		case "basic_auth":
			d.basicAuth(&c, f)
		case "verify_certs":
			c.VerifyCerts, _ = d.boolean(f)
		case "ssl_show_warn":
			c.SSLShowWarn, _ = d.boolean(f)
		case "ca_certs":
			c.CACerts, _ = d.str(f, false)
		case "client_cert":
			c.ClientCert, _ = d.str(f, false)
		case "client_key":
			c.ClientKey, _ = d.str(f, false)
		case "shards":
			c.Shards, _ = d.intIn(f, 0, MaxElasticsearchShards)
		case "replicas":
			c.Replicas, _ = d.intIn(f, 0, math.MaxInt32)
		case "wait_for_active_shards":
			if f.v.kind == kInt {
				c.WaitForActiveShards = strconv.FormatInt(f.v.i, 10)
			} else {
				c.WaitForActiveShards, _ = d.str(f, false)
			}
		case "pool":
			sub, ok := d.entries(f)
			if !ok {
				continue
			}
			for _, pf := range sub {
				if pf.v.kind == kNull {
					continue
				}
				switch pf.key {
				case "connections":
					if s.set(d, "connections", pf) {
						c.Connections, _ = d.intIn(pf, 1, math.MaxInt32)
					}
				case "maxsize":
					if s.set(d, "maxsize", pf) {
						c.MaxSize, _ = d.intIn(pf, 1, math.MaxInt32)
					}
				default:
					d.unknown(pf, esPoolKeys, esHints)
				}
			}
		}
	}
	if host != nil || port != nil {
		if h, ok := s.at["hosts"]; ok {
			other := host
			if other == nil {
				other = port
			}
			d.fail(*other, "cannot be combined with hosts (line %d)", h.line)
		} else if host == nil {
			d.fail(*port, "needs host")
		} else if u, ok := d.hostPort(*host, port); ok {
			c.Hosts = []string{u}
			s.at["hosts"] = *host
		}
	}
	if len(d.errs) == 0 {
		d.report(s, c.problems())
	}
	return c
}

// hostPort applies the host+port rule documented on ElasticsearchPoolConfigFromMap.
func (d *decoder) hostPort(hf field, pf *field) (string, bool) {
	h, ok := d.str(hf, false)
	if !ok {
		return "", false
	}
	scheme, hostname, hostPort := "http", h, ""
	if strings.Contains(h, "://") {
		if msg := checkHTTPURL(h); msg != "" {
			d.fail(hf, "%s", msg)
			return "", false
		}
		u, _ := url.Parse(h)
		scheme, hostname, hostPort = u.Scheme, u.Hostname(), u.Port()
	} else if hn, p, err := net.SplitHostPort(h); err == nil {
		hostname, hostPort = hn, p
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			d.fail(hf, "invalid port %q in %q", p, h)
			return "", false
		}
	} else if strings.Contains(h, ":") && net.ParseIP(h) == nil {
		d.fail(hf, "invalid host %q", h)
		return "", false
	}
	if hostname == "" || strings.ContainsAny(hostname, "/ \t?#@") {
		d.fail(hf, "invalid host %q", h)
		return "", false
	}
	port := strconv.Itoa(DefaultElasticsearchPort)
	if hostPort != "" {
		port = hostPort
	}
	if pf != nil {
		n, ok := d.intIn(*pf, 1, 65535)
		if !ok {
			return "", false
		}
		if hostPort != "" && strconv.Itoa(n) != hostPort {
			d.fail(*pf, "%d conflicts with the port in host %q", n, h)
			return "", false
		}
		port = strconv.Itoa(n)
	}
	return scheme + "://" + net.JoinHostPort(hostname, port), true
}

func (d *decoder) basicAuth(c *ElasticsearchPoolConfig, f field) {
	switch f.v.kind {
	case kSeq:
		if len(f.v.items) != 2 {
			d.fail(f, "expected [username, password], got a list of %d", len(f.v.items))
			return
		}
		c.BasicAuthUser, _ = d.str(field{key: "basic_auth", path: f.path + "[0]", line: f.v.items[0].line, v: f.v.items[0]}, false)
		c.BasicAuthPassword, _ = d.str(field{key: "basic_auth", path: f.path + "[1]", line: f.v.items[1].line, v: f.v.items[1]}, true)
	case kMap:
		sub, _ := d.entries(f)
		for _, sf := range sub {
			switch sf.key {
			case "username":
				c.BasicAuthUser, _ = d.str(sf, false)
			case "password":
				c.BasicAuthPassword, _ = d.str(sf, true)
			default:
				d.unknown(sf, []string{"username", "password"}, map[string]string{"user": "username"})
			}
		}
	default:
		d.fail(f, "expected a mapping with username and password, got %s", describe(f.v, true))
	}
}
