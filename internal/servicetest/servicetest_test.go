package servicetest

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/pool"
)

// fakeTB records how a getter ended the test. Like testing.T, Skip and Fatal end the calling
// goroutine, so code after them never runs. Any other method panics (nil embedded TB): the
// getters must use no other.
type fakeTB struct {
	testing.TB
	outcome string // "skip", "fail", or "" when the getter returned
	msg     string
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Skip(args ...any)                  { f.end("skip", fmt.Sprint(args...)) }
func (f *fakeTB) Skipf(format string, args ...any)  { f.end("skip", fmt.Sprintf(format, args...)) }
func (f *fakeTB) Fatal(args ...any)                 { f.end("fail", fmt.Sprint(args...)) }
func (f *fakeTB) Fatalf(format string, args ...any) { f.end("fail", fmt.Sprintf(format, args...)) }
func (f *fakeTB) end(outcome, msg string)           { f.outcome, f.msg = outcome, msg; runtime.Goexit() }
func (f *fakeTB) String() string                    { return f.outcome + ": " + f.msg }

// call runs get with a fakeTB on a goroutine of its own and returns how it ended, and what
// it returned when it did not end the test.
func call[V any](get func(testing.TB) V) (*fakeTB, V) {
	f := &fakeTB{}
	var v V
	done := make(chan struct{})
	go func() {
		defer close(done)
		v = get(f)
	}()
	<-done
	return f, v
}

// every getter, with the variables it needs.
var getters = []struct {
	name  string
	vars  []string
	get   func(testing.TB) string
	start string
}{
	{"PostgresURL", []string{EnvPostgresURL}, PostgresURL, StartCommand},
	{"PostgresCtl", []string{EnvPostgresCtl}, PostgresCtl, StartCommand},
	{"S3Config", []string{EnvS3Endpoint, EnvS3AccessKey, EnvS3SecretKey, EnvS3Bucket, EnvS3Region},
		func(t testing.TB) string { return S3Config(t).EndpointURL }, StartCommand},
	{"S3Ctl", []string{EnvS3Ctl}, S3Ctl, StartCommand},
	{"S3SlowEndpoint", []string{EnvS3SlowEndpoint}, S3SlowEndpoint, "--with-toxiproxy"},
	{"ElasticsearchURL", []string{EnvESURL}, ElasticsearchURL, StartCommand},
	{"ElasticsearchCtl", []string{EnvESCtl}, ElasticsearchCtl, StartCommand},
	{"ToxiproxyURL", []string{EnvToxiproxyURL}, ToxiproxyURL, "--with-toxiproxy"},
	{"PostgresFaultURL", []string{EnvPostgresFaultURL}, PostgresFaultURL, "--with-toxiproxy"},
	{"ElasticsearchFaultURL", []string{EnvESFaultURL, EnvESURL}, ElasticsearchFaultURL, "--with-toxiproxy --with-elasticsearch"},
	{"S3FaultConfig", []string{EnvS3FaultEndpoint, EnvS3Endpoint, EnvS3AccessKey, EnvS3SecretKey, EnvS3Bucket, EnvS3Region},
		func(t testing.TB) string { return S3FaultConfig(t).EndpointURL }, "scripts/services/all.sh start"},
}

func setAll(t *testing.T) {
	for _, g := range getters {
		for _, name := range g.vars {
			t.Setenv(name, "value of "+name)
		}
	}
}

func TestSet(t *testing.T) {
	for _, ci := range []string{"", "true"} {
		setAll(t)
		t.Setenv(EnvCI, ci)
		for _, g := range getters {
			f, v := call(g.get)
			if f.outcome != "" {
				t.Errorf("CI=%q, %s with its variables set: %s", ci, g.name, f)
			} else if !strings.Contains(v, "value of "+g.vars[0]) {
				t.Errorf("CI=%q, %s = %q, want the value of %s", ci, g.name, v, g.vars[0])
			}
		}
	}
}

func TestS3Config(t *testing.T) {
	setAll(t)
	f, cfg := call(S3Config)
	if f.outcome != "" {
		t.Fatal(f)
	}
	want := pool.NewS3PoolConfig("value of " + EnvS3Bucket)
	want.EndpointURL = "value of " + EnvS3Endpoint
	want.AWSAccessKeyID = "value of " + EnvS3AccessKey
	want.AWSSecretAccessKey = "value of " + EnvS3SecretKey
	want.RegionName = "value of " + EnvS3Region
	want.PathStyle = true
	if cfg != want {
		t.Errorf("S3Config = %+v\nwant %+v", cfg, want)
	}
}

// Each missing variable skips the test locally and fails it under CI, with a message naming
// the variable and the command that starts the servers.
func TestMissing(t *testing.T) {
	for _, c := range []struct{ ci, outcome string }{{"", "skip"}, {"true", "fail"}, {"1", "fail"}} {
		for _, g := range getters {
			for _, name := range g.vars {
				setAll(t)
				t.Setenv(EnvCI, c.ci)
				t.Setenv(name, "")
				f, _ := call(g.get)
				if f.outcome != c.outcome {
					t.Errorf("CI=%q, %s without %s: %q, want %s", c.ci, g.name, name, f, c.outcome)
					continue
				}
				for _, want := range []string{name + " is not set", g.start, "docs/services.md"} {
					if !strings.Contains(f.msg, want) {
						t.Errorf("CI=%q, %s without %s: message %q does not say %q", c.ci, g.name, name, f.msg, want)
					}
				}
				if ciSays := strings.Contains(f.msg, "CI must provide it"); ciSays != (c.outcome == "fail") {
					t.Errorf("CI=%q: message %q", c.ci, f.msg)
				}
			}
		}
	}
}

func TestMissingSeveral(t *testing.T) {
	setAll(t)
	t.Setenv(EnvCI, "")
	t.Setenv(EnvS3Bucket, "")
	t.Setenv(EnvS3Region, "")
	f, _ := call(S3Config)
	want := EnvS3Bucket + ", " + EnvS3Region + " are not set (the S3 (MinIO) test server)"
	if f.outcome != "skip" || !strings.Contains(f.msg, want) {
		t.Errorf("S3Config without bucket and region: %s; want a skip saying %q", f, want)
	}
}

func TestUnavailable(t *testing.T) {
	t.Setenv(EnvCI, "")
	f, _ := call(func(t testing.TB) int { Unavailable(t, "node %s is paused", "n1"); return 0 })
	if f.outcome != "skip" || f.msg != "node n1 is paused" {
		t.Errorf("locally: %s", f)
	}
	t.Setenv(EnvCI, "true")
	f, _ = call(func(t testing.TB) int { Unavailable(t, "node %s is paused", "n1"); return 0 })
	if f.outcome != "fail" || f.msg != "node n1 is paused (CI is set: CI must provide it)" {
		t.Errorf("under CI: %s", f)
	}
}

// The same with a real *testing.T, in a child process running TestChild: a skip exits 0
// reporting SKIP, a failure exits 1 reporting FAIL.
func TestRealT(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes; skipped with -short")
	}
	for _, c := range []struct {
		ci, report string
		exit       int
	}{{"", "--- SKIP: TestChild", 0}, {"true", "--- FAIL: TestChild", 1}} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.v")
		cmd.Env = append(os.Environ(), "SERVICETEST_CHILD=1", EnvPostgresURL+"=", EnvCI+"="+c.ci)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != c.exit || !strings.Contains(string(out), c.report) ||
			!strings.Contains(string(out), EnvPostgresURL+" is not set") || strings.Contains(string(out), "after the getter") {
			t.Errorf("CI=%q: exit %d, want %d and %q naming %s:\n%s", c.ci, code, c.exit, c.report, EnvPostgresURL, out)
		}
	}
}

// TestChild is TestRealT's child; it does nothing unless SERVICETEST_CHILD is set.
func TestChild(t *testing.T) {
	if os.Getenv("SERVICETEST_CHILD") == "" {
		return
	}
	PostgresURL(t)
	t.Log("after the getter")
}
