package drivertest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// Configurer is implemented by the repositories a Harness makes (every *repo.Collection):
// RunSignedCursorTests configures them with a cursor key.
type Configurer interface {
	Configure(opts ...repo.Option) error
}

// RunSignedCursorTests pins the signed cursors of repo.WithCursorKey on the harness's
// backend: every page of a query is reached through signed cursors; a cursor edited, cut,
// unsigned, signed with another key, or made for another filter, sort order or record type
// is ErrInvalidInput, and the error names no key; a retired key given as previous still
// verifies; the page size may change between pages.
func RunSignedCursorTests(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	ctxO, o := makeOthers(t, h)
	keyA := []byte("signed-cursor-key-A-0123456789")
	keyB := []byte("signed-cursor-key-B-0123456789")
	configure(t, r, repo.WithCursorKey(keyA))
	configure(t, o, repo.WithCursorKey(keyA))
	all := randomThings(20, 11)
	seed(ctx, t, r, all)
	seed(ctxO, t, o, []things.Other{{Label: "1"}, {Label: "2"}, {Label: "3"}})

	F := things.ThingFields
	q := things.ThingQuery().Where(F.Count.GTE(1)).OrderBy(F.Rank.Asc())
	want := findIDs(ctx, t, r, q)
	if len(want) < 4 {
		t.Fatalf("the seed has %d records with count >= 1, want at least 4", len(want))
	}
	// Every page, through signed cursors, with the page size changing on the way.
	var got []string
	cursor, first := "", ""
	for i := 0; ; i++ {
		p, err := r.Page(ctx, q.Limit(2+i%2), cursor)
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		got = append(got, thingIDs(p.Items)...)
		if i == 0 {
			first = p.Next
		}
		if cursor = p.Next; cursor == "" {
			break
		}
		if !strings.Contains(cursor, ".") {
			t.Fatalf("page %d: cursor %q has no signature", i, cursor)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages with signed cursors = %v, want %v", got, want)
	}

	otherFilter := mustPage(ctx, t, r, things.ThingQuery().Where(F.Count.GTE(0)).OrderBy(F.Rank.Asc()).Limit(2))
	otherSort := mustPage(ctx, t, r, things.ThingQuery().Where(F.Count.GTE(1)).OrderBy(F.Rank.Desc()).Limit(2))
	otherRecord := mustPage(ctx, t, o, things.OtherQuery().Limit(1))
	body, sig, _ := strings.Cut(first, ".")
	bad := []struct{ name, cursor, reason string }{
		{"a byte of the body edited", flip(body) + "." + sig, "signature"},
		{"a byte of the signature edited", body + "." + flip(sig), "signature"},
		{"truncated", first[:len(first)-3], "signature"},
		{"cut before the signature", body, "not signed"},
		{"another filter", otherFilter, "signature"},
		{"another sort order", otherSort, "signature"},
		{"another record type", otherRecord, "signature"},
		{"empty signature", body + ".", "signature"},
	}
	for _, c := range bad {
		_, err := r.Page(ctx, q.Limit(2), c.cursor)
		wantErr(t, "signed cursor: "+c.name, err, repo.ErrInvalidInput)
		checkCursorErr(t, c.name, err, c.reason, keyA, keyB)
	}

	// Another key rejects the cursor; the old key given as previous still accepts it, and
	// new cursors are signed with the new key only.
	configure(t, r, repo.WithCursorKey(keyB))
	_, err := r.Page(ctx, q.Limit(2), first)
	wantErr(t, "signed cursor: another key", err, repo.ErrInvalidInput)
	checkCursorErr(t, "another key", err, "signature", keyA, keyB)
	configure(t, r, repo.WithCursorKey(keyB, keyA))
	if _, err := r.Page(ctx, q.Limit(2), first); err != nil {
		t.Errorf("a cursor of a previous key: %v", err)
	}
	byB := mustPage(ctx, t, r, q.Limit(2))
	configure(t, r, repo.WithCursorKey(keyA))
	_, err = r.Page(ctx, q.Limit(2), byB)
	wantErr(t, "signed cursor: signed by the new key, checked with the old one", err, repo.ErrInvalidInput)
}

// configure applies opts to r, which must be a Configurer.
func configure[T any](t *testing.T, r repo.Repository[T], opts ...repo.Option) {
	t.Helper()
	c, ok := r.(Configurer)
	if !ok {
		t.Fatalf("the harness's %T has no Configure method", r)
	}
	if err := c.Configure(opts...); err != nil {
		t.Fatalf("Configure: %v", err)
	}
}

// mustPage returns the Next cursor of q's first page, which must have one.
func mustPage[T any](ctx context.Context, t *testing.T, r repo.Repository[T], q query.Query[T]) string {
	t.Helper()
	p, err := r.Page(ctx, q, "")
	if err != nil || p.Next == "" {
		t.Fatalf("Page(%s): %v, next %q", q, err, p.Next)
	}
	return p.Next
}

// flip returns s (base64url) with its middle character replaced by another one.
func flip(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// checkCursorErr fails the test unless err says "invalid cursor" and reason, and shows
// none of keys.
func checkCursorErr(t *testing.T, what string, err error, reason string, keys ...[]byte) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if !strings.Contains(msg, "invalid cursor") || !strings.Contains(msg, reason) {
		t.Errorf("%s: error %q does not say \"invalid cursor\" and %q", what, msg, reason)
	}
	for _, k := range keys {
		if strings.Contains(msg, string(k)) {
			t.Errorf("%s: error %q shows a cursor key", what, msg)
		}
	}
}
