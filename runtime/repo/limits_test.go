package repo_test

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest"
	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// wantLimit fails unless err is ErrInvalidInput with a *repo.LimitError of that limit and
// size whose message says both.
func wantLimit(t *testing.T, what string, err error, limit, size int) {
	t.Helper()
	var le *repo.LimitError
	if !errors.Is(err, repo.ErrInvalidInput) || !errors.As(err, &le) || le.Max != limit || le.Size != size {
		t.Errorf("%s: %v, want ErrInvalidInput with a LimitError of %d over %d", what, err, size, limit)
		return
	}
	if msg := err.Error(); !strings.Contains(msg, strconv.Itoa(limit)) || !strings.Contains(msg, strconv.Itoa(size)) {
		t.Errorf("%s: %q does not name the limit and the size", what, msg)
	}
}

// TestLimitBoundaries: each portable limit lets its maximum through and rejects one more, in
// the exported checks backends' own methods call (CheckID, Prepare, CheckFilter).
func TestLimitBoundaries(t *testing.T) {
	d := things.ThingSchema
	if err := repo.CheckID(d, "Get", strings.Repeat("é", repo.MaxIDBytes/2)+"x"); err != nil {
		t.Errorf("CheckID of %d bytes: %v", repo.MaxIDBytes, err)
	}
	wantLimit(t, "CheckID", repo.CheckID(d, "Get", strings.Repeat("/", repo.MaxIDBytes+1)), repo.MaxIDBytes, repo.MaxIDBytes+1)
	rec := things.Thing{ID: strings.Repeat("a", repo.MaxIDBytes), Name: strings.Repeat("n", repo.MaxStringBytes)}
	if err := repo.Prepare(d, "Create", &rec, false); err != nil {
		t.Errorf("Prepare with an id of %d bytes and a string of %d: %v", repo.MaxIDBytes, repo.MaxStringBytes, err)
	}
	rec.ID += "a"
	err := repo.Prepare(d, "Create", &rec, false)
	wantLimit(t, "Prepare with a long id", err, repo.MaxIDBytes, repo.MaxIDBytes+1)
	var re *repo.Error
	if !errors.As(err, &re) || re.Record != "Thing" || re.Op != "Create" || !strings.Contains(err.Error(), "Thing.id") {
		t.Errorf("Prepare with a long id: %v does not name the record, operation and field", err)
	}

	L := drivertest.LimitedSchema
	at := strings.Repeat("x", repo.MaxIndexedStringBytes)
	for _, r := range []drivertest.Limited{{ID: "a", Idx: &at}, {ID: "a", Uniq: &at}, {ID: "a", Tags: []string{"", at}}} {
		if err := repo.Prepare(L, "Create", &r, false); err != nil {
			t.Errorf("Prepare with an indexed value of %d bytes: %v", repo.MaxIndexedStringBytes, err)
		}
	}
	over := at + "x"
	for field, r := range map[string]drivertest.Limited{
		"idx": {ID: "a", Idx: &over}, "uniq": {ID: "a", Uniq: &over}, "tags": {ID: "a", Tags: []string{"", over}},
	} {
		err := repo.Prepare(L, "Update", &r, false)
		wantLimit(t, "Prepare with a long "+field, err, repo.MaxIndexedStringBytes, repo.MaxIndexedStringBytes+1)
		if err != nil && !strings.Contains(err.Error(), "Limited."+field) {
			t.Errorf("Prepare with a long %s: %q does not name the field", field, err)
		}
	}
	long := strings.Repeat("x", 10*repo.MaxIndexedStringBytes)
	if err := repo.Prepare(L, "Create", &drivertest.Limited{ID: "a", Note: &long}, false); err != nil {
		t.Errorf("Prepare with a long value of a field without index: %v", err)
	}
	// An indexed value over both string limits is over the indexed one.
	huge := strings.Repeat("x", repo.MaxStringBytes+1)
	err = repo.Prepare(L, "Create", &drivertest.Limited{ID: "a", Idx: &huge}, false)
	wantLimit(t, "Prepare with an indexed value over both limits", err, repo.MaxIndexedStringBytes, repo.MaxStringBytes+1)

	// Every string, text, uuid or enum value, list elements included, of at most
	// MaxStringBytes (counted in bytes: 3-byte characters fill it exactly).
	maxStr := strings.Repeat("日", repo.MaxStringBytes/3)
	for _, r := range []things.Thing{
		{ID: "s", Name: maxStr}, {ID: "s", Name: "n", Title: &maxStr}, {ID: "s", Name: "n", Body: &maxStr},
		{ID: "s", Name: "n", Tags: []string{"", maxStr, maxStr}},
	} {
		if err := repo.Prepare(d, "Upsert", &r, false); err != nil {
			t.Errorf("Prepare with a string of %d bytes: %v", repo.MaxStringBytes, err)
		}
	}
	overStr := maxStr + "é"
	for field, r := range map[string]things.Thing{
		"name": {ID: "s", Name: overStr}, "title": {ID: "s", Name: "n", Title: &overStr},
		"body": {ID: "s", Name: "n", Body: &overStr}, "tags": {ID: "s", Name: "n", Tags: []string{"", overStr}},
	} {
		err := repo.Prepare(d, "Update", &r, false)
		wantLimit(t, "Prepare with a long "+field, err, repo.MaxStringBytes, repo.MaxStringBytes+2)
		if err != nil && !strings.Contains(err.Error(), "Thing."+field) {
			t.Errorf("Prepare with a long %s: %q does not name the field", field, err)
		}
	}
	L2 := drivertest.Limited{ID: "a", Note: &overStr}
	wantLimit(t, "Prepare with a long note", repo.Prepare(L, "Create", &L2, false), repo.MaxStringBytes, repo.MaxStringBytes+2)

	F := things.ThingFields
	conds := make([]query.Cond[things.Thing], 0, repo.MaxFilterConditions+1)
	for i := range repo.MaxFilterConditions / 2 {
		conds = append(conds, query.Not(F.Name.EQ(strconv.Itoa(i))), F.Nums.ContainsAny(1, 2, 3))
	}
	e := query.And(query.Or(conds[:100]...), query.And(conds[100:]...)).Expr()
	if err := repo.CheckFilter(d, e); err != nil {
		t.Errorf("CheckFilter of %d conditions: %v", repo.MaxFilterConditions, err)
	}
	e = query.Or(append(conds, F.Active.EQ(true))...).Expr()
	wantLimit(t, "CheckFilter", repo.CheckFilter(d, e), repo.MaxFilterConditions, repo.MaxFilterConditions+1)

	rx := query.MustCompileRegex(strings.Repeat("é", repo.MaxRegexBytes/2))
	if err := repo.CheckFilter(d, query.Expr{Op: query.OpRegex, Field: "name", Args: []any{rx}}); err != nil {
		t.Errorf("CheckFilter with a REGEX of %d bytes: %v", repo.MaxRegexBytes, err)
	}
	rx = query.MustCompileRegex(strings.Repeat("é", repo.MaxRegexBytes/2) + "?")
	err = repo.CheckFilter(d, query.NotExpr(query.Expr{Op: query.OpRegex, Field: "title", Args: []any{rx}}))
	wantLimit(t, "CheckFilter with a long REGEX", err, repo.MaxRegexBytes, repo.MaxRegexBytes+1)
	if err != nil && !strings.Contains(err.Error(), "title") {
		t.Errorf("CheckFilter with a long REGEX: %q does not name the field", err)
	}

	for _, at := range []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(10000, 1, 1, 4, 0, 0, 0, time.FixedZone("", 5*3600)), // 9999-12-31T23:00Z
	} {
		rec := things.Thing{ID: "t", Name: "t", Created: at, At: &at}
		if err := repo.Prepare(d, "Create", &rec, false); err != nil {
			t.Errorf("Prepare with the time %v: %v", at, err)
		}
	}
	for _, c := range []struct {
		at   time.Time
		year int
	}{
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), 10000},
		{time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("", -3600)), 10000},
		{time.Date(1, 1, 1, 0, 30, 0, 0, time.FixedZone("", 3600)), 0},
		{time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC), 0},
		{time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), -1},
	} {
		rec := things.Thing{ID: "t", Name: "t", Created: c.at}
		err := repo.Prepare(d, "Create", &rec, false)
		var le *repo.LimitError
		if !errors.Is(err, repo.ErrInvalidInput) || !errors.As(err, &le) || le.Size != c.year || le.Min != repo.MinYear || le.Max != repo.MaxYear ||
			!strings.Contains(err.Error(), "Thing.created") || !strings.Contains(err.Error(), "year "+strconv.Itoa(c.year)) {
			t.Errorf("Prepare with the time %v: %v, want ErrInvalidInput naming created and the year %d", c.at, err, c.year)
		}
	}
}

// TestLimitsDocumented: docs/semantics.md's "Limits" table has a row per portable limit
// with its number, and each row names the test that holds it.
func TestLimitsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/semantics.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "\n## Limits\n")
	if i < 0 {
		t.Fatal(`docs/semantics.md has no "## Limits" section`)
	}
	section := doc[i+1:]
	if j := strings.Index(section[1:], "\n## "); j >= 0 {
		section = section[:j+1]
	}
	for _, l := range repo.Limits() {
		row := ""
		for _, line := range strings.Split(section, "\n") {
			if strings.HasPrefix(line, "| "+l.Name+" |") {
				row = line
			}
		}
		if row == "" {
			t.Errorf("no row for %q in the Limits table", l.Name)
			continue
		}
		n := thousands(l.Max) + " " + l.Unit
		if l.Min != 0 {
			n = l.Unit + "s " + thousands(l.Min) + " to " + thousands(l.Max)
		}
		if !strings.Contains(row, n) {
			t.Errorf("row %q does not say %q", row, n)
		}
		if !strings.Contains(row, "Test") {
			t.Errorf("row %q names no test", row)
		}
	}
}

// thousands formats n with commas, as the docs write numbers (10,000).
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
