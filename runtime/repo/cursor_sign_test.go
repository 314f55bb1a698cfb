package repo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/memory"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

var (
	cursorKey      = []byte("unit-test-cursor-key-0123456789")
	otherCursorKey = []byte("unit-test-cursor-key-9876543210")
)

// signedThings returns a memory repository of 10 things signing cursors with key.
func signedThings(t *testing.T, opts ...repo.Option) *repo.Collection[things.Thing] {
	t.Helper()
	r := repo.New(things.ThingSchema, memory.New(things.ThingSchema), opts...)
	for i := range 10 {
		if _, err := r.Create(context.Background(), things.Thing{ID: fmt.Sprintf("t%02d", i), Name: "n", Count: int64(i % 3)}); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// TestSignedCursorEveryByte: changing any single character of a signed cursor makes it
// ErrInvalidInput; the unchanged cursor works.
func TestSignedCursorEveryByte(t *testing.T) {
	ctx := context.Background()
	r := signedThings(t, repo.WithCursorKey(cursorKey))
	q := things.ThingQuery().Limit(3)
	p, err := r.Page(ctx, q, "")
	if err != nil || p.Next == "" {
		t.Fatalf("Page: %v, %q", err, p.Next)
	}
	for i := range len(p.Next) {
		for _, c := range []byte{'A', 'B', 'R', '_', '.'} { // B, R: the low bits of a last character
			if p.Next[i] == c {
				continue
			}
			b := []byte(p.Next)
			b[i] = c
			_, err := r.Page(ctx, q, string(b))
			if !errors.Is(err, repo.ErrInvalidInput) || !strings.Contains(err.Error(), "invalid cursor") {
				t.Fatalf("cursor with byte %d set to %q: error %v, want an invalid cursor", i, c, err)
			}
		}
	}
	if _, err := r.Page(ctx, q, p.Next); err != nil {
		t.Fatalf("the genuine cursor: %v", err)
	}
}

// TestSignedCursorRejects: the cases a signed repository rejects, and the one an unsigned
// repository accepts that a signed one must not.
func TestSignedCursorRejects(t *testing.T) {
	ctx := context.Background()
	F := things.ThingFields
	q := things.ThingQuery().Where(F.Count.LT(5)).Limit(2)
	signed := signedThings(t, repo.WithCursorKey(cursorKey))
	unsigned := signedThings(t)
	otherKey := signedThings(t, repo.WithCursorKey(otherCursorKey))
	next := func(r *repo.Collection[things.Thing], q query.Query[things.Thing]) string {
		t.Helper()
		p, err := r.Page(ctx, q, "")
		if err != nil || p.Next == "" {
			t.Fatalf("Page: %v, %q", err, p.Next)
		}
		return p.Next
	}
	good := next(signed, q)
	for _, c := range []struct{ name, cursor, reason string }{
		{"truncated", good[:len(good)-1], "signature"},
		{"truncated to the body", good[:strings.Index(good, ".")+1], "signature"},
		{"unsigned", next(unsigned, q), "not signed"},
		{"another key", next(otherKey, q), "signature"},
		{"another filter", next(signed, things.ThingQuery().Where(F.Count.LT(6)).Limit(2)), "signature"},
		{"another filter operand type", next(signed, things.ThingQuery().Where(F.Name.GTE("a")).Limit(2)), "signature"},
		{"another sort", next(signed, q.OrderBy(F.Name.Asc())), "signature"},
		{"two signatures", good + "." + good[strings.Index(good, ".")+1:], "signature"},
	} {
		_, err := signed.Page(ctx, q, c.cursor)
		if !errors.Is(err, repo.ErrInvalidInput) || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("%s: error %v, want ErrInvalidInput saying %q", c.name, err, c.reason)
		}
		if err != nil && (strings.Contains(err.Error(), string(cursorKey)) || strings.Contains(err.Error(), string(otherCursorKey))) {
			t.Errorf("%s: error %q shows a key", c.name, err)
		}
	}
	// Unsigned mode is unchanged: an unsigned repository still takes another filter's cursor.
	if _, err := unsigned.Page(ctx, q, next(unsigned, things.ThingQuery().Where(F.Count.LT(6)).Limit(2))); err != nil {
		t.Errorf("unsigned repository, cursor of another filter: %v", err)
	}
}

// TestCursorKeyLength: a key shorter than MinCursorKeyBytes is refused by Configure with
// ErrInvalidInput (not showing the key) and makes New panic.
func TestCursorKeyLength(t *testing.T) {
	short := []byte("short-key-15byt")
	for _, c := range []struct {
		name string
		opt  repo.Option
	}{
		{"current", repo.WithCursorKey(short)},
		{"previous", repo.WithCursorKey(cursorKey, short)},
		{"empty", repo.WithCursorKey(nil)},
	} {
		r := repo.New(things.ThingSchema, memory.New(things.ThingSchema))
		err := r.Configure(c.opt)
		if !errors.Is(err, repo.ErrInvalidInput) || strings.Contains(err.Error(), string(short)) {
			t.Errorf("%s: Configure error %v, want ErrInvalidInput without the key", c.name, err)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: New did not panic", c.name)
				}
			}()
			repo.New(things.ThingSchema, memory.New(things.ThingSchema), c.opt)
		}()
	}
}
