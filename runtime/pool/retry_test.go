package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

var fast = RetryPolicy{InitialInterval: time.Millisecond, MaxInterval: 2 * time.Millisecond}

func TestRetry(t *testing.T) {
	transient := MarkTransient(errors.New("connection reset"))
	permanent := errors.New("syntax error")
	for _, tc := range []struct {
		name     string
		policy   RetryPolicy
		errs     []error // returned by successive attempts; nil afterwards
		attempts int
		want     error
	}{
		{"success first", fast, nil, 1, nil},
		{"transient then success", fast, []error{transient, transient}, 3, nil},
		{"gives up after max attempts", fast, []error{transient, transient, transient, transient}, 3, transient},
		{"permanent stops at once", fast, []error{permanent}, 1, permanent},
		{"custom classification", RetryPolicy{InitialInterval: time.Millisecond, MaxAttempts: 5,
			Transient: func(err error) bool { return err == permanent }}, []error{permanent, permanent}, 3, nil},
		{"one attempt", RetryPolicy{MaxAttempts: 1}, []error{transient}, 1, transient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			var retried []int
			tc.policy.OnRetry = func(attempt int, err error, wait time.Duration) {
				retried = append(retried, attempt)
				if wait < 0 || wait > 10*time.Millisecond {
					t.Errorf("wait %v outside the policy", wait)
				}
			}
			err := Retry(context.Background(), tc.policy, func(context.Context) error {
				n++
				if n <= len(tc.errs) {
					return tc.errs[n-1]
				}
				return nil
			})
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if n != tc.attempts || len(retried) != n-1 {
				t.Fatalf("attempts = %d (retries %v), want %d", n, retried, tc.attempts)
			}
		})
	}
}

func TestRetryStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	transient := MarkTransient(errors.New("refused"))
	n := 0
	err := Retry(ctx, RetryPolicy{MaxAttempts: 100, InitialInterval: time.Hour}, func(context.Context) error {
		n++
		cancel() // the caller gives up while the first wait is pending
		return transient
	})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, transient) || n != 1 {
		t.Fatalf("err = %v after %d attempts; want context.Canceled wrapping the last error after 1", err, n)
	}
	if err := Retry(ctx, fast, func(context.Context) error { t.Fatal("called with an ended context"); return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("ended context: %v", err)
	}
}

func TestIsTransient(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("bad request"), false},
		{MarkTransient(errors.New("x")), true},
		{fmt.Errorf("dial: %w", syscall.ECONNREFUSED), true},
		{fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{io.ErrUnexpectedEOF, true},
		{&net.OpError{Op: "dial", Err: errors.New("no route")}, true},
		{context.Canceled, false},
		{fmt.Errorf("query: %w", context.DeadlineExceeded), false},
		{&net.DNSError{IsTimeout: true}, true},
	} {
		if got := IsTransient(tc.err); got != tc.want {
			t.Errorf("IsTransient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
