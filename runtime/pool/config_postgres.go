package pool

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults of PostgresPoolConfig, as in the seed.
const (
	DefaultPostgresHost     = "localhost"
	DefaultPostgresPort     = 5432
	DefaultPostgresDatabase = "postgres"
	DefaultPostgresUser     = "postgres"
	DefaultPostgresMinSize  = 2
	DefaultPostgresMaxSize  = 5
	// DefaultPostgresReplicaMaxLag is the replay lag past which a standby is skipped when
	// PostgresPoolConfig.ReplicaMaxLag is 0.
	DefaultPostgresReplicaMaxLag = 10 * time.Second
)

// Environment variables read by PostgresPoolConfig.ApplyEnv (the seed's names).
const (
	EnvPostgresMinSize = "POSTGRES_POOL_MIN_SIZE"
	EnvPostgresMaxSize = "POSTGRES_POOL_MAX_SIZE"
	EnvPostgresTimeout = "POSTGRES_POOL_TIMEOUT" // seconds, or a Go duration; sets ConnectTimeout
)

// BackendPostgres is the Backend() of PostgresPoolConfig.
const BackendPostgres = "postgres"

// PostgresPoolConfig is the seed's PostgresPoolConfig: where a PostgreSQL pool connects and how
// large it is. Use NewPostgresPoolConfig (or a From function) for the seed's defaults; a zero
// value fails Validate. Printing it (fmt, slog) shows the password masked.
type PostgresPoolConfig struct {
	Host     string // server host name or IP address, without port
	Port     int    // 1..65535
	Database string
	User     string
	Password string // secret: hashed into Key, masked in String/Redacted
	MinSize  int    // connections kept open (pgxpool pool_min_conns), >= 0
	MaxSize  int    // connection limit (pgxpool pool_max_conns), >= 1 and >= MinSize
	// CommandTimeout bounds each statement; applied by the backend, 0 means none (seed:
	// command_timeout, seconds).
	CommandTimeout time.Duration
	// ConnectTimeout bounds establishing a connection (libpq connect_timeout; the seed's
	// pool.timeout and POSTGRES_POOL_TIMEOUT). 0 means the driver's default.
	ConnectTimeout time.Duration
	// SSLMode is the libpq sslmode: disable, allow, prefer, require, verify-ca or verify-full.
	// "" means the driver's default. The seed's ssl: true maps to require, false to disable.
	SSLMode string
	// CACerts, ClientCert and ClientKey are paths of PEM files (the seed's ca_certs,
	// client_cert, client_key; libpq's sslrootcert, sslcert, sslkey): the CA that verifies
	// the server (verify-ca, verify-full) and the client certificate and key for the
	// server's cert authentication, given together. "" means none.
	CACerts, ClientCert, ClientKey string
	MaxConnLifetime                time.Duration // pgxpool pool_max_conn_lifetime; 0 means the driver's default
	MaxConnIdleTime                time.Duration // pgxpool pool_max_conn_idle_time; 0 means the driver's default
	HealthCheckPeriod              time.Duration // pgxpool pool_health_check_period; 0 means the driver's default
	// Replicas names hot standbys of the server at Host:Port, each as "host:port" (an IPv6
	// address in brackets). Every other setting (database, user, password, TLS, pool sizes)
	// is the primary's: each standby gets a pool of its own (see ReplicaConfigs). With
	// replicas, the PostgreSQL backend sends reads outside a transaction to a standby
	// (docs/postgres.md, "Read replicas"). The order counts in Key.
	Replicas []string
	// ReplicaMaxLag is the replay lag past which a standby is skipped (reads go to the
	// primary until it catches up); 0 means DefaultPostgresReplicaMaxLag.
	ReplicaMaxLag time.Duration
}

// NewPostgresPoolConfig returns a config with the seed's defaults.
func NewPostgresPoolConfig() PostgresPoolConfig {
	return PostgresPoolConfig{
		Host: DefaultPostgresHost, Port: DefaultPostgresPort, Database: DefaultPostgresDatabase,
		User: DefaultPostgresUser, MinSize: DefaultPostgresMinSize, MaxSize: DefaultPostgresMaxSize,
	}
}

var postgresSSLModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// Backend returns "postgres".
func (c PostgresPoolConfig) Backend() string { return BackendPostgres }

