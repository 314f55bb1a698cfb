package pgdialect

import "github.com/repokit/repokit/runtime/migrate"

// searches renders the fields that became searchable, changed language or stopped being
// searchable (set_search, or a new searchable field): the old tsvector column is dropped
// (its index with it), then the text search configurations are ensured, the generated
// column is added (PostgreSQL computes it for every stored row, rewriting the table under
// an exclusive lock) and its GIN index is built concurrently.
func (r *renderer) searches(rec *migrate.Record, td TableDef, pairs []columnPair) {
	setup := false
	for _, p := range pairs {
		if p.was.Search == p.want.Search {
			continue
		}
		if p.was.Search != "" {
			r.add(td.DropSearchSQL(p.want.Name))
		}
		if p.want.Search == "" {
			continue
		}
		if !setup {
			r.add(SearchSetupSQL())
			setup = true
		}
		r.add(td.AddSearchSQL(p.want))
		if ix, ok := td.SearchIndexOf(p.want); ok {
			r.createIndex(rec, ix)
		}
	}
}
