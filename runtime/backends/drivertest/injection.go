package drivertest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
)

// injectionStrings look like SQL, LIKE, regular expression, JSON or query DSL syntax; they
// must be stored and matched as plain text.
var injectionStrings = []string{
	`'; DROP TABLE thing; --`, `' OR '1'='1`, `%`, `_`, `\`, `\\`, `%_\`, `"`, `""`, `{"a":1}`, `{"$gt":""}`,
	`*`, `.*`, `?`, `a*b?`, `$where`, `${x}`, "back`tick", `<script>`, `) OR (1=1`, `--`, `/* c */`, `:name`, `$1`,
}

func testInjection(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	F := things.ThingFields
	var recs []things.Thing
	byName := map[string]string{}
	for i, s := range injectionStrings {
		id := fmt.Sprintf("i%02d", i)
		byName[s] = id
		recs = append(recs, things.Thing{ID: id, Name: s, Title: ptr(s), Tags: []string{s, "plain"}, Meta: []byte(`{"v":` + jsonString(s) + `}`), Created: t0})
	}
	// Ids that look like syntax are opaque too.
	oddIDs := []string{`x'; DROP TABLE thing; --`, `100%`, `a_b`, `q"uote`, `back\slash`, `sp ace`, `slash/ed`, `日本`, `{"id":1}`}
	for _, id := range oddIDs {
		recs = append(recs, things.Thing{ID: id, Name: "odd id", Created: t0})
	}
	seed(ctx, t, r, recs)
	if n := count(ctx, t, r, things.ThingQuery()); n != int64(len(recs)) {
		t.Fatalf("Count = %d, want %d", n, len(recs))
	}
	for _, s := range injectionStrings {
		id := byName[s]
		got, err := r.Get(ctx, id)
		if err != nil {
			t.Fatalf("Get(%s): %v", id, err)
		}
		if got.Name != s || got.Title == nil || *got.Title != s || !slices.Equal(got.Tags, []string{s, "plain"}) {
			t.Errorf("%q came back as %q / %v / %v", s, got.Name, got.Title, got.Tags)
		}
		var prefixed []string
		for _, o := range injectionStrings {
			if strings.HasPrefix(o, s) {
				prefixed = append(prefixed, byName[o])
			}
		}
		slices.Sort(prefixed)
		for _, c := range []struct {
			what string
			cond query.Cond[things.Thing]
			want []string
		}{
			{"EQ", F.Name.EQ(s), []string{id}},
			{"IN", F.Title.IN(s, "nothing"), []string{id}},
			{"NEQ", query.And(F.Name.NEQ(s), F.Name.NEQ("odd id")), nil},
			{"LIKE escaped", F.Name.Like(query.EscapeLike(s)), []string{id}},
			{"STARTS_WITH", F.Title.StartsWith(s), prefixed},
			{"contains", F.Tags.Contains(s), []string{id}},
		} {
			got := findIDs(ctx, t, r, things.ThingQuery().Where(c.cond))
			want := c.want
			if c.what == "NEQ" {
				want = slices.DeleteFunc(slices.Sorted(maps(byName)), func(x string) bool { return x == id })
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s %q: got %v, want %v", c.what, s, got, want)
			}
		}
	}
	for _, id := range oddIDs {
		if got, err := r.Get(ctx, id); err != nil || got.ID != id {
			t.Errorf("Get(%q) = %q, %v", id, got.ID, err)
		}
		if ids := findIDs(ctx, t, r, things.ThingQuery().Where(F.ID.EQ(id))); !slices.Equal(ids, []string{id}) {
			t.Errorf("Find(id = %q) = %v", id, ids)
		}
	}
	if err := r.Delete(ctx, oddIDs[0]); err != nil {
		t.Errorf("Delete(%q): %v", oddIDs[0], err)
	}
	if n := count(ctx, t, r, things.ThingQuery()); n != int64(len(recs)-1) {
		t.Errorf("Count after deleting one = %d, want %d", n, len(recs)-1)
	}
}

func maps(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range s {
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