// Key is the identity of the config: every field counts, the password only through the keyed
// hash.
func (c PostgresPoolConfig) Key() Key {
	return NewKeyBuilder(BackendPostgres).
		String("host", c.Host).Int("port", int64(c.Port)).String("database", c.Database).
		String("user", c.User).Secret("password", c.Password).
		Int("min_size", int64(c.MinSize)).Int("max_size", int64(c.MaxSize)).
		Duration("command_timeout", c.CommandTimeout).Duration("connect_timeout", c.ConnectTimeout).
		String("sslmode", c.SSLMode).String("ca_certs", c.CACerts).String("client_cert", c.ClientCert).
		String("client_key", c.ClientKey).Duration("max_conn_lifetime", c.MaxConnLifetime).
		Duration("max_conn_idle_time", c.MaxConnIdleTime).
		Duration("health_check_period", c.HealthCheckPeriod).
		Strings("replicas", c.Replicas).Duration("replica_max_lag", c.ReplicaMaxLag).Key()
}

// ReplicaConfigs returns one config per standby in Replicas: this config with the standby's
// host and port and no replicas, which is what a standby's pool connects with.
func (c PostgresPoolConfig) ReplicaConfigs() []PostgresPoolConfig {
	out := make([]PostgresPoolConfig, 0, len(c.Replicas))
	for _, r := range c.Replicas {
		rc := c
		rc.Replicas, rc.ReplicaMaxLag = nil, 0
		host, port, err := net.SplitHostPort(r)
		if err == nil {
			rc.Host = host
			rc.Port, _ = strconv.Atoi(port)
		}
		out = append(out, rc)
	}
	return out
}

// MaxLag returns ReplicaMaxLag, or DefaultPostgresReplicaMaxLag when it is 0.
func (c PostgresPoolConfig) MaxLag() time.Duration {
	if c.ReplicaMaxLag > 0 {
		return c.ReplicaMaxLag
	}
	return DefaultPostgresReplicaMaxLag
}

func (c PostgresPoolConfig) cloneConfig() Config { return c }

