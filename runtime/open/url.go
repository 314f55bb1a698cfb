package open

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/repokit/repokit/runtime/pool"
)

// scheme is one URL scheme: the backend it opens, the form it accepts (for messages) and its
// parser, which gets the URL with its scheme in lower case.
type scheme struct {
	name, backend, form string
	parse               func(raw string) (pool.Config, error)
}

// schemes is the URL mux: one parser per scheme, in the order of the package documentation.
var schemes = []scheme{
	{"mem", Memory, "mem://", nil},
	{"memory", Memory, "memory://", nil},
	{"postgres", Postgres, "postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=...", parsePostgres},
	{"postgresql", Postgres, "postgresql://...", parsePostgres},
	{"s3", S3, s3Form, parseS3},
	{"elasticsearch", Elasticsearch, esForm, parseElasticsearch},
	{"elasticsearch+http", Elasticsearch, "elasticsearch+http://...", parseElasticsearch},
	{"elasticsearch+https", Elasticsearch, "elasticsearch+https://...", parseElasticsearch},
}

// Schemes returns the URL schemes Parse accepts, each with "://".
func Schemes() []string {
	out := make([]string, len(schemes))
	for i, s := range schemes {
		out[i] = s.name + "://"
	}
	return out
}

// Parse returns the Target a URL names (see the package documentation for the schemes and
// their parameters). The URL is not opened: no connection is made until a repository is.
func Parse(rawURL string) (Target, error) {
	i := strings.Index(rawURL, "://")
	if i <= 0 {
		return Target{}, &Error{Target: redactURL(rawURL), Msg: "not a URL (accepted schemes: " + strings.Join(Schemes(), ", ") + ")"}
	}
	name := strings.ToLower(rawURL[:i])
	raw := name + rawURL[i:]
	k := slices.IndexFunc(schemes, func(s scheme) bool { return s.name == name })
	if k < 0 {
		return Target{}, &Error{Target: redactURL(rawURL), Msg: unknownScheme(name)}
	}
	s := schemes[k]
	if s.parse == nil {
		if raw != name+"://" {
			return Target{}, &Error{Target: redactURL(rawURL), Msg: "mem:// takes no host, path or query (every repository opened on it is a new, empty in-memory store)"}
		}
		return Target{Backend: s.backend}, nil
	}
	cfg, err := s.parse(raw)
	if err != nil {
		return Target{}, err
	}
	return Target{Backend: s.backend, Config: cfg}, nil
}

// unknownScheme is the message for a scheme no parser has, with a hint for the usual mix-ups.
func unknownScheme(name string) string {
	msg := fmt.Sprintf("unknown scheme %q (accepted: %s)", name, strings.Join(Schemes(), ", "))
	switch name {
	case "http", "https":
		return msg + "; an Elasticsearch node is elasticsearch://HOST:PORT (http) or elasticsearch+https://HOST:PORT, an S3 endpoint goes in s3://BUCKET?endpoint=" + name + "://HOST:PORT"
	case "es", "elastic", "opensearch":
		return msg + "; did you mean elasticsearch://?"
	case "pg", "pgx", "psql":
		return msg + "; did you mean postgres://?"
	}
	return msg
}

// redactURL returns raw with the password of its user information and the values of
// secret-looking query parameters masked. It masks too much rather than too little: a
// password with an unescaped @ or ? still ends up masked.
func redactURL(raw string) string {
	prefix, rest := "", raw
	if i := strings.Index(raw, "://"); i >= 0 {
		prefix, rest = raw[:i+3], raw[i+3:]
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if c := strings.Index(rest[:at], ":"); c >= 0 {
			rest = rest[:c+1] + pool.Mask + rest[at:]
		}
	}
	q := strings.Index(rest, "?")
	if q < 0 {
		return prefix + rest
	}
	parts := strings.Split(rest[q+1:], "&")
	for i, p := range parts {
		k, _, ok := strings.Cut(p, "=")
		if ok && secretKey(k) {
			parts[i] = k + "=" + pool.Mask
		}
	}
	return prefix + rest[:q+1] + strings.Join(parts, "&")
}

