package pool

import (
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Defaults of S3PoolConfig. The connection limit follows botocore's max_pool_connections.
const DefaultS3MaxConnections = 10

// EnvS3MaxConnections is read by S3PoolConfig.ApplyEnv (the seed's name).
const EnvS3MaxConnections = "S3_POOL_MAX_CONNECTIONS"

// BackendS3 is the Backend() of S3PoolConfig.
const BackendS3 = "s3"

// S3PoolConfig is the seed's S3PoolConfig: the bucket and prefix a repository uses and the
// region, endpoint and credentials of its S3 client, plus the client's connection limit.
// Printing it shows secrets masked.
type S3PoolConfig struct {
	Bucket             string // required; not part of the pool identity
	Prefix             string // key prefix of the repository; not part of the pool identity
	RegionName         string // e.g. "us-east-1"; "" means the SDK's default resolution
	AWSAccessKeyID     string // "" means the SDK's default credential chain
	AWSSecretAccessKey string // secret; required with AWSAccessKeyID
	AWSSessionToken    string // secret; optional, only with static keys
	EndpointURL        string // e.g. "http://127.0.0.1:9000" for MinIO/LocalStack; "" means AWS
	PathStyle          bool   // path-style addressing (needed by most S3-compatible servers)
	MaxConnections     int    // connection limit of the HTTP client (the seed's pool.max_connections)
	// CACerts is the path of a PEM file of CAs trusted for an https:// endpoint besides the
	// system's (ca_certs, as for Elasticsearch): a MinIO with its own CA. "" means the system's.
	CACerts string
}

// NewS3PoolConfig returns a config for bucket with the seed's defaults.
func NewS3PoolConfig(bucket string) S3PoolConfig {
	return S3PoolConfig{Bucket: bucket, MaxConnections: DefaultS3MaxConnections}
}

// Backend returns "s3".
func (c S3PoolConfig) Backend() string { return BackendS3 }

// Key is the identity of the client: region, endpoint, credentials (secrets hashed), path
// style and connection limit. Bucket and prefix are left out: repositories on different
// buckets or prefixes share one client.
func (c S3PoolConfig) Key() Key {
	return NewKeyBuilder(BackendS3).String("region", c.RegionName).
		String("access_key_id", c.AWSAccessKeyID).Secret("secret_access_key", c.AWSSecretAccessKey).
		Secret("session_token", c.AWSSessionToken).String("endpoint_url", c.EndpointURL).
		Bool("path_style", c.PathStyle).Int("max_connections", int64(c.MaxConnections)).
		String("ca_certs", c.CACerts).Key()
}

func (c S3PoolConfig) cloneConfig() Config { return c }

func (c S3PoolConfig) render(secret, token string) string {
	u := url.URL{Scheme: "s3", Host: c.Bucket, Path: "/" + c.Prefix}
	if c.AWSAccessKeyID != "" {
		u.User = url.UserPassword(c.AWSAccessKeyID, secret)
	}
	q := url.Values{}
	if c.RegionName != "" {
		q.Set("region", c.RegionName)
	}
	if c.EndpointURL != "" {
		q.Set("endpoint", c.EndpointURL)
	}
	if c.PathStyle {
		q.Set("path_style", "true")
	}
	if token != "" {
		q.Set("session_token", token)
	}
	q.Set("max_connections", strconv.Itoa(c.MaxConnections))
	u.RawQuery = q.Encode()
	return u.String()
}

// ConnectionString renders s3://[access_key:secret@]bucket/prefix?region=…&endpoint=…&
// path_style=…&session_token=…&max_connections=…, every part URL-escaped. It contains
// secrets: do not log it.
func (c S3PoolConfig) ConnectionString() string {
	return c.render(c.AWSSecretAccessKey, c.AWSSessionToken)
}

// Redacted is ConnectionString with the secret key and session token masked.
func (c S3PoolConfig) Redacted() string {
	secret, token := "", ""
	if c.AWSSecretAccessKey != "" {
		secret = Mask
	}
	if c.AWSSessionToken != "" {
		token = Mask
	}
	return c.render(secret, token)
}

// String is Redacted.
func (c S3PoolConfig) String() string { return c.Redacted() }

// GoString is Redacted, so %#v does not print secrets either.
func (c S3PoolConfig) GoString() string { return "S3PoolConfig(" + c.Redacted() + ")" }

// LogValue makes slog print the redacted form.
func (c S3PoolConfig) LogValue() slog.Value { return slog.StringValue(c.Redacted()) }

// RedactSecrets replaces the secret access key and the session token in s.
func (c S3PoolConfig) RedactSecrets(s string) string {
	return redactSecrets(s, c.AWSSecretAccessKey, c.AWSSessionToken)
}

// Validate checks every field; errors wrap ErrInvalidConfig and name the setting.
func (c S3PoolConfig) Validate() error { return problemsError(c.problems()) }

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func (c S3PoolConfig) problems() []problem {
	var p []problem
	switch {
	case c.Bucket == "":
		p = append(p, problem{"bucket", "required"})
	case !bucketName.MatchString(c.Bucket) || strings.Contains(c.Bucket, ".."):
		p = append(p, problem{"bucket", fmt.Sprintf("invalid bucket name %q (3-63 characters: lowercase letters, digits, dots, hyphens)", c.Bucket)})
	}
	if strings.HasPrefix(c.Prefix, "/") {
		p = append(p, problem{"prefix", fmt.Sprintf("must not start with /, got %q", c.Prefix)})
	}
	if c.EndpointURL != "" {
		u, err := url.Parse(c.EndpointURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			p = append(p, problem{"endpoint_url", fmt.Sprintf("expected an http:// or https:// URL, got %q", c.EndpointURL)})
		} else if port := u.Port(); port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				p = append(p, problem{"endpoint_url", fmt.Sprintf("invalid port %q in %q", port, c.EndpointURL)})
			}
		}
	}
	if (c.AWSAccessKeyID == "") != (c.AWSSecretAccessKey == "") {
		p = append(p, problem{"aws_secret_access_key", "aws_access_key_id and aws_secret_access_key must be given together"})
	}
	if c.AWSSessionToken != "" && c.AWSAccessKeyID == "" {
		p = append(p, problem{"aws_session_token", "needs aws_access_key_id and aws_secret_access_key"})
	}
	if c.MaxConnections < 1 {
		p = append(p, problem{"max_connections", fmt.Sprintf("must be at least 1, got %d", c.MaxConnections)})
	}
	return p
}

