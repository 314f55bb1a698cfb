package textsearch

import "slices"

// englishWords is the Snowball English stop-word list exactly as github.com/kljensen/snowball
// v0.10.0 (english.IsStopWord) and PostgreSQL's english.stop ship it (127 words; a test
// checks each against english.IsStopWord). Elasticsearch's search analyzer is given this list.
var englishWords = []string{
	"a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any",
	"are", "as", "at", "be", "because", "been", "before", "being", "below", "between",
	"both", "but", "by", "can", "did", "do", "does", "doing", "don", "down", "during",
	"each", "few", "for", "from", "further", "had", "has", "have", "having", "he",
	"her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in",
	"into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself",
	"no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our",
	"ours", "ourselves", "out", "over", "own", "s", "same", "she", "should", "so", "some",
	"such", "t", "than", "that", "the", "their", "theirs", "them", "themselves", "then",
	"there", "these", "they", "this", "those", "through", "to", "too", "under", "until",
	"up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who",
	"whom", "why", "will", "with", "you", "your", "yours", "yourself", "yourselves",
}

var englishStop = func() map[string]struct{} {
	m := make(map[string]struct{}, len(englishWords))
	for _, w := range englishWords {
		m[w] = struct{}{}
	}
	return m
}()

// StopWords returns the stop words of lang (none for Simple), sorted.
func StopWords(lang Language) []string {
	if lang != English {
		return nil
	}
	out := slices.Clone(englishWords)
	slices.Sort(out)
	return out
}
