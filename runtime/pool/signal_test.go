package pool

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"
)

func TestCloseOnSignal(t *testing.T) {
	// The helper re-sends the signal after closing; this channel keeps it from ending the test.
	caught := make(chan os.Signal, 2)
	signal.Notify(caught, syscall.SIGUSR1)
	defer signal.Stop(caught)

	r := &recorder{}
	m := New(Options{KeepIdle: true})
	mustGet(t, m, testConfig{name: "a"}, r.hooks()).Release()
	stop := CloseOnSignal(context.Background(), m, syscall.SIGUSR1)
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second) // a hang guard, not a speed assertion
	for {
		_, err := Get(context.Background(), m, testConfig{name: "a"}, r.hooks())
		if errors.Is(err, ErrClosed) {
			break
		}
		select {
		case <-deadline:
			t.Fatal("the manager was not closed after the signal")
		case <-time.After(time.Millisecond):
		}
	}
	stop() // waits for the helper's goroutine; goleak checks nothing is left
	if r.closes.Load() != 1 {
		t.Fatalf("closes = %d, want 1", r.closes.Load())
	}
}

func TestCloseOnSignalStop(t *testing.T) {
	m := New(Options{})
	stop := CloseOnSignal(context.Background(), m)
	stop()
	stop()
	r := &recorder{}
	l := mustGet(t, m, testConfig{name: "a"}, r.hooks()) // still open
	l.Release()
	closeAll(t, m)
}
