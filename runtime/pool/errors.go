package pool

import (
	"context"
	"errors"
	"strconv"
)

// ErrClosed is returned by Get and Remove once CloseAll has been called on the Manager.
var ErrClosed = errors.New("pool: manager closed")

// ErrCreate is wrapped by the error of Get when the Create hook failed (the server could not
// be reached, refused the connection or failed its first check); see Unreachable.
var ErrCreate = errors.New("pool: create failed")

// Unreachable reports whether err, returned by Get with the context ctx, says that the pool
// could not be created for a reason outside the program: the Create hook failed while ctx
// was alive, and not because of the config (ErrInvalidConfig). Backends report such errors
// as unavailable.
func Unreachable(ctx context.Context, err error) bool {
	return ctx.Err() == nil && errors.Is(err, ErrCreate) && !errors.Is(err, ErrInvalidConfig)
}

// ErrInvalidConfig is wrapped by every configuration error (see ConfigError).
var ErrInvalidConfig = errors.New("pool: invalid config")

// ErrNoCreateHook is returned by Get when Hooks.Create is nil.
var ErrNoCreateHook = errors.New("pool: Hooks.Create is nil")

// ConfigError describes one bad configuration value: where it came from (file and line when the
// value was read from a file), the key path (e.g. "databases.postgres.pool.max_size" or
// "$POSTGRES_POOL_MIN_SIZE" for an environment variable) and what is wrong. It never contains a
// secret value. errors.Is(err, ErrInvalidConfig) holds for every ConfigError.
type ConfigError struct {
	File string // file name as given to LoadFile, or "" when not read from a file
	Line int    // 1-based line of the offending key, or 0 when unknown
	Key  string // key path of the offending value
	Msg  string // what is wrong
}

// Error renders "file:line: key: msg", dropping the parts that are unknown.
func (e *ConfigError) Error() string {
	s := ""
	if e.File != "" {
		s = e.File
		if e.Line > 0 {
			s += ":" + strconv.Itoa(e.Line)
		}
		s += ": "
	}
	if e.Key != "" {
		s += e.Key + ": "
	}
	return s + e.Msg
}

// Is reports whether target is ErrInvalidConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }
