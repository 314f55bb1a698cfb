package postgres_test

import (
	"fmt"

	"github.com/repokit/repokit/internal/recordtest"
	"github.com/repokit/repokit/runtime/migrate"
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
	Status        *string  `record:",enum=draft|active"`
	Label         *string  // v1 "label", v2 "title"
	Stock         *int64   // v1
	StockF        *float64 `record:"-"` // v2 "stock"
	Color         *string  `record:"-"` // v2
	Weight        float64  `record:"-"` // v2
	RecordVersion string
}

// prodDesc returns the descriptor of prod at version 1 or 2 on table.
func prodDesc(table string, v2 bool) *record.Desc[prod] {
	opts := []recordtest.Option{recordtest.Table(table), recordtest.Index(""), recordtest.Prefix("")}
	if v2 {
		opts = append(opts, recordtest.Tag("SKU", ",unique"), recordtest.Tag("Category", ",indexed"),
			recordtest.Tag("Status", ",enum=draft|active|archived"), recordtest.Tag("Label", "title"),
			recordtest.Tag("Stock", "-"), recordtest.Tag("StockF", "stock"), recordtest.Tag("Color", ""), recordtest.Tag("Weight", ""))
	}
	return recordtest.MustNew[prod]("Prod", opts...)
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
	ID            string `record:",uuid"`
	ProdID        string `record:",indexed"`
	RecordVersion string
}

func reviewDesc(table string) *record.Desc[review] {
	return recordtest.MustNew[review]("Review", recordtest.Table(table+"_review"), recordtest.Index(""), recordtest.Prefix(""))
}
