package elasticsearch

import "strings"

// docPath returns id as a URL path segment that Elasticsearch can only read as a document
// id: every byte but ASCII letters, digits and "-" is percent-encoded. url.PathEscape keeps
// "_" and "." as they are, so the id "_search" made GET /{index}/_doc/_search, which
// Elasticsearch routes to the search API, and "_mapping" the mapping API; an encoded "%5F"
// never matches an API's name, and Elasticsearch decodes it back into the id. Dots are
// encoded too, so that "." and ".." are never read as path segments of their own.
func docPath(id string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(id) * 3)
	for i := 0; i < len(id); i++ {
		c := id[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
