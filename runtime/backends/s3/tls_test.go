package s3_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/internal/testcerts"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// The TLS MinIO's credentials (its root user) and a wrong secret; neither may appear in an
// error.
const (
	tlsAccessKey   = "repokit-tls"
	tlsSecretKey   = "repokit-tls-secret-5e0c2d"
	tlsWrongSecret = "repokit-tls-wrong-91f4aa"
	tlsBucket      = "repokit-tls"
)

// minioBinary returns the MinIO binary the service script built (minio.sh install).
func minioBinary(t *testing.T) string {
	out, err := exec.Command(servicetest.S3Ctl(t), "install").CombinedOutput()
	m := regexp.MustCompile(`binary: (\S+)`).FindSubmatch(out)
	if err != nil || m == nil {
		servicetest.Unavailable(t, "minio.sh install: %v\n%s", err, out)
	}
	return string(m[1])
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startTLSMinIO starts a MinIO of its own serving certFile/keyFile over HTTPS (MinIO reads
// them from --certs-dir as public.crt and private.key) and returns its endpoint. It stops
// when the test ends.
func startTLSMinIO(t *testing.T, bin, certFile, keyFile string) string {
	t.Helper()
	dir := t.TempDir()
	certsDir := filepath.Join(dir, "certs")
	if err := os.MkdirAll(certsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for src, dst := range map[string]string{certFile: "public.crt", keyFile: "private.key"} {
		b, err := os.ReadFile(src)
		if err == nil {
			err = os.WriteFile(filepath.Join(certsDir, dst), b, 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	addr := freeAddr(t)
	cmd := exec.Command(bin, "server", "--quiet", "--address", addr, "--console-address", freeAddr(t),
		"--certs-dir", certsDir, filepath.Join(dir, "data"))
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+tlsAccessKey, "MINIO_ROOT_PASSWORD="+tlsSecretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_SITE_REGION=us-east-1")
	logf, err := os.Create(filepath.Join(dir, "minio.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		servicetest.Unavailable(t, "starting MinIO with TLS: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = logf.Close()
	})
	endpoint := "https://" + addr
	// Readiness only (the certificate is checked by the cases): bounded wait.
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // readiness probe
	defer hc.CloseIdleConnections()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		res, err := hc.Get(endpoint + "/minio/health/ready")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return endpoint
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			servicetest.Unavailable(t, "MinIO with TLS on %s not ready after 30 s: %v\n%s", addr, err, log)
		}
	}
}

// TestTLS: against a MinIO serving TLS with generated certificates, the settings of a pool
// config map (endpoint_url https://..., ca_certs, the keys) reach the SDK: a repository works
// end to end with the generated CA; a wrong CA, the system's CAs alone, an expired server
// certificate and a wrong secret key each fail with pool.ErrInvalidConfig (not after
// retrying until the deadline), and no error shows a secret.
func TestTLS(t *testing.T) {
	certs := testcerts.New(t, t.TempDir(), "repokit-client")
	bin := minioBinary(t)
	valid := startTLSMinIO(t, bin, certs.ServerCertFile, certs.ServerKeyFile)
	expired := startTLSMinIO(t, bin, certs.ExpiredCertFile, certs.ExpiredKeyFile)
	cfgMap := func(endpoint string, extra ...map[string]any) map[string]any {
		return testcerts.Config(map[string]any{"bucket": tlsBucket, "endpoint_url": endpoint, "path_style": true,
			"region_name": "us-east-1", "aws_access_key_id": tlsAccessKey,
			"aws_secret_access_key": tlsSecretKey, "ca_certs": certs.CAFile}, extra...)
	}
	// The bucket, made over TLS with the generated CA.
	{
		cfg, err := pool.S3PoolConfigFromMap(cfgMap(valid, nil))
		if err != nil {
			t.Fatal(err)
		}
		m := pool.New(pool.Options{})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		lease, err := pool.Get(ctx, m, cfg, s3.Hooks())
		if err == nil {
			_, err = lease.Pool().API.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(tlsBucket)})
			lease.Release()
		}
		cancel()
		_ = m.CloseAll(context.Background())
		if err != nil {
			t.Fatalf("creating the bucket over TLS: %v", err)
		}
	}
	cases := []struct {
		name string
		cfg  map[string]any
		ok   bool
	}{
		{"generated CA", cfgMap(valid, nil), true},
		{"generated CA, host name", cfgMap(strings.Replace(valid, "127.0.0.1", "localhost", 1), nil), true},
		{"wrong CA", cfgMap(valid, map[string]any{"ca_certs": certs.WrongCAFile}), false},
		{"system CAs only", cfgMap(valid, map[string]any{"ca_certs": nil}), false},
		{"expired server certificate", cfgMap(expired, nil), false},
		{"wrong secret key", cfgMap(valid, map[string]any{"aws_secret_access_key": tlsWrongSecret}), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, m, cfg := testcerts.Case(t, c.cfg, pool.S3PoolConfigFromMap, pool.Options{}, 30*time.Second)
			d, err := s3.New(ctx, m, cfg, things.OtherSchema, s3.WithPrefix(fmt.Sprintf("tls-%d", time.Now().UnixNano())))
			if err == nil {
				r := repo.New(things.OtherSchema, d)
				defer r.Close()
				var got things.Other
				if got, err = r.Create(ctx, things.Other{Label: "over TLS"}); err == nil {
					_, err = r.Get(ctx, got.ID)
				}
			}
			testcerts.CheckOutcome(t, c.name, c.ok, err, tlsSecretKey, tlsWrongSecret)
		})
	}
}
