package open

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/repokit/repokit/runtime/pool"
)

// The backend names, as repokit generate's -backends flag spells them.
const (
	Memory        = "memory"
	Postgres      = pool.BackendPostgres
	S3            = pool.BackendS3
	Elasticsearch = pool.BackendElasticsearch
)

// Backends lists every backend name a Target can have, in the order of repokit generate's
// -backends help.
var Backends = []string{Memory, Postgres, Elasticsearch, S3}

// ErrNotGenerated is wrapped by the error of a generated opener given a target on a backend
// its package was not generated with (see NotGenerated).
var ErrNotGenerated = errors.New("backend not generated")

// Target is where repositories are opened: a backend and its pool configuration.
type Target struct {
	// Backend is one of Backends.
	Backend string
	// Config is the backend's pool configuration (a pool.PostgresPoolConfig,
	// pool.S3PoolConfig or pool.ElasticsearchPoolConfig, or a *pool.Prepared of one); nil
	// for the memory backend.
	Config pool.Config
}

// FromPoolConfig returns the Target of an existing pool configuration: its backend and cfg.
func FromPoolConfig(cfg pool.Config) Target {
	return Target{Backend: cfg.Backend(), Config: cfg}
}

// CheckManager returns an error when m is nil and t's backend needs a manager to get its
// connections from (every backend but memory); generated openers call it first.
func (t Target) CheckManager(m *pool.Manager) error {
	if m != nil || t.Backend == Memory || t.Backend == "" {
		return nil
	}
	return &Error{Target: t.String(), Msg: "no *pool.Manager (nil): the " + t.Backend + " backend gets its connections from one; make it with pool.New(pool.Options{}) and CloseAll it at the end"}
}

// String describes the target without secrets: "mem://", or the config's Redacted form.
func (t Target) String() string {
	switch {
	case t.Backend == Memory:
		return "mem://"
	case t.Config == nil:
		return t.Backend + " (no config)"
	}
	return t.Config.Redacted()
}

// Error is the error of an opener: what was being opened, without secrets, and what is wrong
// with it. errors.Is(err, pool.ErrInvalidConfig) holds for every Error, and
// errors.Is(err, ErrNotGenerated) for a target on a backend the package was not generated
// with.
type Error struct {
	Target string // the URL, backend or file being opened, secrets masked
	Msg    string // what is wrong, and what is accepted
	Err    error  // the cause (e.g. a *pool.ConfigError), or nil

	notGenerated bool
}

func (e *Error) Error() string {
	s := fmt.Sprintf("open %q: %s", e.Target, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is pool.ErrInvalidConfig, or ErrNotGenerated for a backend
// that was not generated.
func (e *Error) Is(target error) bool {
	return target == pool.ErrInvalidConfig || (e.notGenerated && target == ErrNotGenerated)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// NotGenerated returns the error of a generated opener of package pkg, generated with the
// backends generated, for a target it cannot open: a zero Target, an unknown backend, or a
// backend that is not among generated, in which case the error names the -backends flag
// that would add it (errors.Is(err, ErrNotGenerated)).
func NotGenerated(t Target, pkg string, generated ...string) error {
	switch {
	case t.Backend == "":
		return &Error{Target: "", Msg: fmt.Sprintf("package %s: empty target (accepted: a URL such as mem://, or a Target from open.Parse, open.FromMap or open.FromFile)", pkg)}
	case !slices.Contains(Backends, t.Backend):
		return &Error{Target: t.Backend, Msg: fmt.Sprintf("package %s: unknown backend %q (accepted: %s)", pkg, t.Backend, strings.Join(generated, ", "))}
	}
	gen := "none"
	if len(generated) > 0 {
		gen = strings.Join(generated, ", ")
	}
	return &Error{Target: t.String(), notGenerated: true, Msg: fmt.Sprintf(
		"package %s was not generated with the %s backend (it has: %s); regenerate it with -backends=%s",
		pkg, t.Backend, gen, strings.Join(append(slices.Clone(generated), t.Backend), ","))}
}
