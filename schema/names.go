package schema

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// initialisms are the words GoName writes in upper case: golint's and staticcheck's (ST1003)
// lists, as gopls reports them, and SKU.
var initialisms = map[string]bool{
	"acl": true, "amqp": true, "api": true, "ascii": true, "cpu": true, "css": true, "db": true,
	"dns": true, "eof": true, "gid": true, "guid": true, "html": true, "http": true, "https": true,
	"id": true, "ip": true, "json": true, "lhs": true, "qps": true, "ram": true, "rhs": true,
	"rpc": true, "rtp": true, "sip": true, "sku": true, "sla": true, "smtp": true, "sql": true,
	"ssh": true, "tcp": true, "tls": true, "ts": true, "ttl": true, "udp": true, "ui": true,
	"uid": true, "uri": true, "url": true, "utf8": true, "uuid": true, "vm": true, "xml": true,
	"xmpp": true, "xsrf": true, "xss": true,
}

// wordsNotPlurals are words that end like a plural initialism (RAMs, SIPs, TSs) but are
// English words: GoName("rams") is "Rams".
var wordsNotPlurals = map[string]bool{"rams": true, "sips": true, "tss": true}

// GoName returns the exported Go name of a schema name: the name is split into words at every
// character that is not a letter or digit, each word gets an upper-case first letter, and a
// word that is a common initialism (in any case) is written in upper case, its plural with a
// lower-case s: ID, URL, UUID, API, HTTP, JSON, SKU, IP, HTML, SQL, DB, TLS, ... (golint's and
// staticcheck's list), IDs, URLs, APIs. The rest of each word is kept as written, so
// GoName("order_line") == GoName("OrderLine") == "OrderLine", GoName("product_id") ==
// "ProductID", GoName("post_ids") == "PostIDs" and GoName("api_key") == "APIKey".
// For a name without letters or digits it returns "".
func GoName(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	var b strings.Builder
	for _, w := range words {
		lw := strings.ToLower(w)
		if initialisms[lw] {
			b.WriteString(strings.ToUpper(w))
			continue
		}
		if one, ok := strings.CutSuffix(lw, "s"); ok && initialisms[one] && !wordsNotPlurals[lw] {
			b.WriteString(strings.ToUpper(one) + "s")
			continue
		}
		r, n := utf8.DecodeRuneInString(w)
		b.WriteRune(unicode.ToUpper(r))
		b.WriteString(w[n:])
	}
	return b.String()
}

// EnumGoName returns the Go name suffix of an enum value's constant (the generator writes
// <Record><Field><EnumGoName(value)>): GoName of the value with every character other than an
// ASCII letter or digit taken as a word separator, so EnumGoName("in-progress") ==
// "InProgress". It returns "" for a value without ASCII letters or digits; Validate rejects
// such values and values whose EnumGoName collide.
func EnumGoName(value string) string {
	clean := strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf && (isASCIILetter(byte(r)) || isDigit(byte(r))) {
			return r
		}
		return '_'
	}, value)
	return GoName(clean)
}

// SnakeName returns the lower-case snake_case form of a name: an underscore goes before an
// upper-case letter that follows a lower-case letter or digit, or that starts a new word after
// a run of upper-case letters, and every letter is lower-cased. SnakeName("OrderLine") ==
// "order_line", SnakeName("HTTPServer") == "http_server", SnakeName("order_line") == "order_line".
// It is the default table, index and key prefix of a record.
func SnakeName(name string) string {
	rs := []rune(name)
	var b strings.Builder
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// maxIdentLen is PostgreSQL's identifier limit in bytes (NAMEDATALEN-1).
const maxIdentLen = 63

// maxIndexLen is Elasticsearch's index name limit in bytes.
const maxIndexLen = 255

// validRecordName reports whether s matches ^[A-Za-z][A-Za-z0-9_]*$.
func validRecordName(s string) bool {
	if s == "" || !isASCIILetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isASCIILetter(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

// validFieldName reports whether s matches ^[a-z][a-z0-9_]*$.
func validFieldName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

// validTableName reports whether s matches ^[A-Za-z_][A-Za-z0-9_]*$.
func validTableName(s string) bool {
	if s == "" || (!isASCIILetter(s[0]) && s[0] != '_') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isASCIILetter(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

// indexNameProblem returns why s is not a valid Elasticsearch index name, or "".
func indexNameProblem(s string) string {
	switch {
	case s == "":
		return "is empty"
	case s == "." || s == "..":
		return "cannot be . or .."
	case len(s) > maxIndexLen:
		return "is longer than 255 bytes"
	case strings.ContainsAny(s[:1], "_-+"):
		return "cannot start with _, - or +"
	case s != strings.ToLower(s):
		return "must be lower case"
	}
	for _, r := range s {
		if strings.ContainsRune(`\/*?"<>|,#: `, r) {
			return "cannot contain spaces or any of \\ / * ? \" < > | , # :"
		}
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return "cannot contain control characters or invalid UTF-8"
		}
	}
	return ""
}

// prefixProblem returns why s is not a valid S3 key prefix, or "".
func prefixProblem(s string) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > 512:
		return "is longer than 512 bytes"
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return "must be printable ASCII without spaces"
		}
	}
	switch {
	case strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/"):
		return "cannot start or end with /"
	case strings.Contains(s, "//"):
		return "cannot contain //"
	}
	for seg := range strings.SplitSeq(s, "/") {
		if seg == "." || seg == ".." {
			return "cannot have a . or .. segment"
		}
		if seg == ".repokit-unique" {
			return "cannot have a .repokit-unique segment (reserved for the S3 backend's reservations of unique values)"
		}
	}
	return ""
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool       { return c >= '0' && c <= '9' }
