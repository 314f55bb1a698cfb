package query_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/query"
)

func TestRegexSubset(t *testing.T) {
	accept := []struct{ pattern, match, nomatch string }{
		{"", "", "a"},
		{"abc", "abc", "abcd"},
		{"a.c", "a\nc", "ac"}, // . matches newline
		{"[abc]+", "cab", "cad"},
		{"[a-z0-9_]*", "a_9", "A"},
		{"[^x]", "é", "x"},
		{"(ab|cd)*", "abcdab", "abc"},
		{"a|b", "b", "ab"}, // alternation is anchored as a whole
		{"a?b+c*", "bbb", "abcd"},
		{"a{2}", "aa", "aaa"},
		{"a{2,}", "aaaa", "a"},
		{"a{1,2}", "aa", "aaa"},
		{`\^\$\.\*\+\?\(\)\[\]\{\}\|\\`, `^$.*+?()[]{}|\`, "x"},
		{`\%\_\-\/\'\"\#\@\&\~\<\>`, `%_-/'"#@&~<>`, "x"},
		{"[[]", "[", "]"},
		{"日本.", "日本語", "日本"},
		{"😀?x", "😀x", "😀"},
		{"(a)(b)", "ab", "a"},
		{`[a\-]`, "-", "b"},
		{"a]", "a]", "a"},
		{"[a-cx-z]", "y", "d"},
		{`[a-c\-]`, "-", "d"},
		{`[\--/]`, ".", "0"},
		{"[^a-c]x", "dx", "bx"},
		{"[é-ë]", "ê", "e"},
		{"a{255}", strings.Repeat("a", 255), "a"},
		{"a{0,255}b", "aab", "a"},
	}
	for _, c := range accept {
		re, err := query.CompileRegex(c.pattern)
		if err != nil {
			t.Errorf("CompileRegex(%q) rejected a pattern in the subset: %v", c.pattern, err)
			continue
		}
		if !re.Match(c.match) {
			t.Errorf("%q does not match %q", c.pattern, c.match)
		}
		if re.Match(c.nomatch) {
			t.Errorf("%q matches %q", c.pattern, c.nomatch)
		}
		if re.Pattern() != c.pattern {
			t.Errorf("Pattern() = %q", re.Pattern())
		}
	}
	reject := []struct{ pattern, msg string }{
		{"^a", "anchors"},
		{"[a-b-c]", "right after a range"},
		{"[a-bd-e-f]", "right after a range"},
		{"[^0-9-x]", "right after a range"},
		{`[\a-b-c]`, "escape"},
		{"[é-ë-z]", "right after a range"},
		{"a{256}", "256 is over 255"},
		{"a{1,256}", "256 is over 255"},
		{"a{99999999999999999999}", "over 255"},
		{"a$", "anchors"},
		{`\d`, `escape \d`},
		{`|a`, `empty alternatives`},
		{`a|`, `empty alternatives`},
		{`a||b`, `empty alternatives`},
		{`(|a)`, `empty alternatives`},
		{`(a|)`, `empty alternatives`},
		{`()`, `empty alternatives`},
		{`[a-]`, `start or end of a class`},
		{`[-a]`, `start or end of a class`},
		{`[^-a]`, `start or end of a class`},
		{`\w+`, `escape \w`},
		{`\s`, `escape \s`},
		{`\S`, `escape \S`},
		{`\b`, `escape \b`},
		{`\n`, `escape \n`},
		{`\t`, `escape \t`},
		{`\pL`, `escape \p`},
		{`\x41`, `escape \x`},
		{`\1`, `escape \1`},
		{`\ `, `escape \ `},
		{`[\d]`, `escape \d`},
		{"(?i)a", "(?...)"},
		{"(?:a)", "(?...)"},
		{"(?P<x>a)", "(?...)"},
		{"a*?", "non-greedy"},
		{"a+?", "non-greedy"},
		{"a??", "non-greedy"},
		{"a{1,2}?", "non-greedy"},
		{"[[:alpha:]]", "POSIX classes"},
		{"[a[:digit:]]", "POSIX classes"},
		{"[[=a=]]", "POSIX classes"},
		{"[[.a.]]", "POSIX classes"},
		{"[]a]", "literal ]"},
		{"[^]a]", "literal ]"},
		{"a{", "repetition"},
		{"a{,2}", "repetition"},
		{"a{x}", "repetition"},
		{"a}", "unmatched }"},
		{"[a", "unterminated ["},
		{`a\`, "lone"},
		{"(a", "REGEX"},
		{"a)", "REGEX"},
		{"*a", "REGEX"},
		{"a**", "REGEX"},
		{"a{1001}", "REGEX"},
		{"[z-a]", "REGEX"},
		{"\xff", "UTF-8"},
		{`\é`, "REGEX"},
	}
	for _, c := range reject {
		_, err := query.CompileRegex(c.pattern)
		if err == nil {
			t.Errorf("CompileRegex(%q) accepted a pattern outside the subset", c.pattern)
			continue
		}
		if !errors.Is(err, query.ErrBadPattern) {
			t.Errorf("CompileRegex(%q): %v does not wrap ErrBadPattern", c.pattern, err)
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("CompileRegex(%q): error %q does not mention %q", c.pattern, err, c.msg)
		}
	}
}

func TestRegexRenderings(t *testing.T) {
	re := query.MustCompileRegex(`a.b|c@d`)
	if got := re.POSIXPattern(); got != `^(a.b|c@d)$` {
		t.Errorf("POSIXPattern = %q", got)
	}
	if got := re.LucenePattern(); got != `a.b|c\@d` {
		t.Errorf("LucenePattern = %q", got)
	}
	if got := query.MustCompileRegex(`\@x`).LucenePattern(); got != `\@x` {
		t.Errorf("LucenePattern keeps escapes: %q", got)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("MustCompileRegex did not panic on a bad pattern")
		}
	}()
	query.MustCompileRegex("^x")
}

func TestExprHelpers(t *testing.T) {
	a := query.Expr{Op: query.OpEQ, Field: "a", Args: []any{"x"}}
	b := query.Expr{Op: query.OpGT, Field: "b", Args: []any{int64(1)}}
	c := query.Expr{Op: query.OpExists, Field: "c"}

	if e := query.AndExpr(); !e.IsAll() || e.Op != query.OpAll {
		t.Errorf("AndExpr() = %v, want ALL", e)
	}
	if e := query.AndExpr(query.All(), a, query.All()); e.Op != query.OpEQ {
		t.Errorf("AndExpr drops ALL: %v", e)
	}
	nested := query.AndExpr(a, query.AndExpr(b, c))
	if nested.Op != query.OpAnd || len(nested.Sub) != 3 {
		t.Errorf("AndExpr flattens: %v", nested)
	}
	if e := query.OrExpr(); e.Op != query.OpOr || len(e.Sub) != 0 || e.IsAll() {
		t.Errorf("OrExpr() = %#v, want an empty OR (matches nothing)", e)
	}
	if e := query.OrExpr(a, query.OrExpr(b, c)); e.Op != query.OpOr || len(e.Sub) != 3 {
		t.Errorf("OrExpr flattens: %v", e)
	}
	if e := query.OrExpr(a); e.Op != query.OpEQ {
		t.Errorf("OrExpr of one = %v", e)
	}
	if e := query.NotExpr(query.NotExpr(a)); e.Op != query.OpEQ {
		t.Errorf("NOT NOT a = %v", e)
	}
	if e := query.NotExpr(a); e.Op != query.OpNot || len(e.Sub) != 1 {
		t.Errorf("NotExpr = %v", e)
	}
	if !(query.Expr{Op: query.OpAnd}).IsAll() || a.IsAll() || query.NotExpr(query.All()).IsAll() {
		t.Errorf("IsAll wrong")
	}

	var seen []string
	e := query.AndExpr(a, query.OrExpr(b, query.NotExpr(c)))
	if err := e.Walk(func(x query.Expr) error { seen = append(seen, x.Op.String()+":"+x.Field); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"AND:", "EQ:a", "OR:", "GT:b", "NOT:", "EXISTS:c"}; !slices.Equal(seen, want) {
		t.Errorf("Walk visited %v, want %v", seen, want)
	}
	stop := errors.New("stop")
	n := 0
	if err := e.Walk(func(query.Expr) error { n++; return stopAt(n, 3, stop) }); err != stop || n != 3 {
		t.Errorf("Walk did not stop at the first error: %v after %d", err, n)
	}

	like, _ := query.ParseLike(`a\%%`)
	tm := time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC)
	str := query.AndExpr(a, query.OrExpr(b, query.NotExpr(c)),
		query.Expr{Op: query.OpLike, Field: "d", Args: []any{like}},
		query.Expr{Op: query.OpRegex, Field: "e", Args: []any{query.MustCompileRegex("x+")}},
		query.Expr{Op: query.OpBetween, Field: "t", Args: []any{tm, tm}},
		query.Expr{Op: query.OpIN, Field: "f"},
		query.OrExpr(),
	).String()
	want := `(a EQ "x" AND (b GT 1 OR NOT c EXISTS) AND d LIKE "a\\%%" AND e REGEX /x+/ AND t BETWEEN 2024-01-02T03:04:05.000006Z, 2024-01-02T03:04:05.000006Z AND f IN AND NONE)`
	if str != want {
		t.Errorf("String() =\n%s\nwant\n%s", str, want)
	}
	if s := query.All().String(); s != "ALL" {
		t.Errorf("All().String() = %q", s)
	}
}

func stopAt(n, at int, err error) error {
	if n == at {
		return err
	}
	return nil
}

func TestOps(t *testing.T) {
	for op := query.OpAll; op <= query.OpNot; op++ {
		got, err := query.ParseOp(op.String())
		if err != nil || got != op {
			t.Errorf("ParseOp(%q) = %v, %v", op.String(), got, err)
		}
	}
	for _, bad := range []string{"", "eq", "INVALID", "LIKE ", "CONTAINS"} {
		if _, err := query.ParseOp(bad); err == nil {
			t.Errorf("ParseOp(%q) accepted an unknown operator", bad)
		}
	}
	pairs := map[query.Op]query.Op{query.OpNEQ: query.OpEQ, query.OpNotIn: query.OpIN, query.OpNotLike: query.OpLike,
		query.OpNotExists: query.OpExists, query.OpNotBetween: query.OpBetween}
	for op := query.OpInvalid; op <= query.OpNot; op++ {
		pos, ok := op.Positive()
		if want, neg := pairs[op]; ok != neg || pos != want {
			t.Errorf("%v.Positive() = %v, %v", op, pos, ok)
		}
	}
	if s := query.Op(99).String(); s != "Op(99)" {
		t.Errorf("unknown op String = %q", s)
	}
	if s := query.Kind(99).String(); s != "Kind(99)" {
		t.Errorf("unknown kind String = %q", s)
	}
	for k, want := range map[query.Kind][2]bool{ // IsString, Ordered
		query.KindString: {true, true}, query.KindText: {true, true}, query.KindUUID: {true, true}, query.KindEnum: {true, true},
		query.KindInt: {false, true}, query.KindFloat: {false, true}, query.KindBool: {false, true}, query.KindTime: {false, true},
		query.KindBytes: {false, false}, query.KindJSON: {false, false}, query.KindInvalid: {false, false},
	} {
		if k.IsString() != want[0] || k.Ordered() != want[1] {
			t.Errorf("%v: IsString %v Ordered %v", k, k.IsString(), k.Ordered())
		}
	}
}

type row struct{}

func TestBuilders(t *testing.T) {
	name := query.NewStringField[row]("name")
	price := query.NewFloatField[row]("price")
	at := query.NewTimeField[row]("at")
	tags := query.NewStringListField[row]("tags")

	// Operands are normalized: times to UTC microseconds.
	zone := time.FixedZone("X", 3600)
	c := at.EQ(time.Date(2024, 1, 1, 1, 0, 0, 1999, zone))
	got := c.Expr().Args[0].(time.Time)
	if want := time.Date(2024, 1, 1, 0, 0, 0, 1000, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("time operand %v, want %v", got, want)
	}

	bad := []struct {
		name string
		cond query.Cond[row]
		kind error
		msg  string
	}{
		{"NaN", price.EQ(math.NaN()), query.ErrBadValue, "price EQ"},
		{"+Inf in BETWEEN", price.Between(0, math.Inf(1)), query.ErrBadValue, "not a finite number"},
		{"NUL", name.EQ("a\x00"), query.ErrBadValue, "NUL"},
		{"invalid UTF-8 in IN", name.IN("ok", "\xff"), query.ErrBadValue, "UTF-8"},
		{"bad list operand", tags.Contains("\x00"), query.ErrBadValue, "tags EQ"},
		{"bad LIKE", name.Like(`x\`), query.ErrBadPattern, "name LIKE"},
		{"bad NOT_LIKE", name.NotLike(`\q`), query.ErrBadPattern, "name NOT_LIKE"},
		{"bad REGEX", name.Regex("^x"), query.ErrBadPattern, "name REGEX"},
		{"bad STARTS_WITH", name.StartsWith("\x00"), query.ErrBadValue, "name STARTS_WITH"},
	}
	for _, b := range bad {
		err := b.cond.Err()
		if err == nil || !errors.Is(err, b.kind) || !strings.Contains(err.Error(), b.msg) {
			t.Errorf("%s: Err() = %v, want %v mentioning %q", b.name, err, b.kind, b.msg)
		}
		var fe *query.FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: %v is not a *FieldError", b.name, err)
		}
		// Errors survive combination.
		for _, comb := range []query.Cond[row]{query.And(name.EQ("x"), b.cond), query.Or(b.cond, name.EQ("y")), query.Not(b.cond)} {
			if comb.Err() == nil {
				t.Errorf("%s: error lost by %s", b.name, comb)
			}
		}
		if q := query.New[row]().Where(name.EQ("ok")).Where(b.cond); q.Err() == nil {
			t.Errorf("%s: error lost by Where", b.name)
		}
	}

	if e := name.StartsWith("50%_").Expr(); e.Op != query.OpStartsWith || e.Args[0] != "50%_" {
		t.Errorf("StartsWith keeps the literal prefix: %v", e)
	}
	if e := tags.ContainsAny().Expr(); e.Op != query.OpIN || len(e.Args) != 0 {
		t.Errorf("ContainsAny() = %v", e)
	}
	if e := tags.NotContains("x").Expr(); e.Op != query.OpNEQ {
		t.Errorf("NotContains = %v", e)
	}
}

func TestQueryImmutable(t *testing.T) {
	name := query.NewStringField[row]("name")
	price := query.NewFloatField[row]("price")
	base := query.New[row]().Where(name.EQ("a")).OrderBy(price.Asc())
	q1 := base.OrderBy(name.Desc()).Limit(5)
	q2 := base.OrderBy(price.Desc()).Offset(3)
	if s := base.Spec(); len(s.Sort) != 1 || s.Limit != 0 || s.Offset != 0 {
		t.Errorf("base changed: %v", base)
	}
	if s := q1.Spec(); len(s.Sort) != 2 || s.Sort[1] != (query.SortKey{Field: "name", Desc: true}) || s.Limit != 5 {
		t.Errorf("q1 = %v", q1)
	}
	if s := q2.Spec(); len(s.Sort) != 2 || s.Sort[1] != (query.SortKey{Field: "price", Desc: true}) || s.Offset != 3 {
		t.Errorf("q2 = %v (sort keys shared with q1?)", q2)
	}
	if got := q1.String(); got != `WHERE name EQ "a" ORDER BY price, name DESC LIMIT 5` {
		t.Errorf("String = %q", got)
	}
	if s := base.Select().Spec(); s.Fields == nil || len(s.Fields) != 0 {
		t.Errorf("Select() must load only the id: %#v", s.Fields)
	}
	if s := base.Select(name, price).Spec(); !slices.Equal(s.Fields, []string{"name", "price"}) {
		t.Errorf("Select fields = %v", s.Fields)
	}
	for _, q := range []query.Query[row]{base.Limit(-1), base.Offset(-2)} {
		if err := q.Err(); err == nil || !errors.Is(err, query.ErrBadQuery) {
			t.Errorf("%v: Err() = %v", q, err)
		}
	}
	if q := base.Limit(0); q.Err() != nil {
		t.Errorf("Limit(0) is valid: %v", q.Err())
	}
}
