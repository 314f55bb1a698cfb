package repo

import (
	"fmt"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// checkSearch checks a SEARCH or SEARCH_PHRASE condition: a searchable text field and one
// string operand.
func checkSearch[T any](f *record.Field[T], e query.Expr) error {
	if f.Search == "" {
		return fmt.Errorf("%w: %s on %s field %s: the field is not searchable (declare it with search: in the schema)", query.ErrBadQuery, e.Op, fieldKind(f), f.Name)
	}
	if len(e.Args) != 1 {
		return fmt.Errorf("%w: %s on %s field %s: takes 1 operand, got %d", query.ErrBadQuery, e.Op, fieldKind(f), f.Name, len(e.Args))
	}
	if _, ok := e.Args[0].(string); !ok {
		return fmt.Errorf("%w: %s on %s field %s: operand of type %T", query.ErrBadQuery, e.Op, fieldKind(f), f.Name, e.Args[0])
	}
	return nil
}
