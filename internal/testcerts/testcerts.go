// Package testcerts makes the certificates of the TLS tests at test time, with crypto/x509:
// a CA, server certificates for 127.0.0.1 and localhost (a valid one and an expired one), a
// client certificate, and a second CA that signed none of them. Nothing is committed: every
// key is generated when a test asks for it and written to a directory the test chooses.
package testcerts

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/pool"
)

// Set is one generated set of certificates. The *File fields are paths of PEM files in
// Dir; keys are PKCS#8, mode 0600.
type Set struct {
	Dir string

	CAFile      string // the CA that signed the server and client certificates
	WrongCAFile string // a CA that signed nothing here

	ServerCertFile, ServerKeyFile   string // valid now, for 127.0.0.1, ::1 and localhost
	ExpiredCertFile, ExpiredKeyFile string // same names, expired a day ago
	ClientCertFile, ClientKeyFile   string // client authentication, CommonName ClientName

	// ClientName is the CommonName of the client certificate (PostgreSQL's cert auth maps
	// it to the role of that name).
	ClientName string

	Server, Expired tls.Certificate // the server certificates, for a Go TLS server
	CAPool          *x509.CertPool  // the CA, for a Go server verifying client certificates
}

type issuer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// New generates a Set in dir (created if missing) whose client certificate has CommonName
// clientName. It fails the test on any error.
func New(t testing.TB, dir, clientName string) *Set {
	t.Helper()
	s, err := generate(dir, clientName)
	if err != nil {
		t.Fatalf("testcerts: %v", err)
	}
	return s
}

func generate(dir, clientName string) (*Set, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &Set{Dir: dir, ClientName: clientName}
	now := time.Now()
	ca, err := newCA("repokit test CA", dir, "ca.pem", &s.CAFile)
	if err != nil {
		return nil, err
	}
	if _, err := newCA("repokit wrong CA", dir, "wrong-ca.pem", &s.WrongCAFile); err != nil {
		return nil, err
	}
	server := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	}
	if s.Server, err = ca.issue(server, now.Add(-time.Hour), now.Add(24*time.Hour), dir, "server", &s.ServerCertFile, &s.ServerKeyFile); err != nil {
		return nil, err
	}
	if s.Expired, err = ca.issue(server, now.Add(-48*time.Hour), now.Add(-24*time.Hour), dir, "expired", &s.ExpiredCertFile, &s.ExpiredKeyFile); err != nil {
		return nil, err
	}
	client := &x509.Certificate{
		Subject:     pkix.Name{CommonName: clientName},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	}
	if _, err = ca.issue(client, now.Add(-time.Hour), now.Add(24*time.Hour), dir, "client", &s.ClientCertFile, &s.ClientKeyFile); err != nil {
		return nil, err
	}
	s.CAPool = x509.NewCertPool()
	s.CAPool.AddCert(ca.cert)
	return s, nil
}

var serial atomic.Int64

func nextSerial() *big.Int { return big.NewInt(time.Now().UnixNano() + serial.Add(1)) }

func newCA(name, dir, file string, path *string) (*issuer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	*path = filepath.Join(dir, file)
	return &issuer{cert: cert, key: key}, writePEM(*path, "CERTIFICATE", der, 0o644)
}

// issue signs a copy of tmpl valid from notBefore to notAfter and writes name.pem and
// name-key.pem to dir.
func (ca *issuer) issue(tmpl *x509.Certificate, notBefore, notAfter time.Time, dir, name string, certPath, keyPath *string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	c := *tmpl
	c.SerialNumber, c.NotBefore, c.NotAfter = nextSerial(), notBefore, notAfter
	der, err := x509.CreateCertificate(rand.Reader, &c, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return tls.Certificate{}, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	*certPath, *keyPath = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := writePEM(*certPath, "CERTIFICATE", der, 0o644); err != nil {
		return tls.Certificate{}, err
	}
	if err := writePEM(*keyPath, "PRIVATE KEY", kder, 0o600); err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode)
}

// Config returns a copy of base, a backend's configuration map (the seed's keys, as
// pool.*PoolConfigFromMap read them), with each of extras applied in turn: a key with a nil
// value is removed, any other is set. The TLS tests build one map per case with it.
func Config(base map[string]any, extras ...map[string]any) map[string]any {
	out := make(map[string]any, len(base))
	for k, v := range base {
		out[k] = v
	}
	for _, extra := range extras {
		for k, v := range extra {
			if v == nil {
				delete(out, k)
			} else {
				out[k] = v
			}
		}
	}
	return out
}

// CheckOutcome checks the error of one TLS or authentication case: nil when ok; otherwise
// pool.ErrInvalidConfig (settings that retrying cannot mend) returned before the deadline.
// In either case the error must not show any of secrets.
func CheckOutcome(t testing.TB, name string, ok bool, err error, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		if err != nil && secret != "" && strings.Contains(err.Error(), secret) {
			t.Errorf("error %q shows a secret", err)
		}
	}
	switch {
	case ok && err != nil:
		t.Fatalf("%s: %v, want success", name, err)
	case !ok && (!errors.Is(err, pool.ErrInvalidConfig) || errors.Is(err, context.DeadlineExceeded)):
		t.Fatalf("%s: error %v, want pool.ErrInvalidConfig before the deadline", name, err)
	case !ok:
		t.Logf("%s: %v", name, err)
	}
}

// Case returns what one case of a TLS table opens with: the pool configuration fromMap (a
// pool.*PoolConfigFromMap) parses from raw, failing t on an error; a new pool manager with
// opts, closed when t ends; and a context that ends after timeout, or when t ends.
func Case[C any](t testing.TB, raw map[string]any, fromMap func(map[string]any) (C, error), opts pool.Options, timeout time.Duration) (context.Context, *pool.Manager, C) {
	t.Helper()
	cfg, err := fromMap(raw)
	if err != nil {
		t.Fatal(err)
	}
	m := pool.New(opts)
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx, m, cfg
}
