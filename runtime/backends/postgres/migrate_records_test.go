package postgres_test

import (
	"fmt"

	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// prod is the record of the migration tests, in two versions: v1 (name, sku, category,
// status, label, stock as int) and v2 (sku unique, category indexed, status with the enum
// value "archived", label renamed title, stock widened to float, color added, weight added
// required with default 1). One Go type holds both; each version's descriptor maps the
// fields it has.
type prod struct {
	ID            string
	Name          string
	SKU           *string
	Category      *string
	Status        *string
	Label         *string // v1 "label", v2 "title"
	Stock         *int64  // v1
	StockF        *float64
	Color         *string
	Weight        float64
	RecordVersion string
}

// pf is one field of a prod descriptor with its accessors.
type pf struct {
	f    record.Field[prod]
	addr func(*prod) any
	cp   func(dst, src *prod)
}

func optStr(name string, kind query.Kind, p func(*prod) **string) pf {
	return pf{
		f: record.Field[prod]{Name: name, GoName: name, Kind: kind, Optional: true, Column: name, JSON: name,
			Str: func(r *prod) (string, bool) {
				if v := *p(r); v != nil {
					return *v, true
				}
				return "", false
			}},
		addr: func(r *prod) any { return p(r) },
		cp: func(dst, src *prod) {
			*p(dst) = nil
			if v := *p(src); v != nil {
				c := *v
				*p(dst) = &c
			}
		},
	}
}

func prodDesc(table string, v2 bool) *record.Desc[prod] {
	fields := []pf{
		{f: record.Field[prod]{Name: "id", GoName: "ID", Kind: query.KindString, Column: "id", JSON: "id",
			Str: func(r *prod) (string, bool) { return r.ID, true }}, addr: func(r *prod) any { return &r.ID }, cp: func(d, s *prod) { d.ID = s.ID }},
		{f: record.Field[prod]{Name: "name", GoName: "Name", Kind: query.KindString, Column: "name", JSON: "name",
			Str: func(r *prod) (string, bool) { return r.Name, true }}, addr: func(r *prod) any { return &r.Name }, cp: func(d, s *prod) { d.Name = s.Name }},
		optStr("sku", query.KindString, func(r *prod) **string { return &r.SKU }),
		optStr("category", query.KindString, func(r *prod) **string { return &r.Category }),
		optStr("status", query.KindEnum, func(r *prod) **string { return &r.Status }),
	}
	fields[4].f.Enum = []string{"draft", "active"}
	if !v2 {
		fields = append(fields, optStr("label", query.KindString, func(r *prod) **string { return &r.Label }),
			pf{f: record.Field[prod]{Name: "stock", GoName: "Stock", Kind: query.KindInt, Optional: true, Column: "stock", JSON: "stock",
				Int: func(r *prod) (int64, bool) {
					if r.Stock == nil {
						return 0, false
					}
					return *r.Stock, true
				}}, addr: func(r *prod) any { return &r.Stock }, cp: func(d, s *prod) { d.Stock = clonePtr(s.Stock) }})
	} else {
		fields[2].f.Unique = true
		fields[3].f.Indexed = true
		fields[4].f.Enum = []string{"draft", "active", "archived"}
		fields = append(fields, optStr("title", query.KindString, func(r *prod) **string { return &r.Label }),
			pf{f: record.Field[prod]{Name: "stock", GoName: "StockF", Kind: query.KindFloat, Optional: true, Column: "stock", JSON: "stock",
				Float: func(r *prod) (float64, bool) {
					if r.StockF == nil {
						return 0, false
					}
					return *r.StockF, true
				}}, addr: func(r *prod) any { return &r.StockF }, cp: func(d, s *prod) { d.StockF = clonePtr(s.StockF) }},
			optStr("color", query.KindString, func(r *prod) **string { return &r.Color }),
			pf{f: record.Field[prod]{Name: "weight", GoName: "Weight", Kind: query.KindFloat, Column: "weight", JSON: "weight",
				Float: func(r *prod) (float64, bool) { return r.Weight, true }}, addr: func(r *prod) any { return &r.Weight }, cp: func(d, s *prod) { d.Weight = s.Weight }})
	}
	d := &record.Desc[prod]{Name: "Prod", Table: table,
		GetID:      func(r *prod) string { return r.ID },
		SetID:      func(r *prod, id string) { r.ID = id },
		GetVersion: func(r *prod) string { return r.RecordVersion },
		SetVersion: func(r *prod, v string) { r.RecordVersion = v },
		Clone: func(r *prod) prod {
			c := *r
			for _, f := range fields {
				f.cp(&c, r)
			}
			return c
		},
		Prepare: func(r *prod) error {
			if r.Status != nil {
				return record.CheckEnum(*r.Status, fields[4].f.Enum)
			}
			return nil
		},
		Project: func(dst, src *prod, idx []int) {
			dst.ID = src.ID
			for _, i := range idx {
				fields[i].cp(dst, src)
			}
		},
		Addr: func(r *prod, i int) any { return fields[i].addr(r) },
	}
	for _, f := range fields {
		d.Fields = append(d.Fields, f.f)
	}
	return record.MustNew(d)
}

func clonePtr[V any](p *V) *V {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// prodState returns the stored state of prod, v1 or v2 (v2 with renamed_from set, as a
// desired schema built from schema files has it), plus the record "Review" in v2.
func prodState(table string, v2 bool) migrate.Schema {
	r := migrate.Record{Name: "Prod", Table: table, Index: table, Prefix: table, ID: migrate.ID{Name: "id", Type: "string"},
		Fields: []migrate.Field{
			{Name: "name", Type: "string", Required: true},
			{Name: "sku", Type: "string"},
			{Name: "category", Type: "string"},
			{Name: "status", Type: "enum", Values: []string{"draft", "active"}},
			{Name: "label", Type: "string"},
			{Name: "stock", Type: "int"},
		}}
	s := migrate.Schema{Records: []migrate.Record{r}}
	if !v2 {
		return s
	}
	f := s.Records[0].Fields
	f[1].Unique = true
	f[2].Indexed = true
	f[3].Values = []string{"draft", "active", "archived"}
	f[4].Name, f[4].RenamedFrom = "title", "label"
	f[5].Type = "float"
	s.Records[0].Fields = append(f, migrate.Field{Name: "color", Type: "string"},
		migrate.Field{Name: "weight", Type: "float", Required: true, Default: 1.0})
	s.Records = append(s.Records, migrate.Record{Name: "Review", Table: table + "_review", Index: table + "_review", Prefix: table + "_review",
		ID: migrate.ID{Name: "id", Type: "uuid"}, Fields: []migrate.Field{{Name: "prod_id", Type: "string", Required: true, Indexed: true}}})
	return s
}

func prodName(i int) string { return fmt.Sprintf("p%06d", i) }

// review is the record that the day-2 migration adds (prodState's "Review").
type review struct {
	ID            string
	ProdID        string
	RecordVersion string
}

func reviewDesc(table string) *record.Desc[review] {
	return record.MustNew(&record.Desc[review]{Name: "Review", Table: table + "_review",
		Fields: []record.Field[review]{
			{Name: "id", GoName: "ID", Kind: query.KindUUID, Column: "id", JSON: "id", Str: func(r *review) (string, bool) { return r.ID, true }},
			{Name: "prod_id", GoName: "ProdID", Kind: query.KindString, Indexed: true, Column: "prod_id", JSON: "prod_id", Str: func(r *review) (string, bool) { return r.ProdID, true }},
		},
		GetID: func(r *review) string { return r.ID }, SetID: func(r *review, id string) { r.ID = id },
		GetVersion: func(r *review) string { return r.RecordVersion }, SetVersion: func(r *review, v string) { r.RecordVersion = v },
		Clone:   func(r *review) review { return *r },
		Prepare: func(r *review) error { return record.CheckUUID(r.ID) },
		Project: func(dst, src *review, _ []int) { *dst = *src },
		Addr:    func(r *review, i int) any { return []any{&r.ID, &r.ProdID}[i] },
	})
}
