package pgdialect

import (
	"fmt"

	"github.com/repokit/repokit/runtime/query"
)

// VersionColumn is the column holding a record's version (a bigint drawn at random for every
// write; the token a repository returns is its decimal form). No field may use this name.
const VersionColumn = "repokit_version"

// Column is one column of a record's table, as a drift check compares it.
type Column struct {
	Name    string // column name, unquoted
	Type    string // PostgreSQL type as format_type prints it, e.g. "text", "bigint[]"
	Collate string // "C" for text columns, "" otherwise
	NotNull bool
	// Generated is the generation expression of a generated column (the tsvector column of
	// a searchable field); the drift check compares its type, not the expression.
	Generated string
}

// ColumnType returns the PostgreSQL type and collation of a field of the given kind: text
// COLLATE "C" for string, text and enum (so that ORDER BY and comparisons are byte order,
// as on every backend), uuid, bigint, double precision, boolean, timestamp with time zone,
// bytea and json (not jsonb: json keeps the document's bytes as written); lists are arrays
// of the element type. An unknown kind gives "", "".
func ColumnType(k query.Kind, list bool) (typ, collate string) {
	switch k {
	case query.KindString, query.KindText, query.KindEnum:
		typ, collate = "text", "C"
	case query.KindUUID:
		typ = "uuid"
	case query.KindInt:
		typ = "bigint"
	case query.KindFloat:
		typ = "double precision"
	case query.KindBool:
		typ = "boolean"
	case query.KindTime:
		typ = "timestamp with time zone"
	case query.KindBytes:
		typ = "bytea"
	case query.KindJSON:
		typ = "json"
	default:
		return "", ""
	}
	if list {
		typ += "[]"
	}
	return typ, collate
}

// TypeSQL returns the column's type as a column definition writes it, with its collation:
// `text COLLATE "C"`, `bigint`.
func (c Column) TypeSQL() string {
	if c.Collate != "" {
		return c.Type + " COLLATE " + Quote(c.Collate)
	}
	return c.Type
}

// describe returns the column's type with its collation and NOT NULL, for drift messages.
func (c Column) describe() string {
	s := c.TypeSQL()
	if c.NotNull {
		s += " NOT NULL"
	}
	return s
}

// Drift compares live columns (as the database reports them, in table order) with the
// wanted ones and returns one line per difference, or nil: a missing column, a different
// type or collation, a different nullability (in want's order), then every live column the
// schema does not have (in live's order).
func Drift(live, want []Column) []string {
	var probs []string
	byName := map[string]Column{}
	for _, c := range live {
		byName[c.Name] = c
	}
	for _, w := range want {
		g, ok := byName[w.Name]
		if !ok {
			probs = append(probs, fmt.Sprintf("column %q is missing (want %s)", w.Name, w.describe()))
			continue
		}
		delete(byName, w.Name)
		if g.Type != w.Type || g.Collate != w.Collate {
			probs = append(probs, fmt.Sprintf("column %q has type %s, want %s", w.Name, g.TypeSQL(), w.TypeSQL()))
		}
		if g.NotNull != w.NotNull {
			if w.NotNull {
				probs = append(probs, fmt.Sprintf("column %q allows NULL, want NOT NULL", w.Name))
			} else {
				probs = append(probs, fmt.Sprintf("column %q is NOT NULL, want nullable", w.Name))
			}
		}
	}
	for _, c := range live {
		if _, extra := byName[c.Name]; extra {
			probs = append(probs, fmt.Sprintf("column %q (%s) is not in the schema", c.Name, c.describe()))
		}
	}
	return probs
}