// secretKey reports whether a query parameter's value may be a secret.
func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"pass", "secret", "token", "key", "credential", "auth"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

func parsePostgres(raw string) (pool.Config, error) {
	cfg, err := pool.PostgresPoolConfigFromMap(map[string]any{"connection_string": raw})
	if err != nil {
		return nil, &Error{Target: redactURL(raw), Msg: "invalid PostgreSQL URL (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE?PARAMS)", Err: err}
	}
	return cfg, nil
}

// param is a query parameter a URL scheme accepts: the config key it sets (a "pool." prefix
// puts it in the pool mapping) and how its value is read.
type param struct {
	key  string
	kind byte // 's' string, 'b' boolean, 'i' integer
}

// configMap turns the query of raw into a config map for the backend's ...FromMap function,
// the keys and aliases of accepted; refused maps parameters that are not accepted in a URL
// (credentials) to the reason. base holds what the rest of the URL gave.
func configMap(raw, form string, query string, accepted map[string]param, refused map[string]string, base map[string]any) (map[string]any, error) {
	fail := func(format string, args ...any) error {
		return &Error{Target: redactURL(raw), Msg: fmt.Sprintf(format, args...) + " (expected " + form + ")"}
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fail("invalid query: %v", err)
	}
	names := make([]string, 0, len(accepted))
	for n := range accepted {
		names = append(names, n)
	}
	slices.Sort(names)
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	set := map[string]string{}
	for _, k := range keys {
		if why, ok := refused[k]; ok {
			return nil, fail("parameter %s is not accepted in a URL: %s", k, why)
		}
		p, ok := accepted[k]
		if !ok {
			return nil, fail("unknown parameter %q (accepted: %s)", k, strings.Join(names, ", "))
		}
		if prev, ok := set[p.key]; ok || len(q[k]) > 1 {
			if !ok {
				prev = k
			}
			return nil, fail("parameter %s given twice (as %s and %s)", strings.TrimPrefix(p.key, "pool."), prev, k)
		}
		set[p.key] = k
		v := q[k][0]
		var val any = v
		switch p.kind {
		case 'b':
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fail("parameter %s: expected true or false, got %q", k, v)
			}
			val = b
		case 'i':
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fail("parameter %s: expected an integer, got %q", k, v)
			}
			val = n
		}
		if sub, ok := strings.CutPrefix(p.key, "pool."); ok {
			pm, _ := base["pool"].(map[string]any)
			if pm == nil {
				pm = map[string]any{}
				base["pool"] = pm
			}
			pm[sub] = val
		} else {
			base[p.key] = val
		}
	}
	return base, nil
}

// s3Form is the accepted form of an s3:// URL.
const s3Form = "s3://BUCKET[/PREFIX][?endpoint=URL&region=NAME&path_style=true&max_connections=N]"

var s3Params = map[string]param{
	"endpoint": {"endpoint_url", 's'}, "endpoint_url": {"endpoint_url", 's'},
	"region": {"region_name", 's'}, "region_name": {"region_name", 's'},
	"path_style": {"path_style", 'b'}, "max_connections": {"pool.max_connections", 'i'},
}

// s3Credentials is why an s3:// URL carries no credentials.
const s3Credentials = "S3 credentials come from the AWS SDK's default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role) or from aws_access_key_id and aws_secret_access_key in a config file or map, never from a URL, which ends up in logs"

var s3Refused = map[string]string{
	"aws_access_key_id": s3Credentials, "aws_secret_access_key": s3Credentials, "aws_session_token": s3Credentials,
	"access_key": s3Credentials, "secret_key": s3Credentials, "session_token": s3Credentials,
}

