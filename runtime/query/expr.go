package query

import (
	"fmt"
	"strings"
	"time"
)

// Expr is one node of a filter: a comparison on one field, or And/Or/Not over children.
// Backends compile Exprs; users build them through typed field handles.
//
// Operand types are normalized by the builders: string (String, Text, UUID and Enum
// fields), int64, float64, bool and time.Time (UTC, microsecond precision). LIKE carries a
// Like, REGEX a *Regex and STARTS_WITH a string.
type Expr struct {
	Op    Op
	Field string // schema field name; empty for All, And, Or and Not
	Args  []any  // operands: one for EQ..LTE, LIKE, REGEX, STARTS_WITH; two for BETWEEN; any number for IN
	Sub   []Expr // children of And, Or and Not
}

// All returns the filter that matches every record.
func All() Expr { return Expr{Op: OpAll} }

// AndExpr returns the conjunction of the given filters. Nested Ands are flattened and All is
// dropped; AndExpr() of nothing is All.
func AndExpr(es ...Expr) Expr {
	var out []Expr
	for _, e := range es {
		switch e.Op {
		case OpAll:
		case OpAnd:
			out = append(out, e.Sub...)
		default:
			out = append(out, e)
		}
	}
	switch len(out) {
	case 0:
		return All()
	case 1:
		return out[0]
	}
	return Expr{Op: OpAnd, Sub: out}
}

// OrExpr returns the disjunction of the given filters; OrExpr() of nothing matches nothing.
func OrExpr(es ...Expr) Expr {
	var out []Expr
	for _, e := range es {
		if e.Op == OpOr {
			out = append(out, e.Sub...)
			continue
		}
		out = append(out, e)
	}
	if len(out) == 1 {
		return out[0]
	}
	return Expr{Op: OpOr, Sub: out}
}

// NotExpr returns the negation of e.
func NotExpr(e Expr) Expr {
	if e.Op == OpNot {
		return e.Sub[0]
	}
	return Expr{Op: OpNot, Sub: []Expr{e}}
}

// IsAll reports whether e matches every record without looking at any field.
func (e Expr) IsAll() bool { return e.Op == OpAll || (e.Op == OpAnd && len(e.Sub) == 0) }

// Walk calls fn for e and every descendant, depth first, stopping at the first error.
func (e Expr) Walk(fn func(Expr) error) error {
	if err := fn(e); err != nil {
		return err
	}
	for _, s := range e.Sub {
		if err := s.Walk(fn); err != nil {
			return err
		}
	}
	return nil
}

// String renders e for logs and error messages, e.g. (price GT 10 AND tags EQ "sale").
func (e Expr) String() string {
	var b strings.Builder
	e.write(&b)
	return b.String()
}

func (e Expr) write(b *strings.Builder) {
	switch e.Op {
	case OpAll:
		b.WriteString("ALL")
	case OpAnd, OpOr:
		if len(e.Sub) == 0 {
			if e.Op == OpAnd {
				b.WriteString("ALL")
			} else {
				b.WriteString("NONE")
			}
			return
		}
		b.WriteByte('(')
		for i, s := range e.Sub {
			if i > 0 {
				b.WriteByte(' ')
				b.WriteString(e.Op.String())
				b.WriteByte(' ')
			}
			s.write(b)
		}
		b.WriteByte(')')
	case OpNot:
		b.WriteString("NOT ")
		e.Sub[0].write(b)
	default:
		b.WriteString(e.Field)
		b.WriteByte(' ')
		b.WriteString(e.Op.String())
		for i, a := range e.Args {
			if i == 0 {
				b.WriteByte(' ')
			} else {
				b.WriteString(", ")
			}
			b.WriteString(formatValue(a))
		}
	}
}

func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case Like:
		return fmt.Sprintf("%q", x.Pattern())
	case *Regex:
		return fmt.Sprintf("/%s/", x.Pattern())
	default:
		return fmt.Sprint(x)
	}
}
