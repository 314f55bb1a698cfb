package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/internal/testcerts"
	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/pool"
)

// certRole is the role of the client-certificate case: pg_hba.conf lets it in over TLS with
// a certificate whose CommonName is its name, and no other way.
const certRole = "repokit_tls_cert"

// tlsServer turns TLS on in the test server for the test's duration (ALTER SYSTEM and a
// reload: no restart, the other tests' connections with sslmode=disable are not touched)
// with certificates generated into the server's data directory, and lets certRole in by
// certificate. Everything is undone when the test ends. It returns the certificates and a
// function that switches the server certificate (the valid or the expired one).
func tlsServer(t *testing.T) (*testcerts.Set, func(expired bool)) {
	t.Helper()
	adminURL := os.Getenv("REPOKIT_POSTGRES_ADMIN_URL")
	if adminURL == "" {
		servicetest.Unavailable(t, "REPOKIT_POSTGRES_ADMIN_URL is not set (start the servers with scripts/services/all.sh start)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		servicetest.Unavailable(t, "PostgreSQL admin connection: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close(context.Background()) })
	var dataDir, hbaFile string
	if err := admin.QueryRow(ctx, "SELECT current_setting('data_directory'), current_setting('hba_file')").Scan(&dataDir, &hbaFile); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(dataDir, fmt.Sprintf("repokit-tls-%d", os.Getpid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		servicetest.Unavailable(t, "the TLS test writes its certificates into the server's data directory: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	certs := testcerts.New(t, dir, certRole)
	chownToServer(t, dir)
	hba, err := os.ReadFile(hbaFile)
	if err != nil {
		servicetest.Unavailable(t, "reading pg_hba.conf: %v", err)
	}
	exec := func(ctx context.Context, sql string) {
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = os.WriteFile(hbaFile, hba, 0o600)
		for _, s := range []string{"ssl", "ssl_cert_file", "ssl_key_file", "ssl_ca_file"} {
			exec(ctx, "ALTER SYSTEM RESET "+s)
		}
		exec(ctx, "SELECT pg_reload_conf()")
		exec(ctx, "DROP ROLE IF EXISTS "+certRole)
	})
	exec(ctx, "DROP ROLE IF EXISTS "+certRole)
	exec(ctx, "CREATE ROLE "+certRole+" LOGIN")
	line := fmt.Sprintf("hostssl all %s 127.0.0.1/32 cert\nhost all %s 127.0.0.1/32 reject\n", certRole, certRole)
	if err := os.WriteFile(hbaFile, append([]byte(line), hba...), 0o600); err != nil {
		t.Fatal(err)
	}
	chownToServer(t, hbaFile)
	exec(ctx, fmt.Sprintf("ALTER SYSTEM SET ssl_ca_file = '%s'", certs.CAFile))
	setCert := func(expired bool) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cert, key := certs.ServerCertFile, certs.ServerKeyFile
		if expired {
			cert, key = certs.ExpiredCertFile, certs.ExpiredKeyFile
		}
		exec(ctx, fmt.Sprintf("ALTER SYSTEM SET ssl_cert_file = '%s'", cert))
		exec(ctx, fmt.Sprintf("ALTER SYSTEM SET ssl_key_file = '%s'", key))
		exec(ctx, "ALTER SYSTEM SET ssl = on")
		exec(ctx, "SELECT pg_reload_conf()")
		// The reload is asynchronous: wait (bounded) until a new connection sees the
		// certificate asked for.
		probe := tlsURL(t, "verify-full", certs.CAFile)
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			c, err := pgx.Connect(ctx, probe)
			if err == nil {
				_ = c.Close(ctx)
			}
			if (err == nil) != expired || time.Now().After(deadline) {
				if (err == nil) == expired {
					t.Fatalf("the server did not switch to the %s certificate (see its log): %v", map[bool]string{true: "expired", false: "valid"}[expired], err)
				}
				return
			}
		}
	}
	setCert(false)
	return certs, setCert
}