// ApplyEnv overrides the connection limit from S3_POOL_MAX_CONNECTIONS found through lookup,
// and validates the result.
func (c *S3PoolConfig) ApplyEnv(lookup func(string) (string, bool)) error {
	d := &decoder{}
	envReader{lookup: lookup, d: d}.intIn(EnvS3MaxConnections, 1, math.MaxInt32, &c.MaxConnections)
	if err := d.err(); err != nil {
		return err
	}
	return c.Validate()
}

// S3PoolConfigFromEnv returns NewS3PoolConfig(bucket) with ApplyEnv applied.
func S3PoolConfigFromEnv(bucket string, lookup func(string) (string, bool)) (S3PoolConfig, error) {
	c := NewS3PoolConfig(bucket)
	err := c.ApplyEnv(lookup)
	return c, err
}

// S3PoolConfigFromMap is the seed's from_dict. Keys: bucket (required), prefix, region_name
// (or region, as in the seed's AsyncS3Database example), aws_access_key_id,
// aws_secret_access_key, aws_session_token, endpoint_url, path_style, and a pool mapping with
// max_connections.
func S3PoolConfigFromMap(m map[string]any) (S3PoolConfig, error) {
	d := &decoder{}
	c := d.s3(field{v: d.fromGo(m, "")})
	return c, d.err()
}

var s3Keys = []string{"bucket", "prefix", "region_name", "region", "aws_access_key_id",
	"aws_secret_access_key", "aws_session_token", "endpoint_url", "path_style", "ca_certs", "pool"}
var s3Hints = map[string]string{"endpoint": "endpoint_url", "force_path_style": "path_style",
	"access_key": "aws_access_key_id", "secret_key": "aws_secret_access_key"}

func (d *decoder) s3(section field) S3PoolConfig {
	c := NewS3PoolConfig("")
	s := newSeen(section)
	fs, ok := d.entries(section)
	if !ok {
		return c
	}
	for _, f := range fs {
		if f.v.kind == kNull {
			continue
		}
		name := f.key
		if name == "region" {
			name = "region_name"
		}
		if !contains(s3Keys, f.key) {
			d.unknown(f, s3Keys, s3Hints)
			continue
		}
		if f.key != "pool" && !s.set(d, name, f) {
			continue
		}
		switch name {
		case "bucket":
			c.Bucket, _ = d.str(f, false)
		case "prefix":
			c.Prefix, _ = d.str(f, false)
		case "region_name":
			c.RegionName, _ = d.str(f, false)
		case "aws_access_key_id":
			c.AWSAccessKeyID, _ = d.str(f, false)
		case "aws_secret_access_key":
			c.AWSSecretAccessKey, _ = d.str(f, true)
		case "aws_session_token":
			c.AWSSessionToken, _ = d.str(f, true)
		case "endpoint_url":
			c.EndpointURL, _ = d.str(f, false)
		case "path_style":
			c.PathStyle, _ = d.boolean(f)
		case "ca_certs":
			c.CACerts, _ = d.str(f, false)
		case "pool":
			sub, ok := d.entries(f)
			if !ok {
				continue
			}
			for _, pf := range sub {
				if pf.v.kind == kNull {
					continue
				}
				if pf.key != "max_connections" {
					d.unknown(pf, []string{"max_connections"}, nil)
					continue
				}
				if s.set(d, "max_connections", pf) {
					c.MaxConnections, _ = d.intIn(pf, 1, math.MaxInt32)
				}
			}
		}
	}
	if len(d.errs) == 0 {
		d.report(s, c.problems())
	}
	return c
}
