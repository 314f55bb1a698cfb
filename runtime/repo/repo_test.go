package repo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

func TestErrorFormatting(t *testing.T) {
	cause := errors.New("boom")
	e := &repo.Error{Kind: repo.ErrNotFound, Record: "Thing", Op: "Get", ID: `a"b`, Err: cause}
	if got, want := e.Error(), `repokit: Thing.Get id="a\"b": not found: boom`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, repo.ErrNotFound) || errors.Is(e, repo.ErrAlreadyExists) || !errors.Is(e, cause) {
		t.Errorf("errors.Is on *Error is wrong")
	}
	if repo.KindOf(fmt.Errorf("wrapped: %w", e)) != repo.ErrNotFound || repo.KindOf(cause) != nil {
		t.Errorf("KindOf is wrong")
	}
	if got := repo.E(repo.ErrClosed, nil).Error(); got != "repokit: : repository closed" {
		t.Errorf("bare error = %q", got)
	}
	ctxErr := &repo.Error{Record: "Thing", Op: "Find", Err: context.Canceled}
	if !errors.Is(ctxErr, context.Canceled) || repo.KindOf(ctxErr) != nil {
		t.Errorf("a context error keeps its identity and has no kind")
	}
}

func TestCheckFilter(t *testing.T) {
	d := things.ThingSchema
	F := things.ThingFields
	ok := []query.Cond[things.Thing]{
		F.Name.Like("a%"), F.Code.StartsWith("0"), F.Tags.ContainsAny(), F.Blob.Exists(), F.Active.EQ(true),
		F.At.Between(t0(), t0()), F.Kind.IN(things.ThingKindA), F.Levels.Contains(things.ThingLevelLow),
	}
	for _, c := range ok {
		if err := repo.CheckFilter(d, c.Expr()); err != nil {
			t.Errorf("CheckFilter(%s): %v", c, err)
		}
	}
	bad := []struct {
		e   query.Expr
		msg string
	}{
		{query.Expr{Op: query.OpEQ, Field: "nope", Args: []any{"x"}}, `no field "nope"`},
		{query.Expr{Op: query.OpGT, Field: "tags", Args: []any{"x"}}, "not ordered"},
		{query.Expr{Op: query.OpEQ, Field: "meta", Args: []any{"x"}}, "EXISTS and NOT_EXISTS"},
		{query.Expr{Op: query.OpLike, Field: "kind", Args: []any{query.PrefixLike("a")}}, "pattern operators"},
		{query.Expr{Op: query.OpEQ, Field: "rank", Args: []any{1}}, "operand 1 of type int"},
		{query.Expr{Op: query.OpBetween, Field: "rank", Args: []any{int64(1)}}, "takes 2 operand(s)"},
		{query.Expr{Op: query.OpNot}, "exactly one"},
		{query.Expr{Op: query.OpInvalid}, "invalid operator"},
		{query.Expr{Op: query.OpRegex, Field: "name", Args: []any{(*query.Regex)(nil)}}, "operand"},
	}
	for _, b := range bad {
		err := repo.CheckFilter(d, b.e)
		if err == nil || !errors.Is(err, query.ErrBadQuery) || !strings.Contains(err.Error(), b.msg) {
			t.Errorf("CheckFilter(%s) = %v, want ErrBadQuery mentioning %q", b.e, err, b.msg)
		}
	}
}
