package pool

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// CloseOnSignal is the counterpart of the seed's atexit cleanup for signals: when the process
// receives one of signals (SIGINT and SIGTERM when none are given), it calls m.CloseAll(ctx),
// then stops catching the signals and sends the same signal to the process again, so the
// program ends as it would have without the helper. Programs that handle these signals
// themselves should call CloseAll in their own shutdown path instead (a program that also
// catches the signal receives it twice). For a normal exit, defer m.CloseAll in main.
//
// The returned stop function stops watching (without closing anything) and returns once the
// helper's goroutine has ended; it is safe to call more than once and after a signal.
func CloseOnSignal(ctx context.Context, m *Manager, signals ...os.Signal) (stop func()) {
	if len(signals) == 0 {
		signals = []os.Signal{syscall.SIGINT, syscall.SIGTERM}
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, signals...)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case sig := <-ch:
			if err := m.CloseAll(ctx); err != nil {
				m.log.LogAttrs(ctx, slog.LevelWarn, "pool close on signal failed",
					slog.String("signal", sig.String()), slog.String("error", err.Error()))
			}
			signal.Stop(ch)
			if p, err := os.FindProcess(os.Getpid()); err == nil {
				_ = p.Signal(sig)
			}
		case <-quit:
			signal.Stop(ch)
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(quit) })
		<-done
	}
}
