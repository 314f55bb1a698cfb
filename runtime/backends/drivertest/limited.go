package drivertest

import (
	"github.com/repokit/repokit/internal/recordtest"
	"github.com/repokit/repokit/runtime/query"
)

// Limited is the record of the indexed-string limit cases (RunLimitTests): an indexed string,
// a unique string and an indexed list of strings, whose values the limit applies to, and a
// plain string, whose values it does not. It is described with internal/recordtest, the way
// the generator describes records, because the schema language allows no index on a list (a
// hand-built descriptor can: PostgreSQL then indexes it with GIN).
type Limited struct {
	ID            string
	Idx           *string  `record:",indexed"`
	Uniq          *string  `record:",unique"`
	Tags          []string `record:",indexed"`
	Note          *string
	RecordVersion string
}

// LimitedFields are the typed handles of Limited's fields.
var LimitedFields = struct {
	ID   query.StringField[Limited]
	Idx  query.StringField[Limited]
	Uniq query.StringField[Limited]
	Tags query.ListField[Limited, string]
	Note query.StringField[Limited]
}{
	ID:   query.NewStringField[Limited]("id"),
	Idx:  query.NewStringField[Limited]("idx"),
	Uniq: query.NewStringField[Limited]("uniq"),
	Tags: query.NewStringListField[Limited]("tags"),
	Note: query.NewStringField[Limited]("note"),
}

// LimitedQuery returns a query on Limited records.
func LimitedQuery() query.Query[Limited] { return query.New[Limited]() }

// LimitedSchema describes Limited (table, index and key prefix "limited"), with the
// Prepare of generated code.
var LimitedSchema = recordtest.MustNew[Limited]("Limited")
