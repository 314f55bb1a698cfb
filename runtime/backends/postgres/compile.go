package postgres

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// compiler renders a query.Expr as a parameterized SQL condition. Every value is a
// parameter; identifiers are quoted; LIKE patterns are rendered from Like.Parts with this
// package's own escaping.
//
// Logic is two-valued, as on every backend: a condition on a missing value (NULL) is false,
// and NOT is rendered as NOT COALESCE(x, FALSE), so that NOT of a condition on a missing
// value is true. Conditions built from AND and OR only need no wrapping: with SQL's
// three-valued logic, their result collapses to the two-valued one where WHERE treats NULL
// as false.
type compiler[T any] struct {
	desc *record.Desc[T]
	b    strings.Builder
	args []any
}

func (c *compiler[T]) arg(v any) string {
	c.args = append(c.args, v)
	return "$" + strconv.Itoa(len(c.args))
}

func (c *compiler[T]) expr(e query.Expr) error {
	switch e.Op {
	case query.OpAll:
		c.b.WriteString("TRUE")
		return nil
	case query.OpAnd, query.OpOr:
		if len(e.Sub) == 0 {
			if e.Op == query.OpAnd {
				c.b.WriteString("TRUE")
			} else {
				c.b.WriteString("FALSE")
			}
			return nil
		}
		c.b.WriteByte('(')
		for i, s := range e.Sub {
			if i > 0 {
				if e.Op == query.OpAnd {
					c.b.WriteString(" AND ")
				} else {
					c.b.WriteString(" OR ")
				}
			}
			if err := c.expr(s); err != nil {
				return err
			}
		}
		c.b.WriteByte(')')
		return nil
	case query.OpNot:
		if len(e.Sub) != 1 {
			return fmt.Errorf("%w: NOT with %d operands", query.ErrBadQuery, len(e.Sub))
		}
		return c.not(e.Sub[0])
	}
	if pos, ok := e.Op.Positive(); ok {
		p := e
		p.Op = pos
		return c.not(p)
	}
	return c.leaf(e)
}

func (c *compiler[T]) not(e query.Expr) error {
	c.b.WriteString("NOT COALESCE(")
	if err := c.expr(e); err != nil {
		return err
	}
	c.b.WriteString(", FALSE)")
	return nil
}

func (c *compiler[T]) leaf(e query.Expr) error {
	f, err := c.desc.Lookup(e.Field)
	if err != nil {
		return err
	}
	col := pgdialect.Quote(f.Column)
	bad := func(msg string) error {
		return fmt.Errorf("%w: field %s: %s %s", query.ErrBadQuery, e.Field, e.Op, msg)
	}
	need := func(n int) error {
		if len(e.Args) != n {
			return bad(fmt.Sprintf("takes %d operand(s), got %d", n, len(e.Args)))
		}
		return nil
	}
	uuid := f.Kind == query.KindUUID
	// asText is the column as text in byte order, for string operations on uuid columns.
	asText := col
	if uuid {
		asText = "(" + col + "::text COLLATE \"C\")"
	}
	switch e.Op {
	case query.OpSearch, query.OpSearchPhrase:
		return c.search(f, e)
	case query.OpExists:
		if f.List {
			fmt.Fprintf(&c.b, "(cardinality(%s) > 0)", col)
		} else {
			fmt.Fprintf(&c.b, "(%s IS NOT NULL)", col)
		}
		return nil
	case query.OpEQ:
		if err := need(1); err != nil {
			return err
		}
		if uuid && !isUUID(e.Args[0]) {
			// Stored uuids are canonical: any other string equals none of them.
			c.b.WriteString("FALSE")
			return nil
		}
		if f.List {
			fmt.Fprintf(&c.b, "(%s @> %s)", col, c.arg(listOf(f.Kind, e.Args)))
		} else {
			fmt.Fprintf(&c.b, "(%s = %s)", col, c.arg(e.Args[0]))
		}
		return nil
	case query.OpIN:
		vals := e.Args
		if uuid {
			vals = make([]any, 0, len(e.Args))
			for _, a := range e.Args {
				if isUUID(a) {
					vals = append(vals, a)
				}
			}
		}
		if len(vals) == 0 {
			c.b.WriteString("FALSE")
			return nil
		}
		if f.List {
			fmt.Fprintf(&c.b, "(%s && %s)", col, c.arg(listOf(f.Kind, vals)))
		} else {
			fmt.Fprintf(&c.b, "(%s = ANY(%s))", col, c.arg(listOf(f.Kind, vals)))
		}
		return nil
	}
	if f.List {
		return bad("is not supported on a list field")
	}
	switch e.Op {
	case query.OpGT, query.OpGTE, query.OpLT, query.OpLTE:
		if err := need(1); err != nil {
			return err
		}
		ops := map[query.Op]string{query.OpGT: ">", query.OpGTE: ">=", query.OpLT: "<", query.OpLTE: "<="}
		lhs := col
		if uuid && !isUUID(e.Args[0]) {
			lhs = asText
		}
		fmt.Fprintf(&c.b, "(%s %s %s)", lhs, ops[e.Op], c.arg(e.Args[0]))
		return nil
	case query.OpBetween:
		if err := need(2); err != nil {
			return err
		}
		lhs := col
		if uuid && (!isUUID(e.Args[0]) || !isUUID(e.Args[1])) {
			lhs = asText
		}
		fmt.Fprintf(&c.b, "(%s BETWEEN %s AND %s)", lhs, c.arg(e.Args[0]), c.arg(e.Args[1]))
		return nil
	case query.OpLike:
		if err := need(1); err != nil {
			return err
		}
		l, ok := e.Args[0].(query.Like)
		if !ok {
			return bad(fmt.Sprintf("operand is %T, not a query.Like", e.Args[0]))
		}
		fmt.Fprintf(&c.b, "(%s LIKE %s ESCAPE E'\\\\')", asText, c.arg(likePattern(l.Parts())))
		return nil
	case query.OpStartsWith:
		if err := need(1); err != nil {
			return err
		}
		p, ok := e.Args[0].(string)
		if !ok {
			return bad(fmt.Sprintf("operand is %T, not a string", e.Args[0]))
		}
		fmt.Fprintf(&c.b, "(%s LIKE %s ESCAPE E'\\\\')", asText, c.arg(query.EscapeLike(p)+"%"))
		return nil
	case query.OpRegex:
		if err := need(1); err != nil {
			return err
		}
		re, ok := e.Args[0].(*query.Regex)
		if !ok || re == nil {
			return bad(fmt.Sprintf("operand is %T, not a *query.Regex", e.Args[0]))
		}
		fmt.Fprintf(&c.b, "(%s ~ %s)", asText, c.arg(re.POSIXPattern()))
		return nil
	}
	return bad("is not a supported operator")
}

