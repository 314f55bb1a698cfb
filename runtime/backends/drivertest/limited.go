package drivertest

import (
	"slices"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// Limited is the record of the indexed-string limit cases (RunLimitTests): an indexed string,
// a unique string and an indexed list of strings, whose values the limit applies to, and a
// plain string, whose values it does not. It is described by hand, the way the generator
// describes records, because the schema language allows no index on a list (a hand-built
// descriptor can: PostgreSQL then indexes it with GIN).
type Limited struct {
	ID            string
	Idx           *string
	Uniq          *string
	Tags          []string
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

func optStr(p *string) (string, bool) {
	if p == nil {
		return "", false
	}
	return *p, true
}

func cloneStr(p *string) *string {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// LimitedSchema describes Limited (table, index and key prefix "limited").
var LimitedSchema = record.MustNew(&record.Desc[Limited]{
	Name: "Limited", Table: "limited", Index: "limited", Prefix: "limited",
	Fields: []record.Field[Limited]{
		{Name: "id", GoName: "ID", Kind: query.KindString, Column: "id", JSON: "id",
			Str: func(r *Limited) (string, bool) { return r.ID, true }},
		{Name: "idx", GoName: "Idx", Kind: query.KindString, Optional: true, Indexed: true, Column: "idx", JSON: "idx",
			Str: func(r *Limited) (string, bool) { return optStr(r.Idx) }},
		{Name: "uniq", GoName: "Uniq", Kind: query.KindString, Optional: true, Unique: true, Column: "uniq", JSON: "uniq",
			Str: func(r *Limited) (string, bool) { return optStr(r.Uniq) }},
		{Name: "tags", GoName: "Tags", Kind: query.KindString, List: true, Optional: true, Indexed: true, Column: "tags", JSON: "tags",
			Strs: func(r *Limited) []string { return r.Tags }},
		{Name: "note", GoName: "Note", Kind: query.KindString, Optional: true, Column: "note", JSON: "note",
			Str: func(r *Limited) (string, bool) { return optStr(r.Note) }},
	},
	GetID:      func(r *Limited) string { return r.ID },
	SetID:      func(r *Limited, id string) { r.ID = id },
	GetVersion: func(r *Limited) string { return r.RecordVersion },
	SetVersion: func(r *Limited, v string) { r.RecordVersion = v },
	Clone: func(r *Limited) Limited {
		c := *r
		c.Idx, c.Uniq, c.Note = cloneStr(r.Idx), cloneStr(r.Uniq), cloneStr(r.Note)
		c.Tags = slices.Clone(r.Tags)
		return c
	},
	Prepare: func(r *Limited) error {
		check := func(field string, p *string) error {
			if p == nil {
				return nil
			}
			if err := record.CheckString(*p); err != nil {
				return &record.FieldError{Record: "Limited", Field: field, Err: err}
			}
			return nil
		}
		for _, f := range []struct {
			name string
			p    *string
		}{{"id", &r.ID}, {"idx", r.Idx}, {"uniq", r.Uniq}, {"note", r.Note}} {
			if err := check(f.name, f.p); err != nil {
				return err
			}
		}
		for i := range r.Tags {
			if err := check("tags", &r.Tags[i]); err != nil {
				return err
			}
		}
		return nil
	},
	Project: func(dst, src *Limited, fields []int) {
		dst.ID = src.ID
		for _, i := range fields {
			switch i {
			case 1:
				dst.Idx = cloneStr(src.Idx)
			case 2:
				dst.Uniq = cloneStr(src.Uniq)
			case 3:
				dst.Tags = slices.Clone(src.Tags)
			case 4:
				dst.Note = cloneStr(src.Note)
			}
		}
	},
	Addr: func(r *Limited, field int) any {
		switch field {
		case 0:
			return &r.ID
		case 1:
			return &r.Idx
		case 2:
			return &r.Uniq
		case 3:
			return &r.Tags
		case 4:
			return &r.Note
		}
		return nil
	},
})
