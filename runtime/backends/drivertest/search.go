package drivertest

import (
	"slices"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// searchDocs is the full-text corpus: stemming ("running", "runs", "runner"), case, accents
// ("Café"), stop words, phrases in two word orders, digits, separators, a missing text and
// stop words only. Body is analysed in English, Title in simple.
func searchDocs() []things.Doc {
	return []things.Doc{
		{ID: "d1", Body: ptr("The runner was running fast"), Title: ptr("Morning Run")},
		{ID: "d2", Body: ptr("She runs every day at the café"), Title: ptr("Café Life")},
		{ID: "d3", Body: ptr("A quick brown fox jumps over the lazy dog"), Title: ptr("The Fox Story")},
		{ID: "d4", Body: ptr("The dog jumps over a quick brown fox"), Title: ptr("Dog story")},
		{ID: "d5", Note: ptr("no body, no title")},
		{ID: "d6", Body: ptr("CAFE culture and RUN clubs"), Title: ptr("cafe RUNNING")},
		{ID: "d7", Body: ptr("Hits of the 1990s: model X200s"), Title: ptr("the of and")},
		{ID: "d8", Body: ptr("well-known author@example.com, path/to_file"), Title: ptr("Ünïcödé ÉCOLE")},
		{ID: "d9", Body: ptr("the of and it")},
	}
}

func testSearch(t *testing.T, h Harness) {
	ctx, r := makeRepo(t, "MakeDocs", h.MakeDocs)
	seed(ctx, t, r, searchDocs())
	F, Q := things.DocFields, things.DocQuery
	cases := []struct {
		name string
		cond query.Cond[things.Doc]
		want string
	}{
		{"stem of the operand", F.Body.Search("run"), "d1,d2,d6"},
		{"stemmed operand", F.Body.Search("Running"), "d1,d2,d6"},
		{"another stem", F.Body.Search("runners"), "d1"},
		{"accent in the document", F.Body.Search("cafe"), "d2,d6"},
		{"accent and case in the operand", F.Body.Search("CAFÉ"), "d2,d6"},
		{"all terms in any order", F.Body.Search("fox quick"), "d3,d4"},
		{"all terms, one missing", F.Body.Search("fox zebra"), ""},
		{"no match", F.Body.Search("zebra"), ""},
		{"stop words are dropped from the operand", F.Body.Search("the fox"), "d3,d4"},
		{"stop words only", F.Body.Search("the of"), ""},
		{"empty operand", F.Body.Search(""), ""},
		{"separators only", F.Body.Search(" -- "), ""},
		{"tokens with digits are not stemmed", F.Body.Search("1990s"), "d7"},
		{"a stemmed form of a token with digits", F.Body.Search("x200"), ""},
		{"hyphenated and e-mail parts", F.Body.Search("known example author"), "d8"},
		{"underscore and slash separate", F.Body.Search("file path"), "d8"},
		{"phrase", F.Body.SearchPhrase("brown fox jumps"), "d3"},
		{"phrase, stemmed", F.Body.SearchPhrase("foxes jumping"), "d3"},
		{"phrase in the other order", F.Body.SearchPhrase("dog jumps"), "d4"},
		{"phrase found in no order", F.Body.SearchPhrase("jumps fox"), ""},
		{"phrase in both documents", F.Body.SearchPhrase("quick brown fox"), "d3,d4"},
		{"phrase with its stop words", F.Body.SearchPhrase("jumps over the lazy"), "d3"},
		{"a stop word stands for one word", F.Body.SearchPhrase("jumps the lazy"), ""},
		{"phrase of one word", F.Body.SearchPhrase("Runs"), "d1,d2,d6"},
		{"phrase of stop words", F.Body.SearchPhrase("the of and"), ""},
		{"simple: no stemming", F.Title.Search("run"), "d1"},
		{"simple: no stemming of the operand", F.Title.Search("running"), "d6"},
		{"simple: no stop words", F.Title.Search("the"), "d3,d7"},
		{"simple: accents and case", F.Title.Search("cafÉ"), "d2,d6"},
		{"simple: folded document", F.Title.Search("unicode ecole"), "d8"},
		{"simple: phrase", F.Title.SearchPhrase("the of"), "d7"},
		{"NOT search matches missing values", query.Not(F.Body.Search("fox")), "d1,d2,d5,d6,d7,d8,d9"},
		{"search OR search", query.Or(F.Body.Search("fox"), F.Title.Search("cafe")), "d2,d3,d4,d6"},
		{"search AND another condition", query.And(F.Body.Search("fox"), F.Title.StartsWith("The")), "d3"},
	}
	for _, c := range cases {
		q := Q().Where(c.cond)
		var got []string
		for _, d := range find(ctx, t, r, q) {
			got = append(got, d.ID)
		}
		slices.Sort(got)
		if want := splitIDs(c.want); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("%s: Find(%s) = %v, want %v", c.name, q, got, want)
		}
		if n, want := count(ctx, t, r, q), len(splitIDs(c.want)); n != int64(want) {
			t.Errorf("%s: Count(%s) = %d, want %d", c.name, q, n, want)
		}
	}

	// A text field that is not searchable, and a malformed operand.
	note := query.NewTextField[things.Doc]("note")
	for _, c := range []struct {
		name string
		q    query.Query[things.Doc]
		also error
	}{
		{"Search on a field that is not searchable", Q().Where(note.Search("x")), query.ErrBadQuery},
		{"SearchPhrase on a field that is not searchable", Q().Where(note.SearchPhrase("x")), query.ErrBadQuery},
		{"Search on the id", Q().Where(query.NewTextField[things.Doc]("id").Search("d1")), query.ErrBadQuery},
		{"invalid UTF-8 operand", Q().Where(F.Body.Search("\xff")), query.ErrBadValue},
	} {
		_, err := r.Find(ctx, c.q)
		wantErr(t, "Find: "+c.name, err, repo.ErrInvalidInput, c.also)
		_, err = r.Count(ctx, c.q)
		wantErr(t, "Count: "+c.name, err, repo.ErrInvalidInput, c.also)
	}
}