// chownToServer gives path (and what it holds) to the server's user when the test runs as
// root, as PostgreSQL reads its key files only when it can and they are not group-readable.
func chownToServer(t *testing.T, path string) {
	if os.Geteuid() != 0 {
		return
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("user postgres: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	err = filepath.Walk(path, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// tlsURL is the test server's URL with sslmode and the CA file as URL parameters.
func tlsURL(t *testing.T, mode, ca string) string {
	u, err := url.Parse(servicetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("sslmode", mode)
	if ca != "" {
		q.Set("sslrootcert", ca)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// TestTLS: with the server on TLS, the seed's settings in a pool config map (ssl: an
// sslmode, ca_certs, client_cert, client_key) reach pgx: verify-full against the generated
// CA works end to end through a repository, by IP and by host name, and a client
// certificate logs its role in; a wrong CA, an expired server certificate, a wrong password
// and a missing client certificate each fail at once (not after the retries of a transient
// error) with pool.ErrInvalidConfig and without the password in the message.
func TestTLS(t *testing.T) {
	certs, setCert := tlsServer(t)
	base := testConfig(t)
	const wrongPassword = "wrong-pw-7f3a9c"
	cfgMap := func(extra map[string]any) map[string]any {
		return testcerts.Config(map[string]any{"host": base.Host, "port": base.Port, "database": base.Database,
			"user": base.User, "password": base.Password, "ssl": "verify-full", "ca_certs": certs.CAFile,
			"pool": map[string]any{"min_size": 0, "max_size": 2, "timeout": 10}}, extra)
	}
	ok := []struct {
		name string
		cfg  map[string]any
		user string
	}{
		{"verify-full by IP", cfgMap(nil), base.User},
		{"verify-full by host name", cfgMap(map[string]any{"host": "localhost"}), base.User},
		{"verify-ca", cfgMap(map[string]any{"ssl": "verify-ca"}), base.User},
		{"client certificate", cfgMap(map[string]any{"user": certRole, "password": nil,
			"client_cert": certs.ClientCertFile, "client_key": certs.ClientKeyFile}), certRole},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			ctx, m, cfg := testcerts.Case(t, c.cfg, pool.PostgresPoolConfigFromMap, pool.Options{KeepIdle: true}, time.Minute)
			lease, err := pool.Get(ctx, m, cfg, postgres.Hooks())
			if err != nil {
				t.Fatalf("pool.Get: %v", err)
			}
			defer lease.Release()
			var ssl bool
			var who string
			err = lease.Pool().QueryRow(ctx, "SELECT ssl, current_user FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl, &who)
			if err != nil || !ssl || who != c.user {
				t.Fatalf("connection: ssl=%v user=%q err=%v; want TLS as %s", ssl, who, err, c.user)
			}
			if c.user != base.User {
				return
			}
			// A repository on the TLS pool, end to end.
			r, err := drivertest.On(harness{m: m, cfg: cfg}).MakeThings(ctx, t)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got, err := r.Create(ctx, things.Thing{ID: "tls-1", Name: "over TLS"})
			if err == nil {
				_, err = r.Get(ctx, got.ID)
			}
			if err != nil {
				t.Fatalf("repository over TLS: %v", err)
			}
		})
	}

	bad := []struct {
		name    string
		cfg     map[string]any
		expired bool
		secret  string
	}{
		{"wrong CA", cfgMap(map[string]any{"ca_certs": certs.WrongCAFile}), false, base.Password},
		{"wrong password", cfgMap(map[string]any{"password": wrongPassword}), false, wrongPassword},
		{"no client certificate", cfgMap(map[string]any{"user": certRole, "password": wrongPassword}), false, wrongPassword},
		{"expired server certificate", cfgMap(nil), true, base.Password},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			if c.expired {
				setCert(true)
				defer setCert(false)
			}
			ctx, m, cfg := testcerts.Case(t, c.cfg, pool.PostgresPoolConfigFromMap, pool.Options{}, 30*time.Second)
			_, err := postgres.New(ctx, m, cfg, things.ThingSchema, postgres.WithTable("t_tls_never_created"))
			testcerts.CheckOutcome(t, c.name, false, err, c.secret)
		})
	}
}
