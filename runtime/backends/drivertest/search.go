package drivertest

import (
	"slices"
	"strings"
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

// relevanceDocs is the corpus of SearchRelevance: "apple" three times in a text of three
// words (r3), twice in five words (r2) and once in twenty (r1), where a term frequency
// normalized by length (memory, S3), ts_rank (PostgreSQL) and BM25 (Elasticsearch) all rank
// r3, r2, r1 — the ids deliberately in the other order; t1 and t2 hold the same text, so
// every backend gives them the same score; n1 has no body.
func relevanceDocs() []things.Doc {
	return []things.Doc{
		{ID: "r1", Body: ptr("I ate an apple with my lunch at the office near the old station today before the long meeting began"), Note: ptr("c")},
		{ID: "r2", Body: ptr("apple cake with apple cream"), Note: ptr("b")},
		{ID: "r3", Body: ptr("apple apple apple"), Note: ptr("a")},
		{ID: "t1", Body: ptr("pear and plum"), Note: ptr("z")},
		{ID: "t2", Body: ptr("pear and plum"), Note: ptr("y")},
		{ID: "n1", Note: ptr("no body")},
	}
}

// testSearchRelevance checks OrderByRelevance where every backend must agree although each
// ranks with its own function (docs/semantics.md, "Relevance"): an order the corpus makes
// unambiguous, the id (or a later key) breaking equal scores, Limit and Offset, Stream,
// projection, NOT conditions not ranking, and the same ErrBadQuery everywhere for a
// relevance order without a search condition and for Page.
func testSearchRelevance(t *testing.T, h Harness) {
	ctx, r := makeRepo(t, "MakeDocs", h.MakeDocs)
	seed(ctx, t, r, relevanceDocs())
	F, Q := things.DocFields, things.DocQuery
	apple := Q().Where(F.Body.Search("apple")).OrderByRelevance()
	ids := func(ds []things.Doc) string {
		out := make([]string, len(ds))
		for i, d := range ds {
			out[i] = d.ID
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		name string
		q    query.Query[things.Doc]
		want string
	}{
		{"more occurrences in a shorter text first", apple, "r3,r2,r1"},
		{"with Limit", apple.Limit(2), "r3,r2"},
		{"with Offset and Limit", apple.Offset(1).Limit(1), "r2"},
		{"with Offset", apple.Offset(2), "r1"},
		{"with a projection", apple.Select(), "r3,r2,r1"},
		{"NOT search filters but does not rank", Q().Where(F.Body.Search("apple"), query.Not(F.Body.Search("cake"))).OrderByRelevance(), "r3,r1"},
		{"a phrase ranks", Q().Where(F.Body.SearchPhrase("apple")).OrderByRelevance(), "r3,r2,r1"},
		{"equal scores: the id breaks the tie", Q().Where(F.Body.Search("plum pear")).OrderByRelevance(), "t1,t2"},
		{"equal scores: a later key breaks the tie", Q().Where(F.Body.Search("plum")).OrderByRelevance().OrderBy(F.Note.Asc()), "t2,t1"},
		{"a key before relevance comes first", Q().Where(F.Body.Search("apple")).OrderBy(F.Note.Desc()).OrderByRelevance(), "r1,r2,r3"},
		{"OR: a record matching no ranked condition scores least", Q().Where(query.Or(F.Body.Search("apple"), F.Note.EQ("z"))).OrderByRelevance(), "r3,r2,r1,t1"},
	} {
		if got := ids(find(ctx, t, r, c.q)); got != c.want {
			t.Errorf("%s: Find(%s) = %s, want %s", c.name, c.q, got, c.want)
		}
		var streamed []things.Doc
		for d, err := range r.Stream(ctx, c.q) {
			if err != nil {
				t.Fatalf("%s: Stream(%s): %v", c.name, c.q, err)
			}
			streamed = append(streamed, d)
		}
		if got := ids(streamed); got != c.want {
			t.Errorf("%s: Stream(%s) = %s, want %s", c.name, c.q, got, c.want)
		}
	}

	for _, c := range []struct {
		name string
		q    query.Query[things.Doc]
	}{
		{"no search condition", Q().OrderByRelevance()},
		{"another condition only", Q().Where(F.Note.EQ("a")).OrderByRelevance()},
		{"a negated search only", Q().Where(query.Not(F.Body.Search("apple"))).OrderByRelevance()},
	} {
		_, err := r.Find(ctx, c.q)
		wantErr(t, "Find: "+c.name, err, repo.ErrInvalidInput, query.ErrBadQuery)
		err = nil
		for _, e := range r.Stream(ctx, c.q) {
			err = e
			break
		}
		wantErr(t, "Stream: "+c.name, err, repo.ErrInvalidInput, query.ErrBadQuery)
		_, err = r.Page(ctx, c.q, "")
		wantErr(t, "Page: "+c.name, err, repo.ErrInvalidInput, query.ErrBadQuery)
	}
	// A cursor holds field values, not scores: Page refuses a relevance order rather than
	// continue it wrongly.
	_, err := r.Page(ctx, apple.Limit(1), "")
	wantErr(t, "Page in relevance order", err, repo.ErrInvalidInput, query.ErrBadQuery)
}
