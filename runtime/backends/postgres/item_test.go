package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// item is a test-local record, described the way the generator describes records (see
// drivertest/things): a text id, a unique optional email, an enum, a list<uuid> (uuid[]
// column) and an optional time. It does not depend on the generated test packages.
type item struct {
	ID            string
	Email         *string
	Kind          string
	Refs          []string
	At            *time.Time
	RecordVersion string
}

var itemKinds = []string{"a", "b", "c"}

var itemFields = struct {
	ID    query.StringField[item]
	Email query.StringField[item]
	Kind  query.StringField[item]
	Refs  query.ListField[item, string]
	At    query.TimeField[item]
}{
	ID:    query.NewStringField[item]("id"),
	Email: query.NewStringField[item]("email"),
	Kind:  query.NewStringField[item]("kind"),
	Refs:  query.NewStringListField[item]("refs"),
	At:    query.NewTimeField[item]("at"),
}

func itemQuery() query.Query[item] { return query.New[item]() }

var itemSchema = record.MustNew(&record.Desc[item]{
	Name:  "item",
	Table: "item",
	Fields: []record.Field[item]{
		{Name: "id", GoName: "ID", Kind: query.KindString, Column: "id", JSON: "id",
			Str: func(r *item) (string, bool) { return r.ID, true }},
		{Name: "email", GoName: "Email", Kind: query.KindString, Optional: true, Unique: true, Column: "email", JSON: "email",
			Str: func(r *item) (string, bool) {
				if r.Email == nil {
					return "", false
				}
				return *r.Email, true
			}},
		{Name: "kind", GoName: "Kind", Kind: query.KindEnum, Column: "kind", JSON: "kind", Enum: itemKinds,
			Str: func(r *item) (string, bool) { return r.Kind, true }},
		{Name: "refs", GoName: "Refs", Kind: query.KindUUID, List: true, Optional: true, Indexed: true, Column: "refs", JSON: "refs",
			Strs: func(r *item) []string { return r.Refs }},
		{Name: "at", GoName: "At", Kind: query.KindTime, Optional: true, Column: "at", JSON: "at",
			Time: func(r *item) (time.Time, bool) {
				if r.At == nil {
					return time.Time{}, false
				}
				return *r.At, true
			}},
	},
	GetID:      func(r *item) string { return r.ID },
	SetID:      func(r *item, id string) { r.ID = id },
	GetVersion: func(r *item) string { return r.RecordVersion },
	SetVersion: func(r *item, v string) { r.RecordVersion = v },
	Clone: func(r *item) item {
		c := *r
		if r.Email != nil {
			v := *r.Email
			c.Email = &v
		}
		c.Refs = slices.Clone(r.Refs)
		if r.At != nil {
			v := *r.At
			c.At = &v
		}
		return c
	},
	// As generated: every value checked, times normalized; a time outside PostgreSQL's
	// timestamptz range passes (record.Prepare has no range check).
	Prepare: func(r *item) error {
		fe := func(f string, err error) error { return &record.FieldError{Record: "item", Field: f, Err: err} }
		if err := record.CheckString(r.ID); err != nil {
			return fe("id", err)
		}
		if r.Email != nil {
			if err := record.CheckString(*r.Email); err != nil {
				return fe("email", err)
			}
		}
		if err := record.CheckEnum(r.Kind, itemKinds); err != nil {
			return fe("kind", err)
		}
		for _, v := range r.Refs {
			if err := record.CheckUUID(v); err != nil {
				return fe("refs", err)
			}
		}
		if r.At != nil {
			v := record.NormalizeTime(*r.At)
			r.At = &v
		}
		return nil
	},
	Project: func(dst, src *item, fields []int) {
		dst.ID = src.ID
		for _, i := range fields {
			switch i {
			case 1:
				dst.Email = nil
				if src.Email != nil {
					v := *src.Email
					dst.Email = &v
				}
			case 2:
				dst.Kind = src.Kind
			case 3:
				dst.Refs = slices.Clone(src.Refs)
			case 4:
				dst.At = nil
				if src.At != nil {
					v := *src.At
					dst.At = &v
				}
			}
		}
	},
	Addr: func(r *item, field int) any {
		switch field {
		case 0:
			return &r.ID
		case 1:
			return &r.Email
		case 2:
			return &r.Kind
		case 3:
			return &r.Refs
		case 4:
			return &r.At
		}
		return nil
	},
})

// itemRepo returns a repository of items on a fresh table of h's server.
func itemRepo(t *testing.T, h harness, opts ...postgres.Option) (context.Context, *repo.Collection[item], string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	table := tableName(t, h.m, h.cfg, "item")
	d, err := postgres.New(ctx, h.m, h.cfg, itemSchema, append([]postgres.Option{postgres.WithTable(table)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	r := repo.New(itemSchema, d)
	t.Cleanup(func() { _ = r.Close() })
	return ctx, r, table
}

func ptr[V any](v V) *V { return &v }

// outOfRange is a time that record.Prepare accepts and PostgreSQL's timestamptz does not
// (its range starts in 4713 BC): the server rejects it with 22008.
var outOfRange = time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC)

func itemIDs(recs []item) []string {
	out := make([]string, len(recs))
	for i := range recs {
		out[i] = recs[i].ID
	}
	return out
}
