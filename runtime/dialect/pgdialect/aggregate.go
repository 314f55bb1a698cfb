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
//   - a uuid key is its text form;
//   - an int sum is the numeric sum clamped to ±MaxExactSum, as bigint; an avg is the sum
//     in double precision divided by the count (NULL over no values).
//
// With a list key and no count distinct the statement aggregates in two steps: first per
// distinct tuple of scalar keys and whole arrays (a hash aggregate over the rows), then per
// element of those few arrays, merging the partial counts, sums, minima and maxima; a
// lateral unnest per row costs as much as reading the rows out. Float sums then add partial
// sums (docs/semantics.md allows the last bits to differ by order of addition).
//
// Identifiers are quoted; the statement has no parameters of its own (where's are $n). An
// unknown metric operation is an error.
func AggregateSQL(table, where string, keys []AggKey, metrics []AggMetric) (string, error) {
	src := "(SELECT * FROM " + table
	if where != "" {
		src += " WHERE " + where
	}
	src += `) AS "rk_t"`
	twoStep := false
	for _, k := range keys {
		twoStep = twoStep || k.List
	}
	for _, m := range metrics {
		switch m.Op {
		case query.AggCount, query.AggSum, query.AggAvg, query.AggMin, query.AggMax:
		case query.AggCountDistinct:
			twoStep = false
		default:
			return "", fmt.Errorf("%w: unknown aggregation %s", query.ErrBadQuery, m.Op)
		}
	}
	if twoStep {
		return twoStepSQL(src, keys, metrics), nil
	}
	var sel, from strings.Builder
	from.WriteString(src)
	col := func(c string) string { return `"rk_t".` + Quote(c) }
	for i, k := range keys {
		if k.List {
			sel.WriteString(lateral(&from, i, k, col(k.Column)))
		} else {
			sel.WriteString(scalarKey(k, col(k.Column)))
		}
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
			sel.WriteString(sumOf(m.Kind, "sum("+c+")", "count("+c+")"))
		case query.AggAvg:
			fmt.Fprintf(&sel, "(sum(%s)::double precision / NULLIF(count(%s), 0))", c, c)
		case query.AggMin, query.AggMax:
			fmt.Fprintf(&sel, "%s(%s)", m.Op, c)
		}
	}
	return "SELECT " + sel.String() + " FROM " + from.String() + groupBy(len(keys)), nil
}

// twoStepSQL is AggregateSQL's two-step form (see there).
func twoStepSQL(src string, keys []AggKey, metrics []AggMetric) string {
	var in, out, from strings.Builder
	col := func(c string) string { return `"rk_t".` + Quote(c) }
	part := func(i int, s string) string { return fmt.Sprintf(`"rk_i"."rk_p%d%s"`, i, s) }
	for i, k := range keys {
		if k.List {
			fmt.Fprintf(&in, `%s AS "rk_k%d", `, col(k.Column), i)
		} else {
			fmt.Fprintf(&in, `%s AS "rk_k%d", `, scalarKey(k, col(k.Column)), i)
		}
	}
	in.WriteString(`count(*) AS "rk_n"`)
	for i, m := range metrics {
		c := col(m.Column)
		switch m.Op {
		case query.AggCount:
			fmt.Fprintf(&in, `, count(%s) AS "rk_p%dn"`, c, i)
		case query.AggSum, query.AggAvg:
			if m.Op == query.AggAvg {
				c += "::double precision"
			}
			fmt.Fprintf(&in, `, sum(%s) AS "rk_p%ds", count(%s) AS "rk_p%dn"`, c, i, col(m.Column), i)
		case query.AggMin, query.AggMax:
			fmt.Fprintf(&in, `, %s(%s) AS "rk_p%dm"`, m.Op, c, i)
		}
	}
	from.WriteString("(SELECT " + in.String() + " FROM " + src + groupBy(len(keys)) + `) AS "rk_i"`)
	for i, k := range keys {
		key := fmt.Sprintf(`"rk_i"."rk_k%d"`, i)
		if k.List {
			out.WriteString(lateral(&from, i, k, key))
		} else {
			out.WriteString(key)
		}
		out.WriteString(", ")
	}
	out.WriteString(`sum("rk_i"."rk_n")::bigint`)
	for i, m := range metrics {
		out.WriteString(", ")
		switch m.Op {
		case query.AggCount:
			fmt.Fprintf(&out, "sum(%s)::bigint", part(i, "n"))
		case query.AggSum:
			out.WriteString(sumOf(m.Kind, "sum("+part(i, "s")+")", "sum("+part(i, "n")+")"))
		case query.AggAvg:
			fmt.Fprintf(&out, "(sum(%s) / NULLIF(sum(%s), 0))", part(i, "s"), part(i, "n"))
		case query.AggMin, query.AggMax:
			fmt.Fprintf(&out, "%s(%s)", m.Op, part(i, "m"))
		}
	}
	return "SELECT " + out.String() + " FROM " + from.String() + groupBy(len(keys))
}

// lateral appends to from the LEFT JOIN LATERAL over the distinct elements of list key i
// (the array expression arr) and returns the element's expression.
func lateral(from *strings.Builder, i int, k AggKey, arr string) string {
	elem := `"rk_e"`
	if k.Kind == query.KindTime && k.Bucket != query.BucketNone {
		elem = trunc(k.Bucket, elem)
	} else if k.Kind == query.KindUUID {
		elem += "::text"
	}
	alias := fmt.Sprintf(`"rk_g%d"`, i)
	fmt.Fprintf(from, ` LEFT JOIN LATERAL (SELECT DISTINCT %s AS "rk_v" FROM unnest(%s) AS "rk_u"("rk_e")) AS %s ON TRUE`,
		elem, arr, alias)
	return alias + `."rk_v"`
}

func scalarKey(k AggKey, c string) string {
	if k.Kind == query.KindTime && k.Bucket != query.BucketNone {
		return trunc(k.Bucket, c)
	}
	if k.Kind == query.KindUUID {
		return c + "::text"
	}
	return c
}

// sumOf renders a sum: for ints the numeric sum clamped to ±MaxExactSum as bigint, NULL
// when count is 0 (GREATEST and LEAST skip NULLs, so the CASE keeps an empty sum NULL).
func sumOf(k query.Kind, sum, count string) string {
	if k != query.KindInt {
		return sum
	}
	return fmt.Sprintf("CASE WHEN %s = 0 THEN NULL ELSE LEAST(GREATEST(%s, -%s), %s)::bigint END",
		count, sum, MaxExactSum, MaxExactSum)
}

func groupBy(n int) string {
	if n == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(" GROUP BY ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d", i+1)
	}
	return b.String()
}

func trunc(b query.Bucket, expr string) string {
	return "date_trunc(" + Literal(b.String()) + ", " + expr + ", 'UTC')"
}
