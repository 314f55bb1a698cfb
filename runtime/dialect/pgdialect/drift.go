package pgdialect

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// LiveTable is what the database reports of a table, for TableDef.LiveDrift.
type LiveTable struct {
	Columns  []Column          // in table order
	Defaults map[string]string // column → default expression as pg_get_expr prints it
	Indexes  []LiveIndex       // every index but the primary key
	Checks   []LiveCheck       // CHECK constraints (contype 'c')
	Triggers []string          // the names of the enabled triggers that are not internal
}

// LiveIndex is one index of a live table.
type LiveIndex struct {
	Name    string
	Columns []string
	Unique  bool
	Valid   bool
	Method  string // "btree", "gin", ...
}

// LiveCheck is one CHECK constraint of a live table.
type LiveCheck struct {
	Name string
	Def  string // pg_get_constraintdef
}

// LiveDrift returns one line per difference between the live table and t: the columns
// (Drift), the defaults, the indexes (missing, not unique, invalid, on other columns, extra)
// and the enum CHECK constraints (missing, other values, extra); nil when they match. The
// old column of a renamed field that keeps its old name (ColumnDef.OldName) and its index
// are not compared, but the column and the trigger that keeps it in step must be there.
func (t TableDef) LiveDrift(live LiveTable) []string {
	live, probs := t.compatDrift(live)
	probs = append(probs, Drift(live.Columns, t.ColumnList())...)
	present := map[string]bool{}
	for _, c := range live.Columns {
		present[c.Name] = true
	}
	for _, c := range t.Columns {
		if !present[c.Name] {
			continue
		}
		if !sameDefault(live.Defaults[c.Name], c.Default) {
			probs = append(probs, fmt.Sprintf("column %q has default %s, want %s", c.Name, orNone(live.Defaults[c.Name]), orNone(c.Default)))
		}
	}
	idx := map[string]LiveIndex{}
	for _, ix := range live.Indexes {
		idx[ix.Name] = ix
	}
	chk := map[string]LiveCheck{}
	for _, c := range live.Checks {
		chk[c.Name] = c
	}
	for _, c := range t.Columns[1:] {
		for _, of := range []func(ColumnDef) (Index, bool){t.IndexOf, t.SearchIndexOf} {
			want, ok := of(c)
			if !ok {
				continue
			}
			got, ok := idx[want.Name]
			delete(idx, want.Name)
			method := map[bool]string{true: "gin", false: "btree"}[want.GIN]
			switch {
			case !ok:
				probs = append(probs, fmt.Sprintf("index %q on %q is missing", want.Name, want.Column))
			case !got.Valid:
				probs = append(probs, fmt.Sprintf("index %q is INVALID (a failed CREATE INDEX CONCURRENTLY): apply again, which rebuilds it", want.Name))
			case got.Unique != want.Unique || !slices.Equal(got.Columns, []string{want.Column}) || got.Method != method:
				probs = append(probs, fmt.Sprintf("index %q is %s, want %s", want.Name, describeIndex(got), describeIndex(LiveIndex{Columns: []string{want.Column}, Unique: want.Unique, Method: method})))
			}
		}
		if want, ok := t.CheckOf(c); ok {
			got, ok := chk[want.Name]
			delete(chk, want.Name)
			if !ok {
				probs = append(probs, fmt.Sprintf("CHECK constraint %q (values of %q) is missing", want.Name, c.Name))
			} else if vals := checkValues(got.Def); !sameSet(vals, want.Values) {
				probs = append(probs, fmt.Sprintf("CHECK constraint %q allows %s, want %s", want.Name, strings.Join(vals, ", "), strings.Join(want.Values, ", ")))
			}
		}
	}
	for _, ix := range live.Indexes {
		if _, extra := idx[ix.Name]; extra {
			probs = append(probs, fmt.Sprintf("index %q (%s) is not in the schema", ix.Name, describeIndex(ix)))
		}
	}
	for _, c := range live.Checks {
		if _, extra := chk[c.Name]; extra {
			probs = append(probs, fmt.Sprintf("CHECK constraint %q (%s) is not in the schema", c.Name, c.Def))
		}
	}
	return probs
}

// compatDrift checks the old columns of renamed fields and their triggers, and returns live
// without those columns and the indexes on them only.
func (t TableDef) compatDrift(live LiveTable) (LiveTable, []string) {
	old := map[string]bool{}
	var probs []string
	for _, c := range t.Columns {
		if c.OldName == "" {
			continue
		}
		old[c.OldName] = true
		if !slices.ContainsFunc(live.Columns, func(l Column) bool { return l.Name == c.OldName }) {
			probs = append(probs, fmt.Sprintf("column %q (the old name of %q, kept for code of the previous version) is missing", c.OldName, c.Name))
		}
		if trig := CompatName(t.Table, c.Name); !slices.Contains(live.Triggers, trig) {
			probs = append(probs, fmt.Sprintf("trigger %q (keeps column %q in step with %q) is missing", trig, c.OldName, c.Name))
		}
	}
	if len(old) == 0 {
		return live, nil
	}
	out := live
	out.Columns = slices.DeleteFunc(slices.Clone(live.Columns), func(c Column) bool { return old[c.Name] })
	out.Indexes = slices.DeleteFunc(slices.Clone(live.Indexes), func(ix LiveIndex) bool { return len(ix.Columns) == 1 && old[ix.Columns[0]] })
	return out, probs
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func describeIndex(ix LiveIndex) string {
	s := ix.Method + " on (" + strings.Join(ix.Columns, ", ") + ")"
	if ix.Unique {
		s = "unique " + s
	}
	return s
}

var castSuffix = regexp.MustCompile(`::[a-z ]+(\[\])?$`)

// normalizeDefault reduces a default expression to its constant: the outer parentheses and
// casts and the quotes go ('1'::double precision → 1, 'a'::text → a, TRUE → true).
func normalizeDefault(s string) string {
	s = strings.TrimSpace(s)
	for {
		t := strings.TrimSpace(castSuffix.ReplaceAllString(s, ""))
		if strings.HasPrefix(t, "(") && strings.HasSuffix(t, ")") {
			t = t[1 : len(t)-1]
		}
		if t == s {
			break
		}
		s = t
	}
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		s = strings.ReplaceAll(s[1:len(s)-1], "''", "'")
	}
	return strings.ToLower(s)
}

// sameDefault reports whether two default expressions give the same constant.
func sameDefault(a, b string) bool {
	a, b = normalizeDefault(a), normalizeDefault(b)
	if a == b {
		return true
	}
	ta, errA := parseTime(a)
	tb, errB := parseTime(b)
	return errA == nil && errB == nil && ta.Equal(tb)
}

func parseTime(s string) (time.Time, error) {
	s = strings.ToUpper(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07", "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time: %s", s)
}

var quoted = regexp.MustCompile(`'((?:[^']|'')*)'`)

// checkValues returns the string constants of a CHECK constraint's definition.
func checkValues(def string) []string {
	var out []string
	for _, m := range quoted.FindAllStringSubmatch(def, -1) {
		out = append(out, strings.ReplaceAll(m[1], "''", "'"))
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
