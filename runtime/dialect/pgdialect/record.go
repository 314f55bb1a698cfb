package pgdialect

import (
	"fmt"
	"strconv"
	"time"

	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/query"
)

// DefaultSQL renders a schema default (as migrate.Field holds it: string, int64, float64
// or bool) as an SQL constant of the column's type: a time as a timestamptz literal, a uuid
// as a uuid literal.
func DefaultSQL(typ string, v any) (string, error) {
	switch x := v.(type) {
	case string:
		switch typ {
		case "time":
			tm, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return "", err
			}
			return Literal(query.NormalizeTime(tm).Format("2006-01-02T15:04:05.999999Z07:00")) + "::timestamptz", nil
		case "uuid":
			return Literal(x) + "::uuid", nil
		}
		return Literal(x), nil
	case int64:
		if typ == "float" {
			return strconv.FormatFloat(float64(x), 'g', -1, 64), nil
		}
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case bool:
		if x {
			return "TRUE", nil
		}
		return "FALSE", nil
	}
	return "", fmt.Errorf("value of Go type %T has no SQL form", v)
}

// RecordTableDef returns the table of a record's stored state (a migration's schema):
// the id column, then the fields with their defaults. It is the table the generator's
// postgres_schema.sql creates for the same record.
func RecordTableDef(r *migrate.Record) (TableDef, error) {
	t := TableDef{Table: r.Table, Columns: []ColumnDef{{Name: r.ID.Name, Kind: query.KindOf(r.ID.Type)}}}
	for i := range r.Fields {
		c, err := fieldColumn(&r.Fields[i])
		if err != nil {
			return t, fmt.Errorf("record %s: %w", r.Name, err)
		}
		t.Columns = append(t.Columns, c)
	}
	return t, nil
}

// fieldColumn returns the column of one field.
func fieldColumn(f *migrate.Field) (ColumnDef, error) {
	c := ColumnDef{Name: f.Name, Kind: query.KindOf(f.Type), List: f.List, Optional: !f.Required,
		Unique: f.Unique, Indexed: f.Indexed, OldName: f.OldName, Search: f.Search}
	if c.Kind == query.KindInvalid {
		return c, fmt.Errorf("field %s: unknown type %q", f.Name, f.Type)
	}
	if c.Kind == query.KindEnum {
		c.Enum = f.Values
	}
	if f.Default != nil {
		d, err := DefaultSQL(f.Type, f.Default)
		if err != nil {
			return c, fmt.Errorf("field %s: default: %w", f.Name, err)
		}
		c.Default = d
	}
	return c, nil
}
