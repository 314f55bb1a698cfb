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
	for _, c := range []struct {
		e    *repo.Error
		want string
	}{
		{repo.E(repo.ErrClosed, nil), "repokit: repository closed"},
		{repo.E(repo.ErrUnavailable, cause), "repokit: unavailable: boom"},
		{&repo.Error{Op: "Commit", Kind: repo.ErrUnavailable, Err: cause}, "repokit: Commit: unavailable: boom"},
		{&repo.Error{Record: "Thing", Err: cause}, "repokit: Thing: boom"},
		{&repo.Error{ID: "x", Kind: repo.ErrNotFound}, `repokit: id="x": not found`},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
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

// TestCheckIDAndPrepare pins the exported checks backend extensions share with the
// Collection: every error is ErrInvalidInput naming the record and the operation.
func TestCheckIDAndPrepare(t *testing.T) {
	const uuid = "01a210fb-c05a-77f8-81a0-cd6d914ad41c"
	named := func(err error, rec string) bool {
		var e *repo.Error
		return errors.Is(err, repo.ErrInvalidInput) && errors.As(err, &e) && e.Record == rec && e.Op == "Op"
	}
	for _, c := range []struct {
		name string
		err  error
		rec  string // "" when the call must succeed
	}{
		{"uuid ok", repo.CheckID(things.OtherSchema, "Op", uuid), ""},
		{"uuid upper", repo.CheckID(things.OtherSchema, "Op", strings.ToUpper(uuid)), "Other"},
		{"uuid bare", repo.CheckID(things.OtherSchema, "Op", strings.ReplaceAll(uuid, "-", "")), "Other"},
		{"uuid empty", repo.CheckID(things.OtherSchema, "Op", ""), "Other"},
		{"string ok", repo.CheckID(things.ThingSchema, "Op", "not a uuid"), ""},
		{"string empty", repo.CheckID(things.ThingSchema, "Op", ""), "Thing"},
		{"string NUL", repo.CheckID(things.ThingSchema, "Op", "a\x00b"), "Thing"},
		{"string bad UTF-8", repo.CheckID(things.ThingSchema, "Op", "a\xffb"), "Thing"},
		{"prepare generated", repo.Prepare(things.OtherSchema, "Op", &things.Other{}, true), ""},
		{"prepare no assign", repo.Prepare(things.OtherSchema, "Op", &things.Other{}, false), "Other"},
		{"prepare not generated", repo.Prepare(things.ThingSchema, "Op", &things.Thing{}, true), "Thing"},
		{"prepare bad uuid", repo.Prepare(things.OtherSchema, "Op", &things.Other{ID: strings.ToUpper(uuid)}, true), "Other"},
	} {
		if ok := c.err == nil; ok != (c.rec == "") || (!ok && !named(c.err, c.rec)) {
			t.Errorf("%s: %v", c.name, c.err)
		}
	}
	if got := repo.Annotate(things.ThingSchema, "Op", "x", context.Canceled); !errors.Is(got, context.Canceled) || !strings.Contains(got.Error(), `Thing.Op id="x"`) {
		t.Errorf("Annotate(context.Canceled) = %v", got)
	}
}
