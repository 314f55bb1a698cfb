package pgdialect

import (
	"fmt"
	"strings"
)

// Quote returns name as a quoted SQL identifier (a dotted name is not split): NUL bytes are
// removed and every " is doubled, exactly as pgx.Identifier{name}.Sanitize does.
func Quote(name string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(name, "\x00", ""), `"`, `""`) + `"`
}

// QuoteTable returns a table name as a quoted SQL identifier: "schema.table" (split at the
// first dot) becomes two quoted parts, as pgx.Identifier{schema, table}.Sanitize renders
// them; a name without a dot is Quote(table).
func QuoteTable(table string) string {
	if s, t, ok := strings.Cut(table, "."); ok {
		return Quote(s) + "." + Quote(t)
	}
	return Quote(table)
}

// Literal returns s as a SQL string literal.
func Literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// IndexName returns the name of the index or constraint of column col of table (without
// its schema) with the given suffix ("key", "idx", "check"; an empty col names a table-wide
// one, e.g. "pkey"): table_col_suffix, or, when that is longer than PostgreSQL's 63-byte
// identifier limit, its first 54 bytes and an FNV-1a hash of the whole name.
func IndexName(table, col, suffix string) string {
	table = table[strings.LastIndexByte(table, '.')+1:]
	n := table + "_" + suffix
	if col != "" {
		n = table + "_" + col + "_" + suffix
	}
	if len(n) <= 63 {
		return n
	}
	h := uint32(2166136261)
	for i := 0; i < len(n); i++ {
		h = (h ^ uint32(n[i])) * 16777619
	}
	return fmt.Sprintf("%s_%08x", n[:63-9], h)
}

// PkeyName returns the name of table's primary key constraint.
func PkeyName(table string) string { return IndexName(table, "", "pkey") }
