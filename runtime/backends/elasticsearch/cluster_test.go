package elasticsearch_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// envESURLs lists every node of the test cluster, comma-separated (elasticsearch.sh env).
const envESURLs = "REPOKIT_ES_URLS"

// Timing of the cluster test: each call's deadline and how much later it may return; how
// long the writers run, when the node is killed and when it is started again.
const (
	clusterCallTimeout = 5 * time.Second
	clusterSlack       = time.Second
	clusterWriteFor    = 20 * time.Second
	clusterKillAt      = 3 * time.Second
	clusterResumeAt    = 6 * time.Second
	clusterBase        = 60 // records written before the kill, read back by every Find
)

// TestCluster runs the backend on a cluster of three nodes (elasticsearch.sh start --nodes 3)
// while one node is killed (SIGKILL) and later started again. With 3 shards and 1 replica,
// writers stream CreateBatch and conditional Update calls through the loss (once losing a
// node that is not the elected master, once the master): afterwards every acknowledged
// write is read back, no create of a fresh id answered already-exists and no update with
// the last acknowledged version version-conflict (a write Elasticsearch resent after it
// was stored is recognized by its token), no call returned later than its deadline (plus a
// slack), and every read made meanwhile returned either the complete answer or an error
// (ErrUnavailable, or its own deadline), never fewer records. With 0 replicas, once a node holding a shard is
// gone, Find and Count fail with ErrUnavailable instead of returning fewer records.
//
// It needs REPOKIT_ES_URLS with at least three nodes and REPOKIT_ES_CTL; with fewer nodes it
// skips, under CI too: scripts/test.sh starts the cluster and runs it in its own step.
func TestCluster(t *testing.T) {
	urls := strings.Split(os.Getenv(envESURLs), ",")
	if os.Getenv(envESURLs) == "" || len(urls) < 3 {
		t.Skipf("%s lists %d node(s): the cluster test needs 3 (scripts/services/elasticsearch.sh start --nodes 3; scripts/test.sh runs it)", envESURLs, len(urls))
	}
	script := servicetest.ElasticsearchCtl(t)
	c := &cluster{t: t, urls: urls, script: script}
	t.Cleanup(c.resumeAll) // never leave a node down
	t.Run("kill-node", func(t *testing.T) { c.writeThroughLoss(t, false) })
	t.Run("kill-master", func(t *testing.T) { c.writeThroughLoss(t, true) })
	t.Run("no-replicas", c.noReplicas)
}

// cluster is the test cluster: its node URLs (node N at urls[N-1]) and control script.
type cluster struct {
	t      *testing.T
	urls   []string
	script string
}

// config is a pool config listing every node.
func (c *cluster) config() pool.ElasticsearchPoolConfig {
	cfg := pool.NewElasticsearchPoolConfig()
	cfg.Hosts = c.urls
	return cfg
}

// get sends GET path to the first node that answers and returns the body.
func (c *cluster) get(t *testing.T, path string) string {
	t.Helper()
	var last error
	for _, u := range c.urls {
		cl := http.Client{Timeout: 3 * time.Minute}
		res, err := cl.Get(u + path)
		if err != nil {
			last = err
			continue
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil && res.StatusCode == http.StatusOK {
			return string(b)
		}
		last = fmt.Errorf("%s%s: %s %s %v", u, path, res.Status, b, err)
	}
	t.Fatalf("no node answered GET %s: %v", path, last)
	return ""
}

// waitGreen waits until every node is in the cluster and every shard copy is assigned.
func (c *cluster) waitGreen(t *testing.T) time.Duration {
	t.Helper()
	start := time.Now()
	body := c.get(t, fmt.Sprintf("/_cluster/health?wait_for_status=green&wait_for_nodes=%d&wait_for_no_initializing_shards=true&timeout=150s", len(c.urls)))
	var h struct {
		Status   string `json:"status"`
		TimedOut bool   `json:"timed_out"`
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil || h.TimedOut || h.Status != "green" {
		t.Fatalf("cluster not green: %s", body)
	}
	return time.Since(start)
}

// master returns the number of the elected master node (node names are repokit-es-N).
func (c *cluster) master(t *testing.T) int {
	t.Helper()
	return nodeNumber(t, strings.TrimSpace(c.get(t, "/_cat/master?h=node")))
}

func nodeNumber(t *testing.T, name string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimPrefix(name, "repokit-es-"))
	if err != nil || !strings.HasPrefix(name, "repokit-es-") {
		t.Fatalf("unexpected node name %q", name)
	}
	return n
}

// run runs the control script with args and fails the test if it fails.
func (c *cluster) run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(c.script, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", c.script, args, err, out)
	}
}

// resumeAll starts every paused node again (status fails while one is down).
func (c *cluster) resumeAll() {
	if exec.Command(c.script, "status").Run() != nil {
		if out, err := exec.Command(c.script, "resume").CombinedOutput(); err != nil {
			c.t.Logf("resuming the cluster: %v\n%s", err, out)
		}
	}
}

// open opens a repository of things.Thing on a fresh index over every node.
func (c *cluster) open(t *testing.T, name string, shards, replicas int) (repo.Repository[things.Thing], string) {
	t.Helper()
	m := pool.New(pool.Options{})
	t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
	cfg := c.config()
	index := uniqueIndex(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := things.NewThingElasticsearchRepository(ctx, m, cfg, elasticsearch.WithIndex(index),
		elasticsearch.WithIndexSettings(shards, replicas))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(); deleteIndex(t, m, cfg, index) })
	return r, index
}

// base creates the records every Find of the test reads back.
func base(t *testing.T, r repo.Repository[things.Thing]) {
	t.Helper()
	recs := make([]things.Thing, clusterBase)
	for i := range recs {
		recs[i] = things.Thing{ID: fmt.Sprintf("base-%03d", i), Name: "base", Created: time.Now()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := r.CreateBatch(ctx, recs)
	for i := range res {
		err = errors.Join(err, res[i].Err)
	}
	if err != nil {
		t.Fatalf("creating the base records: %v", err)
	}
}

// calls books every call's duration: those that returned later than their deadline plus the
// slack, and the longest.
type calls struct {
	mu      sync.Mutex
	late    []string
	longest time.Duration
}

// timed runs fn under a fresh clusterCallTimeout deadline and books it.
func (cs *calls) timed(what string, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), clusterCallTimeout)
	defer cancel()
	start := time.Now()
	err := fn(ctx)
	took := time.Since(start)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.longest = max(cs.longest, took)
	if took > clusterCallTimeout+clusterSlack {
		cs.late = append(cs.late, fmt.Sprintf("%s took %v: %v", what, took.Round(time.Millisecond), err))
	}
	return err
}
