package open_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/examples/shop/shopdb"
	"github.com/repokit/repokit/runtime/open"
	"github.com/repokit/repokit/runtime/repo"
)

// TestOpenerCursorKey: a generated opener applies repo.WithCursorKey, so the repository it
// returns signs its cursors; an invalid key is ErrInvalidInput from the opener.
func TestOpenerCursorKey(t *testing.T) {
	ctx := context.Background()
	key := []byte("opener-cursor-key-0123456789")
	for _, c := range []struct {
		name   string
		opts   []repo.Option
		signed bool
		err    error
	}{
		{"no key", nil, false, nil},
		{"a key", []repo.Option{repo.WithCursorKey(key)}, true, nil},
		{"a short key", []repo.Option{repo.WithCursorKey(key[:8])}, false, repo.ErrInvalidInput},
	} {
		var opts []open.Option
		for _, o := range c.opts {
			opts = append(opts, o)
		}
		r, err := shopdb.NewCustomerRepository(ctx, nil, "mem://", opts...)
		if c.err != nil {
			if !errors.Is(err, c.err) || r != nil {
				t.Errorf("%s: %v, %v; want %v", c.name, r, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		seedThings(ctx, t, r, 3)
		p, err := r.Page(ctx, shopdb.CustomerQuery().Limit(1), "")
		if err != nil || p.Next == "" {
			t.Fatalf("%s: Page: %v", c.name, err)
		}
		if got := strings.Contains(p.Next, "."); got != c.signed {
			t.Errorf("%s: cursor %q signed = %v, want %v", c.name, p.Next, got, c.signed)
		}
	}
}

func seedThings(ctx context.Context, t *testing.T, r *repo.Collection[shopdb.Customer], n int) {
	t.Helper()
	for i := range n {
		if _, err := r.Create(ctx, shopdb.Customer{Email: fmt.Sprintf("c%d@example.com", i), Name: "x", SignedUp: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
}
