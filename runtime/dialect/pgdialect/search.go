package pgdialect

import (
	"fmt"
	"strings"

	"github.com/repokit/repokit/runtime/textsearch"
)

// Full-text search on PostgreSQL. A searchable text field (ColumnDef.Search) gets a
// generated tsvector column (SearchColumn) computed with a text search configuration named
// after the field's language (SearchConfig) and a GIN index on it. The configurations make
// PostgreSQL's analysis equal package textsearch's:
//
//   - the text is first reduced to letters and digits (regexp_replace of every other run of
//     characters by a space, under the "C.utf8" collation so that non-ASCII letters are
//     letters), so PostgreSQL's parser only meets words and numbers — never e-mail
//     addresses, URLs, hyphenated words or file paths, which it would keep whole;
//   - every word goes through unaccent (a filtering dictionary) and then, for English, a
//     Snowball English stemmer dictionary without stop words (repokit_english_stem) or, for
//     simple and for tokens with digits, the simple dictionary: documents keep their stop
//     words, as in package textsearch, and the operand's stop words are dropped in Go.
//
// Queries never analyse on the server: SearchQuery renders the operand's terms (from
// textsearch.Operand) as a tsquery literal.

// SearchColumn returns the name of the generated tsvector column of searchable column col:
// "_tsv_" and col (a field name starts with a letter, so it cannot collide), shortened with
// a hash past 63 bytes like IndexName.
func SearchColumn(col string) string {
	n := "_tsv_" + col
	if len(n) <= 63 {
		return n
	}
	h := uint32(2166136261)
	for i := 0; i < len(n); i++ {
		h = (h ^ uint32(n[i])) * 16777619
	}
	return fmt.Sprintf("%s_%08x", n[:63-9], h)
}

// SearchConfig returns the text search configuration of a language: repokit_english or
// repokit_simple.
func SearchConfig(lang string) string { return "repokit_" + lang }

// searchExpr is the generation expression of col's tsvector column.
func searchExpr(col, lang string) string {
	return fmt.Sprintf("to_tsvector(%s::regconfig, regexp_replace(coalesce(%s, '') COLLATE \"C.utf8\", '[^[:alnum:]]+', ' ', 'g'))",
		Literal(SearchConfig(lang)), Quote(col))
}

// searchColumn returns the generated column of a searchable column, as a drift check
// compares it.
func (c ColumnDef) searchColumn() Column {
	return Column{Name: SearchColumn(c.Name), Type: "tsvector", Generated: searchExpr(c.Name, c.Search)}
}

// SearchIndexOf returns the GIN index on the tsvector column of searchable column c, and
// false when c is not searchable.
func (t TableDef) SearchIndexOf(c ColumnDef) (Index, bool) {
	if c.Search == "" {
		return Index{}, false
	}
	return Index{Name: IndexName(t.Table, c.Name, "search"), Column: SearchColumn(c.Name), GIN: true}, true
}

// AddSearchSQL returns the statement adding the tsvector column of searchable column c to
// an existing table (PostgreSQL computes it for every stored row, rewriting the table under
// an exclusive lock).
func (t TableDef) AddSearchSQL(c ColumnDef) string {
	return fmt.Sprintf("ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s", QuoteTable(t.Table), columnSQL(c.searchColumn(), ""))
}

// DropSearchSQL returns the statement dropping the tsvector column of column col (and with
// it its index).
func (t TableDef) DropSearchSQL(col string) string {
	return fmt.Sprintf("ALTER TABLE %s DROP COLUMN IF EXISTS %s", QuoteTable(t.Table), Quote(SearchColumn(col)))
}

// searchable reports whether some column of t is searchable.
func (t TableDef) searchable() bool {
	for _, c := range t.Columns {
		if c.Search != "" {
			return true
		}
	}
	return false
}

// SearchSetupSQL returns the idempotent DO block creating the unaccent extension and the
// text search configurations of every language (in the current schema, under an advisory
// lock so that concurrent callers do not race). The configurations name the unaccent
// dictionary in the schema the extension lives in, which need not be on the search path
// (a database has one unaccent extension, in whichever schema created it first). The role
// needs the CREATE privilege on the database (unaccent is a trusted extension) and on the
// current schema.
func SearchSetupSQL() string {
	var b strings.Builder
	b.WriteString("DO $repokit$\nDECLARE\n\tux text;\nBEGIN\n\tPERFORM pg_advisory_xact_lock(hashtext('repokit:textsearch'));\n")
	b.WriteString("\tCREATE EXTENSION IF NOT EXISTS unaccent;\n")
	b.WriteString("\tSELECT quote_ident(n.nspname) || '.unaccent' INTO ux FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent';\n")
	b.WriteString("\tIF NOT EXISTS (SELECT 1 FROM pg_ts_dict WHERE dictname = 'repokit_english_stem' AND dictnamespace::regnamespace::text = ANY (current_schemas(false))) THEN\n")
	b.WriteString("\t\tCREATE TEXT SEARCH DICTIONARY repokit_english_stem (TEMPLATE = pg_catalog.snowball, Language = english);\n\tEND IF;\n")
	for _, lang := range textsearch.Languages() {
		cfg := SearchConfig(string(lang))
		words := "simple"
		if lang == textsearch.English {
			words = "repokit_english_stem"
		}
		fmt.Fprintf(&b, "\tIF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = %s AND cfgnamespace::regnamespace::text = ANY (current_schemas(false))) THEN\n", Literal(cfg))
		fmt.Fprintf(&b, "\t\tCREATE TEXT SEARCH CONFIGURATION %s (COPY = pg_catalog.simple);\n", cfg)
		fmt.Fprintf(&b, "\t\tEXECUTE 'ALTER TEXT SEARCH CONFIGURATION %s ALTER MAPPING FOR asciiword, word, asciihword, hword, hword_asciipart, hword_part WITH ' || ux || ', %s';\n", cfg, words)
		fmt.Fprintf(&b, "\t\tEXECUTE 'ALTER TEXT SEARCH CONFIGURATION %s ALTER MAPPING FOR numword, numhword, hword_numpart, int, uint, float, sfloat, version WITH ' || ux || ', simple';\n", cfg)
		b.WriteString("\tEND IF;\n")
	}
	b.WriteString("END\n$repokit$")
	return b.String()
}

// SearchQuery renders the terms of a Search (phrase false: every term, in any order) or
// SearchPhrase operand (phrase true: the terms at their relative positions, <N> being the
// distance) as a tsquery literal, e.g. 'quick' & 'fox' or 'quick' <2> 'fox'. No terms gives
// "", which matches nothing.
func SearchQuery(terms []textsearch.Term, phrase bool) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			if phrase {
				fmt.Fprintf(&b, " <%d> ", t.Pos-terms[i-1].Pos)
			} else {
				b.WriteString(" & ")
			}
		}
		b.WriteString("'" + strings.ReplaceAll(strings.ReplaceAll(t.Text, `\`, `\\`), "'", "''") + "'")
	}
	return b.String()
}
