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

// urlKind is what a scheme with parameters accepts: its name in messages, its form, its
// query parameters and aliases, and the parameters refused in a URL (credentials) with why.
type urlKind struct {
	what, form string
	accepted   map[string]param
	refused    map[string]string
}

// fail returns the error for raw, saying msg and the accepted form.
func (k *urlKind) fail(raw, msg string) error {
	return &Error{Target: redactURL(raw), Msg: msg + " (expected " + k.form + ")"}
}

// fromQuery adds the parameters of query to base, the config map the rest of the URL gave,
// and makes the config with the backend's ...FromMap function.
func fromQuery[C pool.Config](k *urlKind, raw, query string, base map[string]any, fromMap func(map[string]any) (C, error)) (pool.Config, error) {
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, k.fail(raw, "invalid query: "+err.Error())
	}
	names := make([]string, 0, len(k.accepted))
	for n := range k.accepted {
		names = append(names, n)
	}
	slices.Sort(names)
	keys := make([]string, 0, len(q))
	for key := range q {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	set := map[string]string{}
	for _, key := range keys {
		if why, ok := k.refused[key]; ok {
			return nil, k.fail(raw, fmt.Sprintf("parameter %s is not accepted in a URL: %s", key, why))
		}
		p, ok := k.accepted[key]
		if !ok {
			return nil, k.fail(raw, fmt.Sprintf("unknown parameter %q (accepted: %s)", key, strings.Join(names, ", ")))
		}
		if prev, ok := set[p.key]; ok || len(q[key]) > 1 {
			if !ok {
				prev = key
			}
			return nil, k.fail(raw, fmt.Sprintf("parameter %s given twice (as %s and %s)", strings.TrimPrefix(p.key, "pool."), prev, key))
		}
		set[p.key] = key
		v := q[key][0]
		var val any = v
		switch p.kind {
		case 'b':
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, k.fail(raw, fmt.Sprintf("parameter %s: expected true or false, got %q", key, v))
			}
			val = b
		case 'i':
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, k.fail(raw, fmt.Sprintf("parameter %s: expected an integer, got %q", key, v))
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
	cfg, err := fromMap(base)
	if err != nil {
		return nil, &Error{Target: redactURL(raw), Msg: "invalid " + k.what + " URL (expected " + k.form + ")", Err: err}
	}
	return cfg, nil
}

// splitQuery splits the part of raw after its scheme into the rest and the query, refusing a
// fragment.
func (k *urlKind) splitQuery(raw string) (rest, query string, err error) {
	_, rest, _ = strings.Cut(raw, "://")
	rest, query, _ = strings.Cut(rest, "?")
	if strings.Contains(query, "#") || strings.Contains(rest, "#") {
		return "", "", k.fail(raw, "a fragment (#...) is not accepted")
	}
	return rest, query, nil
}

// s3Form is the accepted form of an s3:// URL.
const s3Form = "s3://BUCKET[/PREFIX][?endpoint=URL&region=NAME&path_style=true&max_connections=N]"

// s3Credentials is why an s3:// URL carries no credentials.
const s3Credentials = "S3 credentials come from the AWS SDK's default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role) or from aws_access_key_id and aws_secret_access_key in a config file or map, never from a URL, which ends up in logs"

var s3URL = &urlKind{what: "S3", form: s3Form,
	accepted: map[string]param{
		"endpoint": {"endpoint_url", 's'}, "endpoint_url": {"endpoint_url", 's'},
		"region": {"region_name", 's'}, "region_name": {"region_name", 's'},
		"path_style": {"path_style", 'b'}, "max_connections": {"pool.max_connections", 'i'},
	},
	refused: map[string]string{
		"aws_access_key_id": s3Credentials, "aws_secret_access_key": s3Credentials, "aws_session_token": s3Credentials,
		"access_key": s3Credentials, "secret_key": s3Credentials, "session_token": s3Credentials,
	},
}

func parseS3(raw string) (pool.Config, error) {
	rest, query, err := s3URL.splitQuery(raw)
	if err != nil {
		return nil, err
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	switch {
	case strings.Contains(bucket, "@"):
		return nil, s3URL.fail(raw, "user information is not accepted: "+s3Credentials)
	case bucket == "":
		return nil, s3URL.fail(raw, "no bucket")
	case strings.Contains(bucket, ":"):
		return nil, s3URL.fail(raw, "a bucket name has no port; the endpoint goes in ?endpoint=")
	}
	prefix, err = url.PathUnescape(prefix)
	if err != nil {
		return nil, s3URL.fail(raw, "invalid prefix: "+err.Error())
	}
	return fromQuery(s3URL, raw, query, map[string]any{"bucket": bucket, "prefix": strings.Trim(prefix, "/")}, pool.S3PoolConfigFromMap)
}

// esForm is the accepted form of an elasticsearch:// URL.
const esForm = "elasticsearch://[USER:PASSWORD@]HOST[:PORT][,HOST[:PORT]...][?verify_certs=false&ca_certs=PATH&client_cert=PATH&client_key=PATH&connections=N&maxsize=N&shards=N&replicas=N&wait_for_active_shards=N|all], or elasticsearch+https://... for https"

var esURL = &urlKind{what: "Elasticsearch", form: esForm,
	accepted: map[string]param{
		"verify_certs": {"verify_certs", 'b'}, "ca_certs": {"ca_certs", 's'}, "client_cert": {"client_cert", 's'},
		"client_key": {"client_key", 's'}, "connections": {"pool.connections", 'i'}, "maxsize": {"pool.maxsize", 'i'},
		"shards": {"shards", 'i'}, "replicas": {"replicas", 'i'}, "wait_for_active_shards": {"wait_for_active_shards", 's'},
	},
	refused: map[string]string{
		"api_key":  "an API key is a secret: put api_key in a config file or map",
		"password": "give basic-auth credentials as USER:PASSWORD@ before the host",
	},
}

func parseElasticsearch(raw string) (pool.Config, error) {
	httpScheme := "http"
	if strings.HasPrefix(raw, "elasticsearch+https://") {
		httpScheme = "https"
	}
	rest, query, err := esURL.splitQuery(raw)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		user, pass, _ := strings.Cut(rest[:at], ":")
		rest = rest[at+1:]
		if user, err = url.PathUnescape(user); err != nil || user == "" {
			return nil, esURL.fail(raw, "invalid or empty user name before @")
		}
		if pass, err = url.PathUnescape(pass); err != nil {
			return nil, esURL.fail(raw, "invalid password before @")
		}
		m["basic_auth"] = []any{user, pass}
	}
	hosts, path, _ := strings.Cut(rest, "/")
	if path != "" {
		return nil, esURL.fail(raw, "a path is not accepted (the index is the record's; elasticsearch.WithIndex changes it)")
	}
	if hosts == "" {
		return nil, esURL.fail(raw, "no host")
	}
	var urls []any
	for h := range strings.SplitSeq(hosts, ",") {
		switch {
		case h == "":
			return nil, esURL.fail(raw, "empty host in a list")
		case strings.HasPrefix(h, "[") && !strings.Contains(h, "]:"), !strings.HasPrefix(h, "[") && !strings.Contains(h, ":"):
			h += ":" + strconv.Itoa(pool.DefaultElasticsearchPort)
		}
		urls = append(urls, httpScheme+"://"+h)
	}
	m["hosts"] = urls
	return fromQuery(esURL, raw, query, m, pool.ElasticsearchPoolConfigFromMap)
}