func (c PostgresPoolConfig) url(password string, withPassword, withReplicas bool) string {
	u := url.URL{
		Scheme: "postgres",
		Host:   net.JoinHostPort(c.Host, strconv.Itoa(c.Port)),
		Path:   "/" + c.Database,
	}
	if withPassword {
		u.User = url.UserPassword(c.User, password)
	} else {
		u.User = url.User(c.User)
	}
	q := url.Values{}
	if c.SSLMode != "" {
		q.Set("sslmode", c.SSLMode)
	}
	for k, v := range map[string]string{"sslrootcert": c.CACerts, "sslcert": c.ClientCert, "sslkey": c.ClientKey} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if c.ConnectTimeout > 0 {
		q.Set("connect_timeout", strconv.FormatInt(int64(math.Ceil(c.ConnectTimeout.Seconds())), 10))
	}
	q.Set("pool_min_conns", strconv.Itoa(c.MinSize))
	q.Set("pool_max_conns", strconv.Itoa(c.MaxSize))
	if c.MaxConnLifetime > 0 {
		q.Set("pool_max_conn_lifetime", c.MaxConnLifetime.String())
	}
	if c.MaxConnIdleTime > 0 {
		q.Set("pool_max_conn_idle_time", c.MaxConnIdleTime.String())
	}
	if c.HealthCheckPeriod > 0 {
		q.Set("pool_health_check_period", c.HealthCheckPeriod.String())
	}
	if withReplicas && len(c.Replicas) > 0 {
		q.Set("replicas", strings.Join(c.Replicas, ","))
	}
	if withReplicas && c.ReplicaMaxLag > 0 {
		q.Set("replica_max_lag", c.ReplicaMaxLag.String())
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// ConnectionString renders a postgres:// URL for pgx/pgxpool (pgxpool.ParseConfig) of the
// primary, the password URL-escaped and the pool sizing as pool_* parameters. It contains the
// password: do not log it. CommandTimeout, Replicas and ReplicaMaxLag are not part of it (the
// backend applies them; pgx would send unknown parameters to the server).
func (c PostgresPoolConfig) ConnectionString() string {
	return c.url(c.Password, c.Password != "", false)
}

// Redacted is ConnectionString with the password replaced by "xxxxx" and the replicas
// settings as the URL parameters replicas and replica_max_lag, as PostgresPoolConfigFromMap
// reads them.
func (c PostgresPoolConfig) Redacted() string { return c.url(Mask, c.Password != "", true) }

// String is Redacted.
func (c PostgresPoolConfig) String() string { return c.Redacted() }

// GoString is Redacted, so %#v does not print the password either.
func (c PostgresPoolConfig) GoString() string { return "PostgresPoolConfig(" + c.Redacted() + ")" }

// LogValue makes slog print the redacted form.
func (c PostgresPoolConfig) LogValue() slog.Value { return slog.StringValue(c.Redacted()) }

// RedactSecrets replaces the password (raw or URL-escaped) in s.
func (c PostgresPoolConfig) RedactSecrets(s string) string { return redactSecrets(s, c.Password) }

// Validate checks every field; errors wrap ErrInvalidConfig and name the setting.
func (c PostgresPoolConfig) Validate() error { return problemsError(c.problems()) }

func (c PostgresPoolConfig) problems() []problem {
	var p []problem
	switch {
	case c.Host == "":
		p = append(p, problem{"host", "required"})
	case strings.ContainsAny(c.Host, "/ \t\n?#@"):
		p = append(p, problem{"host", fmt.Sprintf("invalid host name %q", c.Host)})
	case strings.Contains(c.Host, ":") && net.ParseIP(c.Host) == nil:
		p = append(p, problem{"host", fmt.Sprintf("must not contain a port (use port), got %q", c.Host)})
	}
	if c.Port < 1 || c.Port > 65535 {
		p = append(p, problem{"port", fmt.Sprintf("must be between 1 and 65535, got %d", c.Port)})
	}
	if c.Database == "" {
		p = append(p, problem{"database", "required"})
	}
	if c.User == "" {
		p = append(p, problem{"user", "required"})
	}
	if c.MinSize < 0 {
		p = append(p, problem{"min_size", fmt.Sprintf("must be at least 0, got %d", c.MinSize)})
	}
	if c.MaxSize < 1 {
		p = append(p, problem{"max_size", fmt.Sprintf("must be at least 1, got %d", c.MaxSize)})
	} else if c.MinSize > c.MaxSize {
		p = append(p, problem{"max_size", fmt.Sprintf("must not be less than min_size (%d), got %d", c.MinSize, c.MaxSize)})
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"command_timeout", c.CommandTimeout}, {"timeout", c.ConnectTimeout},
		{"max_conn_lifetime", c.MaxConnLifetime}, {"max_conn_idle_time", c.MaxConnIdleTime},
		{"health_check_period", c.HealthCheckPeriod},
	} {
		if d.v < 0 {
			p = append(p, problem{d.name, fmt.Sprintf("must not be negative, got %s", d.v)})
		}
	}
	if c.SSLMode != "" && !contains(postgresSSLModes, c.SSLMode) {
		p = append(p, problem{"ssl", fmt.Sprintf("unknown sslmode %q (want one of %s)", c.SSLMode, strings.Join(postgresSSLModes, ", "))})
	}
	if (c.ClientCert == "") != (c.ClientKey == "") {
		p = append(p, problem{"client_key", "client_cert and client_key must be given together"})
	}
	if c.ReplicaMaxLag < 0 {
		p = append(p, problem{"replica_max_lag", fmt.Sprintf("must not be negative, got %s", c.ReplicaMaxLag)})
	}
	primary := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	for i, r := range c.Replicas {
		if msg := replicaProblem(r, primary, c.Replicas[:i]); msg != "" {
			p = append(p, problem{"replicas", msg})
		}
	}
	return p
}

// replicaProblem checks one "host:port" of Replicas; earlier are the ones before it.
func replicaProblem(r, primary string, earlier []string) string {
	host, port, err := net.SplitHostPort(r)
	if err != nil || host == "" || strings.ContainsAny(host, "/ \t\n?#@,") {
		return fmt.Sprintf("expected host:port, got %q", r)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("invalid port in %q (want 1..65535)", r)
	}
	if r == primary {
		return fmt.Sprintf("%q is the primary itself", r)
	}
	if contains(earlier, r) {
		return fmt.Sprintf("%q is listed twice", r)
	}
	return ""
}

// ApplyEnv overrides the pool settings from the seed's environment variables
// (POSTGRES_POOL_MIN_SIZE, POSTGRES_POOL_MAX_SIZE, POSTGRES_POOL_TIMEOUT) found through lookup
// (os.LookupEnv in production) and validates the result. A set but malformed variable is an
// error naming it.
func (c *PostgresPoolConfig) ApplyEnv(lookup func(string) (string, bool)) error {
	d := &decoder{}
	r := envReader{lookup: lookup, d: d}
	r.intIn(EnvPostgresMinSize, 0, math.MaxInt32, &c.MinSize)
	r.intIn(EnvPostgresMaxSize, 1, math.MaxInt32, &c.MaxSize)
	r.duration(EnvPostgresTimeout, &c.ConnectTimeout)
	if err := d.err(); err != nil {
		return err
	}
	return c.Validate()
}

// PostgresPoolConfigFromEnv returns the seed's defaults with ApplyEnv applied.
func PostgresPoolConfigFromEnv(lookup func(string) (string, bool)) (PostgresPoolConfig, error) {
	c := NewPostgresPoolConfig()
	err := c.ApplyEnv(lookup)
	return c, err
}

// PostgresPoolConfigFromMap is the seed's from_dict: either connection_string (a postgres:// or
// postgresql:// URL) or the fields host, port, database, user, password, min_size, max_size,
// command_timeout, ssl, plus an optional pool mapping (min_size, max_size, timeout,
// max_conn_lifetime, max_conn_idle_time, health_check_period), and replicas (a list of
// "host:port", or one comma-separated string) with replica_max_lag, which may also come from
// the URL's replicas and replica_max_lag parameters. Unset fields keep the seed's defaults;
// unknown keys, wrong types and invalid values are errors (see ConfigError).
func PostgresPoolConfigFromMap(m map[string]any) (PostgresPoolConfig, error) {
	d := &decoder{}
	root := field{v: d.fromGo(m, "")}
	c := d.postgres(root)
	return c, d.err()
}

var postgresKeys = []string{"connection_string", "host", "port", "database", "user", "password",
	"min_size", "max_size", "command_timeout", "ssl", "ca_certs", "client_cert", "client_key", "pool",
	"replicas", "replica_max_lag"}
var postgresPoolKeys = []string{"min_size", "max_size", "timeout", "max_conn_lifetime",
	"max_conn_idle_time", "health_check_period"}
var postgresHints = map[string]string{
	"min_connections": "min_size", "max_connections": "max_size", "dsn": "connection_string",
	"sslmode": "ssl", "username": "user", "dbname": "database",
	"replica": "replicas", "read_replicas": "replicas", "standbys": "replicas",
}

func (d *decoder) postgres(section field) PostgresPoolConfig {
	c := NewPostgresPoolConfig()
	s := newSeen(section)
	fs, ok := d.entries(section)
	if !ok {
		return c
	}
	var conn *field
	for _, f := range fs {
		if f.v.kind == kNull {
			continue // null keeps the default
		}
		switch f.key {
		case "connection_string":
			f := f
			conn = &f
		case "host", "port", "database", "user", "password", "min_size", "max_size", "command_timeout", "ssl",
			"ca_certs", "client_cert", "client_key", "replicas", "replica_max_lag":
			if s.set(d, f.key, f) {
				d.postgresField(&c, f.key, f)
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
				case "min_size", "max_size", "timeout", "max_conn_lifetime", "max_conn_idle_time", "health_check_period":
					if s.set(d, pf.key, pf) {
						d.postgresField(&c, pf.key, pf)
					}
				default:
					d.unknown(pf, postgresPoolKeys, postgresHints)
				}
			}
		default:
			d.unknown(f, postgresKeys, postgresHints)
		}
	}
	if conn != nil {
		for _, k := range []string{"host", "port", "database", "user", "password"} {
			if f, ok := s.at[k]; ok {
				d.fail(f, "cannot be combined with connection_string")
			}
		}
		d.postgresURL(&c, s, *conn)
	}
	if len(d.errs) == 0 {
		d.report(s, c.problems())
	}
	return c
}

