package pgdialect

import (
	"fmt"
	"strings"

	"github.com/repokit/repokit/runtime/query"
)

// AggKey is one group key of an aggregation, as AggregateSQL renders it.
type AggKey struct {
	Column string       // the column's name (unquoted)
	Kind   query.Kind   // the field's kind (the element kind of a list)
	List   bool         // group by each distinct element
	Bucket query.Bucket // BucketDay or BucketMonth for time keys
}

// AggMetric is one metric of an aggregation, as AggregateSQL renders it.
type AggMetric struct {
	Op     query.AggOp
	Column string     // the column's name (unquoted)
	Kind   query.Kind // the field's kind
}

// MaxExactSum is the magnitude AggregateSQL clamps int sums to (2^53): a sum that reaches it
// is rejected by the runtime, as on every backend (Elasticsearch sums in float64).
const MaxExactSum = "9007199254740992"

// AggregateSQL returns one SELECT ... GROUP BY statement over table (already quoted, e.g.
// QuoteTable's result) for the records matching where (a condition over the table's
// unqualified columns; "" for every record). It selects the group keys in order, then
// count(*), then the metrics in order:
//   - a list key is the element of a LEFT JOIN LATERAL over the array's distinct elements
//     (unnest), so a record is counted once per distinct element, and a record with an
//     empty or missing list once, with a NULL key;
//   - a time key is date_trunc('day' or 'month', column, 'UTC');
//   - a uuid key or count-distinct is over the text form;
//   - an int sum is the numeric sum clamped to ±MaxExactSum, as bigint; an avg is the sum
//     in double precision divided by the count (NULL over no values).
//
// Identifiers are quoted; the statement has no parameters of its own (where's are $n). An
// unknown metric operation is an error.
func AggregateSQL(table, where string, keys []AggKey, metrics []AggMetric) (string, error) {
	var sel, from, group strings.Builder
	from.WriteString("(SELECT * FROM ")
	from.WriteString(table)
	if where != "" {
		from.WriteString(" WHERE ")
		from.WriteString(where)
	}
	from.WriteString(`) AS "rk_t"`)
	col := func(c string) string { return `"rk_t".` + Quote(c) }
	for i, k := range keys {
		var expr string
		if k.List {
			elem := `"rk_e"`
			if k.Kind == query.KindTime && k.Bucket != query.BucketNone {
				elem = trunc(k.Bucket, elem)
			} else if k.Kind == query.KindUUID {
				elem += "::text"
			}
			alias := fmt.Sprintf(`"rk_g%d"`, i)
			fmt.Fprintf(&from, ` LEFT JOIN LATERAL (SELECT DISTINCT %s AS "rk_v" FROM unnest(%s) AS "rk_u"("rk_e")) AS %s ON TRUE`,
				elem, col(k.Column), alias)
			expr = alias + `."rk_v"`
		} else {
			expr = col(k.Column)
			if k.Kind == query.KindTime && k.Bucket != query.BucketNone {
				expr = trunc(k.Bucket, expr)
			} else if k.Kind == query.KindUUID {
				expr += "::text"
			}
		}
		if i > 0 {
			sel.WriteString(", ")
			group.WriteString(", ")
		}
		sel.WriteString(expr)
		fmt.Fprintf(&group, "%d", i+1)
	}
	if len(keys) > 0 {
		sel.WriteString(", ")
	}
	sel.WriteString("count(*)")
	for _, m := range metrics {
		c := col(m.Column)
		sel.WriteString(", ")
		switch m.Op {
		case query.AggCount:
			fmt.Fprintf(&sel, "count(%s)", c)
		case query.AggCountDistinct:
			fmt.Fprintf(&sel, "count(DISTINCT %s)", c)
		case query.AggSum:
			if m.Kind == query.KindInt {
				// GREATEST and LEAST skip NULLs: a sum over no values stays NULL by the CASE.
				fmt.Fprintf(&sel, "CASE WHEN count(%s) = 0 THEN NULL ELSE LEAST(GREATEST(sum(%s), -%s), %s)::bigint END",
					c, c, MaxExactSum, MaxExactSum)
			} else {
				fmt.Fprintf(&sel, "sum(%s)", c)
			}
		case query.AggAvg:
			// sum / count in double precision, as the other backends compute it (PostgreSQL's
			// avg(double precision) also sums squares, which overflows for values near 1e300).
			fmt.Fprintf(&sel, "(sum(%s)::double precision / NULLIF(count(%s), 0))", c, c)
		case query.AggMin:
			fmt.Fprintf(&sel, "min(%s)", c)
		case query.AggMax:
			fmt.Fprintf(&sel, "max(%s)", c)
		default:
			return "", fmt.Errorf("%w: unknown aggregation %s", query.ErrBadQuery, m.Op)
		}
	}
	s := "SELECT " + sel.String() + " FROM " + from.String()
	if len(keys) > 0 {
		s += " GROUP BY " + group.String()
	}
	return s, nil
}

func trunc(b query.Bucket, expr string) string {
	return "date_trunc(" + Literal(b.String()) + ", " + expr + ", 'UTC')"
}
