package faulttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/repokit/repokit/runtime/pool"
)

// Collector gathers every text a test run produced that a user could see (error texts, log
// lines, Stats snapshots) so that Scan can search them for secrets. Safe for concurrent use.
type Collector struct {
	mu    sync.Mutex
	texts []string
	kinds map[string]int
	buf   bytes.Buffer // the slog handler's output
	log   *slog.Logger
}

// NewCollector returns an empty collector.
func NewCollector() *Collector {
	c := &Collector{kinds: map[string]int{}}
	c.log = slog.New(slog.NewTextHandler(lockedWriter{c}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return c
}

type lockedWriter struct{ c *Collector }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	w.c.kinds["log line"] += bytes.Count(p, []byte{'\n'})
	return w.c.buf.Write(p)
}

// Logger returns a logger whose every record (debug level included) is collected; give it to
// the pool manager (pool.Options.Logger).
func (c *Collector) Logger() *slog.Logger { return c.log }

// Add collects one text of the given kind ("error", "stats", ...).
func (c *Collector) Add(kind, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.kinds[kind]++
	c.texts = append(c.texts, kind+": "+text)
}

// Err collects err's text (nil is ignored).
func (c *Collector) Err(err error) {
	if err != nil {
		c.Add("error", err.Error())
	}
}

// Stats collects a snapshot of m's Stats, both as fmt prints it and as JSON (which also
// reaches into the drivers' own statistics).
func (c *Collector) Stats(m *pool.Manager) {
	for _, st := range m.Stats() {
		c.Add("stats", fmt.Sprintf("%+v", st))
		if b, err := json.Marshal(st); err == nil {
			c.Add("stats", string(b))
		}
	}
}

// Counts returns how many texts of each kind were collected ("log line" counts lines).
func (c *Collector) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.kinds))
	for k, n := range c.kinds {
		out[k] = n
	}
	return out
}

// Scan returns one finding per collected text that contains one of the secrets; a finding
// names the secret by its index (never the secret itself) and shows the text with the
// secret masked. Empty secrets are ignored.
func (c *Collector) Scan(secrets []string) []string {
	c.mu.Lock()
	texts := append(append([]string(nil), c.texts...), strings.Split(c.buf.String(), "\n")...)
	c.mu.Unlock()
	var out []string
	for _, text := range texts {
		for i, s := range secrets {
			if s == "" || !strings.Contains(text, s) {
				continue
			}
			masked := text
			for j, s2 := range secrets {
				if s2 != "" {
					masked = strings.ReplaceAll(masked, s2, fmt.Sprintf("<secret #%d>", j))
				}
			}
			out = append(out, fmt.Sprintf("secret #%d in %s", i, masked))
		}
	}
	return out
}