func isUUID(v any) bool {
	s, ok := v.(string)
	return ok && record.CheckUUID(s) == nil
}

// listOf returns the operands as a typed slice (a PostgreSQL array parameter).
func listOf(k query.Kind, args []any) any {
	switch {
	case k.IsString():
		out := make([]string, len(args))
		for i, a := range args {
			out[i], _ = a.(string)
		}
		return out
	case k == query.KindInt:
		out := make([]int64, len(args))
		for i, a := range args {
			out[i], _ = a.(int64)
		}
		return out
	case k == query.KindFloat:
		out := make([]float64, len(args))
		for i, a := range args {
			out[i], _ = a.(float64)
		}
		return out
	case k == query.KindBool:
		out := make([]bool, len(args))
		for i, a := range args {
			out[i], _ = a.(bool)
		}
		return out
	}
	return args
}

// likePattern renders LIKE parts for PostgreSQL's LIKE ... ESCAPE '\': literal text with
// %, _ and \ escaped, _ for one character (one code point in a UTF-8 database) and % for
// any sequence.
func likePattern(parts []query.LikePart) string {
	var b strings.Builder
	for _, p := range parts {
		switch p.Kind {
		case query.LikeLiteral:
			b.WriteString(query.EscapeLike(p.Text))
		case query.LikeOne:
			b.WriteByte('_')
		case query.LikeAny:
			b.WriteByte('%')
		}
	}
	return b.String()
}

// orderBy writes the ORDER BY clause of spec's keys (missing values last in both
// directions); the relevance key is the rank of the filter's ranked search conditions
// (rank), highest first.
func (c *compiler[T]) orderBy(spec *query.Spec) error {
	keys := spec.Sort
	if len(keys) == 0 {
		c.b.WriteString(" ORDER BY " + pgdialect.Quote(c.desc.ID().Column))
		return nil
	}
	if err := query.CheckRelevance(spec); err != nil {
		return err
	}
	c.b.WriteString(" ORDER BY ")
	for i, k := range keys {
		if i > 0 {
			c.b.WriteString(", ")
		}
		if k.Relevance {
			if err := c.rank(spec.Filter); err != nil {
				return err
			}
			c.b.WriteString(" DESC")
			continue
		}
		f, err := c.desc.Lookup(k.Field)
		if err != nil {
			return err
		}
		if f.List || !f.Kind.Ordered() {
			return fmt.Errorf("%w: cannot sort by %s field %s", query.ErrBadQuery, f.Kind, f.Name)
		}
		c.b.WriteString(pgdialect.Quote(f.Column))
		if k.Desc {
			c.b.WriteString(" DESC")
		}
		if f.Optional {
			c.b.WriteString(" NULLS LAST")
		}
	}
	return nil
}
