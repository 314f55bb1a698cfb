package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Named defaults for RetryPolicy. They follow the seed's with_retry: three attempts, waits
// starting at one second and doubling.
const (
	DefaultRetryMaxAttempts = 3
	DefaultRetryInitial     = time.Second
	DefaultRetryMultiplier  = 2.0
	DefaultRetryMaxInterval = 30 * time.Second
	DefaultRetryJitter      = 0.5
)

// RetryPolicy configures Retry. The zero value uses the Default* constants.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, the first included. 0 means
	// DefaultRetryMaxAttempts; 1 means no retry.
	MaxAttempts int
	// InitialInterval is the wait before the second attempt. 0 means DefaultRetryInitial.
	InitialInterval time.Duration
	// Multiplier grows the wait after each attempt. 0 means DefaultRetryMultiplier.
	Multiplier float64
	// MaxInterval caps the wait (before jitter). 0 means DefaultRetryMaxInterval.
	MaxInterval time.Duration
	// Jitter randomizes each wait within ±Jitter of its value (0.5: between half and one and a
	// half times). 0 means DefaultRetryJitter; a negative value means no jitter.
	Jitter float64
	// Transient says which errors are worth another attempt. nil means IsTransient.
	Transient func(error) bool
	// OnRetry, when not nil, is called before each wait with the attempt that failed (1-based),
	// its error and the wait.
	OnRetry func(attempt int, err error, wait time.Duration)
}

// errTransient marks errors wrapped by MarkTransient.
type transientError struct{ err error }

func (t *transientError) Error() string { return t.err.Error() }
func (t *transientError) Unwrap() error { return t.err }

// MarkTransient wraps err so IsTransient reports true for it; errors.Is/As still see err.
func MarkTransient(err error) error {
	if err == nil {
		return nil
	}
	return &transientError{err}
}

// IsTransient is the default classification: errors marked with MarkTransient, network
// timeouts, refused/reset/aborted connections, broken pipes, unexpected EOF and other
// *net.OpError failures are transient. Context errors are not: the caller's deadline ends
// the retrying.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var te *transientError
	if errors.As(err, &te) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, target := range []error{
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
		syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH, io.ErrUnexpectedEOF,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

// Retry calls fn until it succeeds, returns an error the policy does not classify as
// transient, MaxAttempts is reached, or ctx ends, waiting between attempts with exponential
// backoff and jitter (github.com/cenkalti/backoff/v5). It returns nil or the last error of
// fn; when ctx ends first, the error wraps both ctx.Err() and the last error of fn.
func Retry(ctx context.Context, policy RetryPolicy, fn func(ctx context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	attempts := policy.MaxAttempts
	if attempts <= 0 {
		attempts = DefaultRetryMaxAttempts
	}
	b := &backoff.ExponentialBackOff{
		InitialInterval:     orDuration(policy.InitialInterval, DefaultRetryInitial),
		Multiplier:          policy.Multiplier,
		MaxInterval:         orDuration(policy.MaxInterval, DefaultRetryMaxInterval),
		RandomizationFactor: policy.Jitter,
	}
	if b.Multiplier == 0 {
		b.Multiplier = DefaultRetryMultiplier
	}
	switch {
	case b.RandomizationFactor == 0:
		b.RandomizationFactor = DefaultRetryJitter
	case b.RandomizationFactor < 0:
		b.RandomizationFactor = 0
	}
	transient := policy.Transient
	if transient == nil {
		transient = IsTransient
	}
	var lastErr error
	n := 0
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		n++
		err := fn(ctx)
		lastErr = err
		if err != nil && !transient(err) {
			return struct{}{}, backoff.Permanent(err)
		}
		return struct{}{}, err
	},
		backoff.WithBackOff(b),
		backoff.WithMaxTries(uint(attempts)),
		backoff.WithMaxElapsedTime(0), // ctx bounds the total time
		backoff.WithNotify(func(err error, d time.Duration) {
			if policy.OnRetry != nil {
				policy.OnRetry(n, err, d)
			}
		}),
	)
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && lastErr != nil && !errors.Is(lastErr, cerr) {
		return fmt.Errorf("%w after %d attempts; last error: %w", cerr, n, lastErr)
	}
	return err
}

func orDuration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
