package query

import "fmt"

// Op is a filter operator.
type Op uint8

// Operators. The comparison operators apply to one field; And, Or and Not combine
// conditions; All matches every record.
const (
	OpInvalid    Op = iota
	OpAll           // matches every record
	OpEQ            // field = v (on a list: some element = v)
	OpNEQ           // NOT (field = v)
	OpGT            // field > v
	OpGTE           // field >= v
	OpLT            // field < v
	OpLTE           // field <= v
	OpIN            // field in set (on a list: some element in set); empty set matches nothing
	OpNotIn         // NOT IN
	OpLike          // LIKE pattern (case-sensitive, whole value)
	OpNotLike       // NOT LIKE
	OpRegex         // whole value matches a portable regular expression
	OpStartsWith    // value starts with a literal prefix
	OpExists        // value present (list: non-empty)
	OpNotExists     // NOT EXISTS
	OpBetween       // lo <= field <= hi
	OpNotBetween    // NOT BETWEEN
	OpAnd           // every child matches (no children: matches everything)
	OpOr            // some child matches (no children: matches nothing)
	OpNot           // the single child does not match

	OpSearch       // a searchable text field holds every term of the operand, after the field's analysis
	OpSearchPhrase // a searchable text field holds the operand's terms at the same relative positions
)

var opNames = [...]string{
	OpInvalid:    "INVALID",
	OpAll:        "ALL",
	OpEQ:         "EQ",
	OpNEQ:        "NEQ",
	OpGT:         "GT",
	OpGTE:        "GTE",
	OpLT:         "LT",
	OpLTE:        "LTE",
	OpIN:         "IN",
	OpNotIn:      "NOT_IN",
	OpLike:       "LIKE",
	OpNotLike:    "NOT_LIKE",
	OpRegex:      "REGEX",
	OpStartsWith: "STARTS_WITH",
	OpExists:     "EXISTS",
	OpNotExists:  "NOT_EXISTS",
	OpBetween:    "BETWEEN",
	OpNotBetween: "NOT_BETWEEN",
	OpAnd:        "AND",
	OpOr:         "OR",
	OpNot:        "NOT",

	OpSearch:       "SEARCH",
	OpSearchPhrase: "SEARCH_PHRASE",
}

// String returns the operator's name as used in the seed (EQ, NOT_IN, ...).
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", o)
}

// ParseOp returns the operator with the given name. Unlike the seed, an unknown name is an
// error, never a silent EQ.
func ParseOp(name string) (Op, error) {
	for i, n := range opNames {
		if n == name && Op(i) != OpInvalid {
			return Op(i), nil
		}
	}
	return OpInvalid, fmt.Errorf("query: unknown operator %q", name)
}

// Positive reports, for a negative operator (NEQ, NOT_IN, NOT_LIKE, NOT_EXISTS,
// NOT_BETWEEN), its positive twin. Backends compile a negative operator as NOT(positive),
// which gives missing values the documented meaning.
func (o Op) Positive() (Op, bool) {
	switch o {
	case OpNEQ:
		return OpEQ, true
	case OpNotIn:
		return OpIN, true
	case OpNotLike:
		return OpLike, true
	case OpNotExists:
		return OpExists, true
	case OpNotBetween:
		return OpBetween, true
	}
	return OpInvalid, false
}