func (d *decoder) postgresField(c *PostgresPoolConfig, name string, f field) {
	switch name {
	case "host":
		c.Host, _ = d.str(f, false)
	case "port":
		c.Port, _ = d.intIn(f, 1, 65535)
	case "database":
		c.Database, _ = d.str(f, false)
	case "user":
		c.User, _ = d.str(f, false)
	case "password":
		c.Password, _ = d.str(f, true)
	case "min_size":
		c.MinSize, _ = d.intIn(f, 0, math.MaxInt32)
	case "max_size":
		c.MaxSize, _ = d.intIn(f, 1, math.MaxInt32)
	case "command_timeout":
		c.CommandTimeout, _ = d.duration(f)
	case "timeout":
		c.ConnectTimeout, _ = d.duration(f)
	case "max_conn_lifetime":
		c.MaxConnLifetime, _ = d.duration(f)
	case "max_conn_idle_time":
		c.MaxConnIdleTime, _ = d.duration(f)
	case "health_check_period":
		c.HealthCheckPeriod, _ = d.duration(f)
	case "replica_max_lag":
		c.ReplicaMaxLag, _ = d.duration(f)
	case "replicas":
		if f.v.kind == kStr {
			c.Replicas = splitList(f.v.s)
		} else {
			c.Replicas, _ = d.strList(f)
		}
	case "ca_certs":
		c.CACerts, _ = d.str(f, false)
	case "client_cert":
		c.ClientCert, _ = d.str(f, false)
	case "client_key":
		c.ClientKey, _ = d.str(f, false)
	case "ssl":
		switch f.v.kind {
		case kBool:
			c.SSLMode = "disable"
			if f.v.b {
				c.SSLMode = "require"
			}
		case kStr:
			c.SSLMode = f.v.s
		default:
			d.fail(f, "expected a boolean or an sslmode string, got %s", describe(f.v, false))
		}
	}
}

