package repo

import (
	"fmt"
	"slices"
	"time"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// spec checks q against the record's fields and returns the driver-ready Spec: every field
// known, every operator applicable to its field, every operand of the field's type, and the
// id appended as the final sort key.
func (c *Collection[T]) spec(op string, q query.Query[T]) (query.Spec, error) {
	if err := c.checkOpen(op); err != nil {
		return query.Spec{}, err
	}
	if err := q.Err(); err != nil {
		return query.Spec{}, c.fail(op, "", err)
	}
	s := q.Spec()
	if err := CheckFilter(c.desc, s.Filter); err != nil {
		return query.Spec{}, c.fail(op, "", err)
	}
	if err := query.CheckRelevance(&s); err != nil {
		return query.Spec{}, c.fail(op, "", err)
	}
	hasID := false
	for _, k := range s.Sort {
		if k.Relevance {
			if op == "Page" {
				return query.Spec{}, c.fail(op, "", fmt.Errorf("%w: Page cannot continue a relevance order (a cursor holds field values, not scores); use Find or Stream with Limit and Offset", query.ErrBadQuery))
			}
			continue
		}
		f, err := c.desc.Lookup(k.Field)
		if err != nil {
			return query.Spec{}, c.fail(op, "", err)
		}
		if f.List || !f.Kind.Ordered() {
			return query.Spec{}, c.fail(op, "", fmt.Errorf("%w: cannot sort by %s field %s", query.ErrBadQuery, fieldKind(f), f.Name))
		}
		hasID = hasID || k.Field == c.desc.ID().Name
	}
	if !hasID {
		s.Sort = append(slices.Clip(s.Sort), query.SortKey{Field: c.desc.ID().Name})
	}
	if s.Fields != nil {
		fields := make([]string, 0, len(s.Fields)+1)
		fields = append(fields, c.desc.ID().Name)
		for _, name := range s.Fields {
			if _, err := c.desc.Lookup(name); err != nil {
				return query.Spec{}, c.fail(op, "", err)
			}
			if !slices.Contains(fields, name) {
				fields = append(fields, name)
			}
		}
		if op == "Page" { // the cursor needs the sort keys of the last record
			for _, k := range s.Sort {
				if !slices.Contains(fields, k.Field) {
					fields = append(fields, k.Field)
				}
			}
		}
		s.Fields = fields
	}
	return s, nil
}

// CheckFilter reports the first problem in e for record type T: an unknown field, an
// operator that does not apply to the field's kind, an operand of the wrong type, or more
// than MaxFilterConditions conditions. Backends that accept hand-built specs call it;
// Collection always does.
func CheckFilter[T any](d *record.Desc[T], e query.Expr) error {
	if err := checkFilterLimits(e); err != nil {
		return err
	}
	return e.Walk(func(e query.Expr) error {
		switch e.Op {
		case query.OpAll:
			return nil
		case query.OpAnd, query.OpOr:
			return nil
		case query.OpNot:
			if len(e.Sub) != 1 {
				return fmt.Errorf("%w: NOT takes exactly one condition, got %d", query.ErrBadQuery, len(e.Sub))
			}
			return nil
		case query.OpInvalid:
			return fmt.Errorf("%w: invalid operator", query.ErrBadQuery)
		}
		f, err := d.Lookup(e.Field)
		if err != nil {
			return err
		}
		return checkAtom(f, e)
	})
}

func checkAtom[T any](f *record.Field[T], e query.Expr) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: %s on %s field %s: %s", query.ErrBadQuery, e.Op, fieldKind(f), f.Name, why)
	}
	want := 0 // expected operand count; -1 for any
	switch e.Op {
	case query.OpExists, query.OpNotExists:
		want = 0
	case query.OpEQ, query.OpNEQ:
		want = 1
	case query.OpIN, query.OpNotIn:
		want = -1
	case query.OpGT, query.OpGTE, query.OpLT, query.OpLTE, query.OpBetween, query.OpNotBetween:
		if f.List || !f.Kind.Ordered() {
			return bad("the field is not ordered")
		}
		want = 1
		if e.Op == query.OpBetween || e.Op == query.OpNotBetween {
			want = 2
		}
	case query.OpLike, query.OpNotLike, query.OpRegex, query.OpStartsWith:
		if f.List || !f.Kind.IsString() || f.Kind == query.KindEnum {
			return bad("pattern operators apply to string, text and uuid fields")
		}
		if len(e.Args) != 1 {
			return bad(fmt.Sprintf("takes 1 operand, got %d", len(e.Args)))
		}
		var ok bool
		switch e.Op {
		case query.OpLike, query.OpNotLike:
			_, ok = e.Args[0].(query.Like)
		case query.OpRegex:
			var re *query.Regex
			re, ok = e.Args[0].(*query.Regex)
			ok = ok && re != nil
		case query.OpStartsWith:
			_, ok = e.Args[0].(string)
		}
		if !ok {
			return bad(fmt.Sprintf("operand of type %T", e.Args[0]))
		}
		return nil
	case query.OpSearch, query.OpSearchPhrase:
		return checkSearch(f, e)
	default:
		return bad("unknown operator")
	}
	if (f.Kind == query.KindBytes || f.Kind == query.KindJSON) && want != 0 {
		return bad("bytes and json fields can only be tested with EXISTS and NOT_EXISTS")
	}
	if want >= 0 && len(e.Args) != want {
		return bad(fmt.Sprintf("takes %d operand(s), got %d", want, len(e.Args)))
	}
	for _, a := range e.Args {
		if !operandFits(f.Kind, a) {
			return bad(fmt.Sprintf("operand %v of type %T", a, a))
		}
	}
	return nil
}

func operandFits(k query.Kind, a any) bool {
	switch a.(type) {
	case string:
		return k.IsString()
	case int64:
		return k == query.KindInt
	case float64:
		return k == query.KindFloat
	case bool:
		return k == query.KindBool
	case time.Time:
		return k == query.KindTime
	}
	return false
}

func fieldKind[T any](f *record.Field[T]) string {
	if f.List {
		return "list<" + f.Kind.String() + ">"
	}
	return f.Kind.String()
}
