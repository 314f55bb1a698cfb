package postgres

import "testing"

func TestVerb(t *testing.T) {
	for _, tc := range []struct{ sql, want string }{
		{"SELECT 1", "SELECT"},
		{"  insert into t values ($1)", "INSERT"},
		{"-- name: GetProduct :one\nSELECT \"sku\" FROM \"products\" WHERE \"sku\" = $1\n", "SELECT"},
		{"-- a\n-- b\nDELETE FROM t", "DELETE"},
		{"begin", "BEGIN"},
		{"WITH x AS (SELECT 1) SELECT * FROM x", "WITH"},
		{"-- only a comment", ""},
	} {
		if got := verb(tc.sql); got != tc.want {
			t.Errorf("verb(%q) = %q, want %q", tc.sql, got, tc.want)
		}
	}
}
