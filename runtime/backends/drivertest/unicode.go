package drivertest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
)

// unicodeNames are sorted by byte order (code point order), which differs from collation
// order, from case-insensitive order and from UTF-16 order (U+FF41 sorts before U+1F600
// here, after it in UTF-16).
var unicodeNames = []string{
	"", "A", "B", "Z", "a", "a b", "aa", "b", "e\u0301", "\u00a0", "é", "日本", "ａ", "😀",
}

func testUnicode(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	F := things.ThingFields
	var recs []things.Thing
	for i, n := range unicodeNames {
		// Insert in reverse order so that the id order (u00, u01, ...) is the byte order but
		// the insertion order is not.
		recs = append([]things.Thing{{ID: fmt.Sprintf("u%02d", i), Name: n, Title: ptr(n), Created: t0}}, recs...)
	}
	seed(ctx, t, r, recs)
	var asc []string
	for i := range unicodeNames {
		asc = append(asc, fmt.Sprintf("u%02d", i))
	}
	desc := slices.Clone(asc)
	slices.Reverse(desc)
	byName := map[string]string{}
	for i, n := range unicodeNames {
		byName[n] = asc[i]
	}
	checks := []struct {
		name string
		q    query.Query[things.Thing]
		want []string
	}{
		{"sort asc is byte order", things.ThingQuery().OrderBy(F.Name.Asc()), asc},
		{"sort desc is byte order", things.ThingQuery().OrderBy(F.Title.Desc()), desc},
		{"no normalization: é is not e+◌́", things.ThingQuery().Where(F.Name.EQ("é")), []string{byName["é"]}},
		{"decomposed form matches itself", things.ThingQuery().Where(F.Name.EQ("e\u0301")), []string{byName["e\u0301"]}},
		{"no case folding", things.ThingQuery().Where(F.Name.IN("a")), []string{byName["a"]}},
		{"no width folding", things.ThingQuery().Where(F.Name.EQ("ａ")), []string{byName["ａ"]}},
		{"_ is one code point", things.ThingQuery().Where(F.Name.Like("_")).OrderBy(F.Name.Asc()),
			[]string{byName["A"], byName["B"], byName["Z"], byName["a"], byName["b"], byName["\u00a0"], byName["é"], byName["ａ"], byName["😀"]}},
		{"e_ matches e + combining accent", things.ThingQuery().Where(F.Name.Like("e_")), []string{byName["e\u0301"]}},
		{"REGEX . is one code point", things.ThingQuery().Where(F.Title.Regex("..")).OrderBy(F.Name.Asc()),
			[]string{byName["aa"], byName["e\u0301"], byName["日本"]}},
		{"GT by bytes", things.ThingQuery().Where(F.Name.GT("z")), []string{byName["\u00a0"], byName["é"], byName["日本"], byName["ａ"], byName["😀"]}},
		{"BETWEEN by bytes", things.ThingQuery().Where(F.Name.Between("Z", "b")), []string{byName["Z"], byName["a"], byName["a b"], byName["aa"], byName["b"]}},
	}
	for _, c := range checks {
		got := findIDs(ctx, t, r, c.q)
		want := c.want
		if len(c.q.Spec().Sort) == 0 {
			want = slices.Sorted(slices.Values(want))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", c.name, got, want)
		}
	}
	// Pagination over unicode keys.
	if got := walkPages(t, pageOf(ctx, r), things.ThingQuery().OrderBy(F.Name.Desc()), 4, len(asc)); !slices.Equal(got, desc) {
		t.Errorf("pages by name desc: %v", got)
	}
}
