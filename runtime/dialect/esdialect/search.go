package esdialect

import (
	"strings"

	"github.com/repokit/repokit/runtime/textsearch"
)

// Full-text search on Elasticsearch. The analysis is package textsearch's, run in Go when
// a document is written: a searchable field's terms (textsearch.Document, stop words
// included, so positions count them) are stored space-separated in SearchPath(field)
// (MetaField.s.<field>), a text field indexed with the built-in "standard" analyzer, which
// splits them back at the spaces. Elasticsearch's own analysis chains are not used: the
// stemmer, asciifolding and pattern tokenizer live in the analysis-common module, which an
// embedded node (scripts/services/elasticsearch) does not have, and a server-side chain
// could only approximate Go's.
//
// Search is a match query (operator AND) on the operand's terms. SearchPhrase is a
// match_phrase on the operand's tokens with each stop word replaced by PhraseGap, which the
// index's PhraseAnalyzer removes while keeping its position: a stop word of a phrase stands
// for exactly one word, as on every backend.

// SearchMeta is the member of MetaField holding the analysed terms of searchable fields.
const SearchMeta = "s"

// PhraseAnalyzer is the analyzer of SearchPhrase operands, defined in every index's
// settings (Analysis): the standard analyzer with PhraseGap as its only stop word.
const PhraseAnalyzer = "repokit_phrase"

// PhraseGap stands for a stop word of a SearchPhrase operand. Only operands carry it, and
// PhraseAnalyzer drops it, so it matches nothing by itself; a document holding the word
// "0repokitgap0" is unaffected (the gap still stands for one position).
const PhraseGap = "0repokitgap0"

// SearchPath returns the document path of the terms of searchable field json.
func SearchPath(json string) string { return MetaField + "." + SearchMeta + "." + json }

// Analysis returns the index settings' "analysis" object: PhraseAnalyzer. Every index
// repokit creates carries it (analyzers cannot be added to an open index).
func Analysis() map[string]any {
	return map[string]any{"analyzer": map[string]any{
		PhraseAnalyzer: map[string]any{"type": "standard", "stopwords": []string{PhraseGap}},
	}}
}

// IndexSettings returns the settings of a new index: shards, replicas and Analysis.
func IndexSettings(shards, replicas int) map[string]any {
	return map[string]any{"number_of_shards": shards, "number_of_replicas": replicas, "analysis": Analysis()}
}

// searchMapping is the mapping of one field's terms in MetaField.s.
func searchMapping() obj { return obj{{"type", "text"}, {"analyzer", "standard"}} }

// DocumentTerms returns what SearchPath holds for a field value: its terms in lang,
// space-separated.
func DocumentTerms(lang, text string) string {
	return strings.Join(textsearch.Document(textsearch.Language(lang), text), " ")
}

// SearchTerms returns the query text of a Search operand's terms.
func SearchTerms(terms []textsearch.Term) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = t.Text
	}
	return strings.Join(parts, " ")
}

// PhraseTerms returns the query text of a SearchPhrase operand's terms: the terms in order,
// with PhraseGap at each position between them that a stop word held.
func PhraseTerms(terms []textsearch.Term) string {
	var parts []string
	for i, t := range terms {
		if i > 0 {
			for g := terms[i-1].Pos + 1; g < t.Pos; g++ {
				parts = append(parts, PhraseGap)
			}
		}
		parts = append(parts, t.Text)
	}
	return strings.Join(parts, " ")
}