// postgresURL reads a connection string. Error messages never quote the URL: it may hold a
// password.
func (d *decoder) postgresURL(c *PostgresPoolConfig, s *seen, f field) {
	raw, ok := d.str(f, true)
	if !ok {
		return
	}
	if !strings.HasPrefix(raw, "postgres://") && !strings.HasPrefix(raw, "postgresql://") {
		d.fail(f, "expected a postgres:// or postgresql:// URL")
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		// The error may quote part of the password (an unescaped / or ? cuts it short):
		// report the error of the URL with its password masked instead.
		if pw := urlPassword(raw); pw != "" {
			if _, err = url.Parse(strings.Replace(raw, ":"+pw+"@", ":"+Mask+"@", 1)); err == nil {
				err = errors.New("the password holds characters that must be escaped (e.g. / as %2F, ? as %3F, @ as %40)")
			}
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		d.fail(f, "invalid URL: %s", redactSecrets(err.Error(), urlPassword(raw)))
		return
	}
	if strings.Contains(u.Host, ",") {
		d.fail(f, "multiple hosts are not supported")
		return
	}
	if u.Hostname() != "" {
		c.Host = u.Hostname()
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			d.fail(f, "invalid port %q in URL", p)
			return
		}
		c.Port = n
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		c.Database = db
	}
	if u.User != nil {
		if name := u.User.Username(); name != "" {
			c.User = name
		}
		if pw, ok := u.User.Password(); ok {
			c.Password = pw
		}
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		d.fail(f, "invalid URL query: %s", err)
		return
	}
	params := map[string]string{
		"sslmode": "ssl", "sslrootcert": "ca_certs", "sslcert": "client_cert", "sslkey": "client_key",
		"connect_timeout": "timeout", "pool_min_conns": "min_size",
		"pool_max_conns": "max_size", "pool_max_conn_lifetime": "max_conn_lifetime",
		"pool_max_conn_idle_time": "max_conn_idle_time", "pool_health_check_period": "health_check_period",
		"replicas": "replicas", "replica_max_lag": "replica_max_lag",
	}
	for _, k := range sortedKeys(q) {
		name, ok := params[k]
		if !ok {
			d.fail(f, "unsupported URL parameter %q (accepted: %s)", k, strings.Join(sortedKeys(params), ", "))
			continue
		}
		vals := q[k]
		pf := field{key: name, path: f.path, line: f.line, v: &node{kind: kStr, s: vals[len(vals)-1]}}
		if !s.set(d, name, pf) {
			continue
		}
		pf.path = f.path + " (" + k + ")"
		switch name {
		case "ssl", "ca_certs", "client_cert", "client_key", "replicas":
			d.postgresField(c, name, pf)
		case "timeout", "max_conn_lifetime", "max_conn_idle_time", "health_check_period", "replica_max_lag":
			if secs, err := strconv.ParseFloat(pf.v.s, 64); err == nil {
				pf.v = &node{kind: kFloat, f: secs}
			}
			d.postgresField(c, name, pf)
		default:
			n, err := strconv.ParseInt(pf.v.s, 10, 64)
			if err != nil {
				d.fail(pf, "expected an integer, got %s", describe(pf.v, false))
				continue
			}
			pf.v = &node{kind: kInt, i: n}
			d.postgresField(c, name, pf)
		}
		s.at[name] = pf
	}
	s.at["host"], s.at["port"], s.at["database"], s.at["user"] = f, f, f, f
}

// splitList splits a comma-separated list, trimming spaces and dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, it := range strings.Split(s, ",") {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

func urlPassword(raw string) string {
	at := strings.LastIndex(raw, "@")
	start := strings.Index(raw, "://")
	if at < 0 || start < 0 || at < start {
		return ""
	}
	ui := raw[start+3 : at]
	if i := strings.Index(ui, ":"); i >= 0 {
		return ui[i+1:]
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}
