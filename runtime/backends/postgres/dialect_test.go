package postgres_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
)

// pgdialect quotes without importing pgx; its output must stay pgx.Identifier.Sanitize's,
// byte for byte, since the driver's statements and the generated files both use it.
func TestQuoteIsPgxSanitize(t *testing.T) {
	names := []string{"", "id", "Order", `a"b`, `""`, "a\x00b", "\x00\"\x00", "ünï cödé", "select", `"quoted"`, "tab\tnew\nline", "'"}
	for _, n := range append(names, "x.y") {
		if got, want := pgdialect.Quote(n), (pgx.Identifier{n}).Sanitize(); got != want {
			t.Errorf("Quote(%q) = %q, pgx says %q", n, got, want)
		}
	}
	for _, s := range names {
		if got, want := pgdialect.QuoteTable(s), (pgx.Identifier{s}).Sanitize(); got != want {
			t.Errorf("QuoteTable(%q) = %q, pgx says %q", s, got, want)
		}
		// A dotted table name is schema.table, split at the first dot (as the driver's
		// pgx.Identifier for CopyFrom is).
		for _, n := range append(names, "x.y") {
			table := s + "." + n
			if got, want := pgdialect.QuoteTable(table), (pgx.Identifier{s, n}).Sanitize(); got != want {
				t.Errorf("QuoteTable(%q) = %q, pgx says %q", table, got, want)
			}
		}
	}
}
