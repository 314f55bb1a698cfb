// Package schema is the ent schema of the benchmark's product table (the same columns as
// repokit's generated shopdb products table).
package schema

import (
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"

	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// Product holds the schema definition for the Product entity.
type Product struct {
	ent.Schema
}

// Annotations map Product to the benchmark's table.
func (Product) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "bench_products"}}
}

// Fields of the Product.
func (Product) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").StorageKey("sku"),
		field.String("name"),
		field.String("description").Optional().Nillable(),
		field.Float("price"),
		field.Int64("stock"),
		field.String("status").Optional().Nillable(),
		field.Other("categories", TextArray{}).Optional().SchemaType(map[string]string{dialect.Postgres: "text[]"}),
		field.Other("ratings", IntArray{}).Optional().SchemaType(map[string]string{dialect.Postgres: "bigint[]"}),
		field.Bytes("attributes").Optional().SchemaType(map[string]string{dialect.Postgres: "json"}),
		field.Bytes("thumbnail").Optional(),
		field.Time("updated_at").Optional().Nillable(),
		field.Int64("repokit_version"),
	}
}

// TextArray is a text[] value.
type TextArray []string

// Value renders a PostgreSQL array literal.
func (a TextArray) Value() (driver.Value, error) {
	if a == nil {
		return nil, nil
	}
	q := make([]string, len(a))
	for i, s := range a {
		q[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	return "{" + strings.Join(q, ",") + "}", nil
}

// Scan is not used by the benchmark (it only writes).
func (a *TextArray) Scan(v any) error { return fmt.Errorf("TextArray.Scan: not supported (%T)", v) }

// IntArray is a bigint[] value.
type IntArray []int64

// Value renders a PostgreSQL array literal.
func (a IntArray) Value() (driver.Value, error) {
	if a == nil {
		return nil, nil
	}
	q := make([]string, len(a))
	for i, v := range a {
		q[i] = strconv.FormatInt(v, 10)
	}
	return "{" + strings.Join(q, ",") + "}", nil
}

// Scan is not used by the benchmark (it only writes).
func (a *IntArray) Scan(v any) error { return fmt.Errorf("IntArray.Scan: not supported (%T)", v) }