func parseS3(raw string) (pool.Config, error) {
	fail := func(msg string) error {
		return &Error{Target: redactURL(raw), Msg: msg + " (expected " + s3Form + ")"}
	}
	rest := strings.TrimPrefix(raw, "s3://")
	rest, query, _ := strings.Cut(rest, "?")
	if strings.Contains(query, "#") || strings.Contains(rest, "#") {
		return nil, fail("a fragment (#...) is not accepted")
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	switch {
	case strings.Contains(bucket, "@"):
		return nil, fail("user information is not accepted: " + s3Credentials)
	case bucket == "":
		return nil, fail("no bucket")
	case strings.Contains(bucket, ":"):
		return nil, fail("a bucket name has no port; the endpoint goes in ?endpoint=")
	}
	prefix, err := url.PathUnescape(prefix)
	if err != nil {
		return nil, fail("invalid prefix: " + err.Error())
	}
	m, err := configMap(raw, s3Form, query, s3Params, s3Refused, map[string]any{"bucket": bucket, "prefix": strings.Trim(prefix, "/")})
	if err != nil {
		return nil, err
	}
	cfg, err := pool.S3PoolConfigFromMap(m)
	if err != nil {
		return nil, &Error{Target: redactURL(raw), Msg: "invalid S3 URL (expected " + s3Form + ")", Err: err}
	}
	return cfg, nil
}

// esForm is the accepted form of an elasticsearch:// URL.
const esForm = "elasticsearch://[USER:PASSWORD@]HOST[:PORT][,HOST[:PORT]...][?verify_certs=false&ca_certs=PATH&client_cert=PATH&client_key=PATH&connections=N&maxsize=N], or elasticsearch+https://... for https"

var esParams = map[string]param{
	"verify_certs": {"verify_certs", 'b'}, "ca_certs": {"ca_certs", 's'}, "client_cert": {"client_cert", 's'},
	"client_key": {"client_key", 's'}, "connections": {"pool.connections", 'i'}, "maxsize": {"pool.maxsize", 'i'},
}

var esRefused = map[string]string{
	"api_key":  "an API key is a secret: put api_key in a config file or map",
	"password": "give basic-auth credentials as USER:PASSWORD@ before the host",
}

func parseElasticsearch(raw string) (pool.Config, error) {
	fail := func(msg string) error {
		return &Error{Target: redactURL(raw), Msg: msg + " (expected " + esForm + ")"}
	}
	name, rest, _ := strings.Cut(raw, "://")
	httpScheme := "http"
	if name == "elasticsearch+https" {
		httpScheme = "https"
	}
	rest, query, _ := strings.Cut(rest, "?")
	if strings.Contains(query, "#") || strings.Contains(rest, "#") {
		return nil, fail("a fragment (#...) is not accepted")
	}
	m := map[string]any{}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		user, pass, _ := strings.Cut(rest[:at], ":")
		rest = rest[at+1:]
		var err error
		if user, err = url.PathUnescape(user); err != nil || user == "" {
			return nil, fail("invalid or empty user name before @")
		}
		if pass, err = url.PathUnescape(pass); err != nil {
			return nil, fail("invalid password before @")
		}
		m["basic_auth"] = []any{user, pass}
	}
	hosts, path, _ := strings.Cut(rest, "/")
	if path != "" {
		return nil, fail("a path is not accepted (the index is the record's; elasticsearch.WithIndex changes it)")
	}
	if hosts == "" {
		return nil, fail("no host")
	}
	var urls []any
	for h := range strings.SplitSeq(hosts, ",") {
		switch {
		case h == "":
			return nil, fail("empty host in a list")
		case strings.HasPrefix(h, "[") && !strings.Contains(h, "]:"), !strings.HasPrefix(h, "[") && !strings.Contains(h, ":"):
			h += ":" + strconv.Itoa(pool.DefaultElasticsearchPort)
		}
		urls = append(urls, httpScheme+"://"+h)
	}
	m["hosts"] = urls
	m, err := configMap(raw, esForm, query, esParams, esRefused, m)
	if err != nil {
		return nil, err
	}
	cfg, err := pool.ElasticsearchPoolConfigFromMap(m)
	if err != nil {
		return nil, &Error{Target: redactURL(raw), Msg: "invalid Elasticsearch URL (expected " + esForm + ")", Err: err}
	}
	return cfg, nil
}
