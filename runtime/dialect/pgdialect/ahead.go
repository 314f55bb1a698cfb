package pgdialect

import (
	"fmt"
	"slices"
	"strings"
)

// widenedTypes maps a column type to the types a newer version may have widened it to
// while code of the older version still reads and writes it (migrate's safe widenings
// that change the PostgreSQL type: int to float, and their lists).
var widenedTypes = map[string]string{
	"bigint":   "double precision",
	"bigint[]": "double precision[]",
}

// OlderCodeDrift returns one line per reason why code whose table is t cannot work on the
// live table, which a newer version of the schema made; nil when it can. It is the check
// of a process that starts with an older history than the store's (a rolling deploy, or a
// rollback, after a migration ran). Such code can work when every column it reads and
// writes is still there with its type or a widening of it (int to float: a fractional
// value written by newer code then fails its read), nullable where it writes NULL; every
// column it does not know is nullable or has a default; the CHECK constraint of each of
// its enum columns still allows its values; and each of its unique columns still has its
// valid unique index. Extra indexes, constraints and columns are newer code's and are not
// reported, and neither are the old columns that t's renames keep for even older code: a
// newer version that drops them has decided that such code is gone.
func (t TableDef) OlderCodeDrift(live LiveTable) []string {
	var probs []string
	byName := map[string]Column{}
	for _, c := range live.Columns {
		byName[c.Name] = c
	}
	known := map[string]bool{}
	for _, want := range t.ColumnList() {
		known[want.Name] = true
		got, ok := byName[want.Name]
		switch {
		case !ok:
			probs = append(probs, fmt.Sprintf("column %q is gone (a newer version dropped or renamed it)", want.Name))
			continue
		case got.Type != want.Type && widenedTypes[want.Type] != got.Type, got.Collate != want.Collate:
			probs = append(probs, fmt.Sprintf("column %q has type %s, which code of this version (%s) cannot read", want.Name, got.TypeSQL(), want.TypeSQL()))
		}
		if got.NotNull && !want.NotNull {
			probs = append(probs, fmt.Sprintf("column %q is NOT NULL, and code of this version writes NULL into it", want.Name))
		}
	}
	for _, c := range live.Columns {
		if !known[c.Name] && c.NotNull && live.Defaults[c.Name] == "" {
			probs = append(probs, fmt.Sprintf("column %q (%s) has no default, so inserts by code of this version, which does not know it, fail", c.Name, c.describe()))
		}
	}
	for _, c := range t.Columns[1:] {
		if want, ok := t.CheckOf(c); ok {
			i := slices.IndexFunc(live.Checks, func(l LiveCheck) bool { return l.Name == want.Name })
			if i >= 0 {
				got := checkValues(live.Checks[i].Def)
				var lost []string
				for _, v := range want.Values {
					if !slices.Contains(got, v) {
						lost = append(lost, v)
					}
				}
				if len(lost) > 0 {
					probs = append(probs, fmt.Sprintf("CHECK constraint %q no longer allows %s", want.Name, strings.Join(lost, ", ")))
				}
			}
		}
		if want, ok := t.IndexOf(c); ok && want.Unique {
			if !slices.ContainsFunc(live.Indexes, func(l LiveIndex) bool {
				return l.Unique && l.Valid && slices.Equal(l.Columns, []string{c.Name})
			}) {
				probs = append(probs, fmt.Sprintf("column %q has no valid unique index: its values would no longer be kept unique", c.Name))
			}
		}
	}
	return probs
}
