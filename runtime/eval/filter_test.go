package eval_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/eval"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

var (
	t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	t2 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
)

// dataset returns records covering present, missing, empty, zero and unicode values.
func dataset() []rec {
	return []rec{
		{ID: "a", S: ptr("apple"), Name: "Alpha", U: ptr("0190a6c4-0000-7000-8000-000000000001"), E: ptr("red"),
			I: ptr[int64](1), F: ptr(1.5), B: ptr(true), T: ptr(t0), By: []byte{1}, JS: []byte(`{"a":1}`),
			Ss: []string{"x", "y"}, Is: []int64{1, 2}, Fs: []float64{0.5}, Bs: []bool{true}, Ts: []time.Time{t0}, Es: []string{"red"}, Count: 10},
		{ID: "b", S: ptr("Apple"), Name: "beta", E: ptr("green"),
			I: ptr[int64](-5), F: ptr(-2.0), B: ptr(false), T: ptr(t1),
			Ss: []string{"y"}, Is: []int64{-5}, Fs: []float64{-2, 3}, Bs: []bool{false}, Ts: []time.Time{t1, t2}, Es: []string{"green", "blue"}, Count: 20},
		{ID: "c", Name: "", Count: 0}, // every optional value missing
		{ID: "d", S: ptr(""), Name: "50%_off\\", E: ptr("blue"), I: ptr[int64](0), F: ptr(math.Copysign(0, -1)), B: ptr(false), T: ptr(t2),
			Ss: []string{""}, Is: []int64{0}, Fs: []float64{math.Copysign(0, -1)}, Bs: []bool{false, true}, Ts: []time.Time{t2}, Count: 30},
		{ID: "e", S: ptr("é日本😀"), Name: "Émile", I: ptr[int64](100), F: ptr(1e300), T: ptr(t1.Add(time.Microsecond)),
			Ss: []string{"日本", "x"}, Count: 40},
	}
}

func matchIDs(t *testing.T, c query.Cond[rec]) []string {
	t.Helper()
	if err := c.Err(); err != nil {
		t.Fatalf("building %s: %v", c, err)
	}
	p, err := eval.Compile(recDesc, c.Expr())
	if err != nil {
		t.Fatalf("Compile(%s): %v", c, err)
	}
	ids := []string{}
	for _, r := range dataset() {
		if p(&r) {
			ids = append(ids, r.ID)
		}
	}
	// The same filter read through accessors, and evaluated in blocks, agrees.
	pa, err := eval.Compile(recDescAccessors, c.Expr())
	if err != nil {
		t.Fatalf("Compile with accessors(%s): %v", c, err)
	}
	viaAcc := []string{}
	for _, r := range dataset() {
		if pa(&r) {
			viaAcc = append(viaAcc, r.ID)
		}
	}
	if !slices.Equal(viaAcc, ids) {
		t.Errorf("%s: accessors match %v, offsets %v", c, viaAcc, ids)
	}
	for _, d := range []*record.Desc[rec]{recDesc, recDescAccessors} {
		f, err := eval.CompileFilter(d, c.Expr())
		if err != nil {
			t.Fatalf("CompileFilter(%s): %v", c, err)
		}
		recs := dataset()
		var in []*rec
		for i := range recs {
			in = append(in, &recs[i])
		}
		inBlock := []string{}
		for _, r := range f.Append(nil, in) {
			inBlock = append(inBlock, r.ID)
		}
		if !slices.Equal(inBlock, ids) {
			t.Errorf("%s: Filter.Append matches %v, the predicate %v", c, inBlock, ids)
		}
	}
	return ids
}

func ids(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func complement(of []string) []string {
	out := []string{}
	for _, r := range dataset() {
		if !slices.Contains(of, r.ID) {
			out = append(out, r.ID)
		}
	}
	return out
}

func TestOperators(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	tests := []struct {
		name string
		cond query.Cond[rec]
		want string // comma-separated ids
	}{
		{"all", query.And[rec](), "a,b,c,d,e"},
		{"or of nothing", query.Or[rec](), ""},

		// strings: byte-exact, case-sensitive
		{"string EQ", fS.EQ("apple"), "a"},
		{"string EQ is case-sensitive", fS.EQ("APPLE"), ""},
		{"string EQ empty", fS.EQ(""), "d"},
		{"string NEQ matches missing", fS.NEQ("apple"), "b,c,d,e"},
		{"string IN", fS.IN("apple", "Apple", "zzz"), "a,b"},
		{"string IN empty", fS.IN(), ""},
		{"string NOT_IN", fS.NotIn("apple"), "b,c,d,e"},
		{"string NOT_IN empty", fS.NotIn(), "a,b,c,d,e"},
		{"string IN many (map)", fS.IN("1", "2", "3", "4", "5", "6", "7", "8", "9", "apple", ""), "a,d"},
		{"string NOT_IN many (map)", fS.NotIn("1", "2", "3", "4", "5", "6", "7", "8", "9", "apple", ""), "b,c,e"},
		{"string GT byte order", fS.GT("a"), "a,e"}, // "Apple" < "a" < "apple" < "é..."
		{"string LT byte order", fS.LT("a"), "b,d"},
		{"string GTE", fS.GTE("apple"), "a,e"},
		{"string LTE", fS.LTE(""), "d"},
		{"string BETWEEN", fS.Between("A", "b"), "a,b"},
		{"string BETWEEN lo > hi", fS.Between("b", "A"), ""},
		{"string NOT_BETWEEN", fS.NotBetween("A", "b"), "c,d,e"},
		{"string EXISTS", fS.Exists(), "a,b,d,e"},
		{"string NOT_EXISTS", fS.NotExists(), "c"},
		{"unicode EQ", fS.EQ("é日本😀"), "e"},
		{"non-normalized form differs", fS.EQ("e\u0301日本😀"), ""},

		// LIKE
		{"LIKE exact", fS.Like("apple"), "a"},
		{"LIKE prefix", fS.Like("app%"), "a"},
		{"LIKE suffix", fS.Like("%pple"), "a,b"},
		{"LIKE contains", fS.Like("%日%"), "e"},
		{"LIKE % matches empty", fS.Like("%"), "a,b,d,e"},
		{"LIKE empty pattern", fS.Like(""), "d"},
		{"LIKE _ one code point", fS.Like("é日本_"), "e"},
		{"LIKE _ not a byte", fS.Like("é日本____"), ""},
		{"LIKE ___ counts runes", fS.Like("____"), "e"},
		{"LIKE _____ ", fS.Like("_____"), "a,b"},
		{"LIKE _% at least one", fS.Like("_%"), "a,b,e"},
		{"LIKE case-sensitive", fS.Like("APPLE"), ""},
		{"LIKE prefix+suffix", fS.Like("a%e"), "a"},
		{"LIKE general", fS.Like("_p%l_"), "a,b"},
		{"NOT_LIKE matches missing", fS.NotLike("app%"), "b,c,d,e"},
		{"LIKE escaped %", fName.Like(`50\%%`), "d"},
		{"LIKE escaped _", fName.Like(`50%\_off%`), "d"},
		{"LIKE escaped backslash", fName.Like(`%\\`), "d"},
		{"LIKE literal % does not match other text", fName.Like(`5\%%`), ""},
		{"LIKE on required empty text", fName.Like(""), "c"},
		{"LIKE on uuid", fU.Like("0190%"), "a"},

		// STARTS_WITH
		{"STARTS_WITH", fS.StartsWith("app"), "a"},
		{"STARTS_WITH empty", fS.StartsWith(""), "a,b,d,e"},
		{"STARTS_WITH % literal", fName.StartsWith("50%"), "d"},
		{"STARTS_WITH % not wildcard", fName.StartsWith("5%"), ""},
		{"STARTS_WITH _ not wildcard", fName.StartsWith("50%_"), "d"},
		{"STARTS_WITH _ literal", fName.StartsWith("5_"), ""},
		{"STARTS_WITH unicode", fName.StartsWith("É"), "e"},

		// REGEX
		{"REGEX whole value", fS.Regex("app"), ""},
		{"REGEX whole value 2", fS.Regex("app.*"), "a"},
		{"REGEX class", fS.Regex("[aA]pple"), "a,b"},
		{"REGEX alternation anchored", fS.Regex("apple|Ap"), "a"},
		{"REGEX dot one code point", fS.Regex("é日本."), "e"},
		{"REGEX repetition", fS.Regex("a?p{2}le"), "a"},
		{"REGEX empty pattern", fS.Regex(""), "d"},
		{"REGEX escaped punctuation", fName.Regex(`50%_off\\`), "d"},

		// enums
		{"enum EQ", fE.EQ("red"), "a"},
		{"enum NEQ", fE.NEQ("red"), "b,c,d,e"},
		{"enum IN", fE.IN("red", "blue"), "a,d"},
		{"enum EQ non-member", fE.EQ("purple"), ""},

		// ints
		{"int EQ", fI.EQ(0), "d"},
		{"int NEQ", fI.NEQ(0), "a,b,c,e"},
		{"int GT", fI.GT(0), "a,e"},
		{"int GTE", fI.GTE(0), "a,d,e"},
		{"int LT", fI.LT(0), "b"},
		{"int LTE", fI.LTE(1), "a,b,d"},
		{"int BETWEEN inclusive", fI.Between(0, 1), "a,d"},
		{"int BETWEEN single point", fI.Between(100, 100), "e"},
		{"int BETWEEN lo > hi", fI.Between(1, 0), ""},
		{"int NOT_BETWEEN", fI.NotBetween(0, 1), "b,c,e"},
		{"int NOT_BETWEEN lo > hi", fI.NotBetween(1, 0), "a,b,c,d,e"},
		{"int IN", fI.IN(1, 100), "a,e"},
		{"int NOT_IN", fI.NotIn(1, 100), "b,c,d"},
		{"int EXISTS", fI.Exists(), "a,b,d,e"},
		{"required int EXISTS", fCount.Exists(), "a,b,c,d,e"},
		{"required int zero is present", fCount.EQ(0), "c"},

		// floats
		{"float EQ", fF.EQ(1.5), "a"},
		{"float EQ -0 equals 0", fF.EQ(0), "d"},
		{"float GT", fF.GT(0), "a,e"},
		{"float LT", fF.LT(0), "b"},
		{"float BETWEEN", fF.Between(-2, 1.5), "a,b,d"},
		{"float NOT_BETWEEN", fF.NotBetween(-2, 1.5), "c,e"},
		{"float NEQ", fF.NEQ(1.5), "b,c,d,e"},

		// bools
		{"bool EQ true", fB.EQ(true), "a"},
		{"bool EQ false", fB.EQ(false), "b,d"},
		{"bool NEQ true matches missing", fB.NEQ(true), "b,c,d,e"},
		{"bool IN", fB.IN(true, false), "a,b,d"},
		{"bool NOT_IN", fB.NotIn(true, false), "c,e"},
		{"bool NOT_EXISTS", fB.NotExists(), "c,e"},

		// times: instants, any zone
		{"time EQ", fT.EQ(t0), "a"},
		{"time EQ other zone", fT.EQ(t0.In(paris)), "a"},
		{"time EQ fixed zone", fT.EQ(time.Date(2024, 1, 1, 5, 30, 0, 0, time.FixedZone("X", 5*3600+1800))), "a"},
		{"time GT", fT.GT(t1), "d,e"},
		{"time GTE", fT.GTE(t1), "b,d,e"},
		{"time LT", fT.LT(t1.In(paris)), "a"},
		{"time LTE", fT.LTE(t1), "a,b"},
		{"time BETWEEN", fT.Between(t1, t1.Add(time.Microsecond)), "b,e"},
		{"time BETWEEN sub-microsecond operand truncated", fT.Between(t1.Add(time.Microsecond+999*time.Nanosecond), t2), "d,e"},
		{"time NOT_BETWEEN", fT.NotBetween(t1, t1.Add(time.Microsecond)), "a,c,d"},
		{"time IN", fT.IN(t0.In(paris), t2), "a,d"},
		{"time NEQ", fT.NEQ(t0), "b,c,d,e"},

		// bytes and json: presence only
		{"bytes EXISTS", fBy.Exists(), "a"},
		{"bytes NOT_EXISTS", fBy.NotExists(), "b,c,d,e"},
		{"json EXISTS", fJS.Exists(), "a"},
		{"json NOT_EXISTS", fJS.NotExists(), "b,c,d,e"},

		// lists: EQ = contains, IN = contains any, EXISTS = non-empty
		{"list contains", fSs.Contains("y"), "a,b"},
		{"list contains empty string", fSs.Contains(""), "d"},
		{"list not contains", fSs.NotContains("y"), "c,d,e"},
		{"list contains any", fSs.ContainsAny("x", "日本"), "a,e"},
		{"list contains any of nothing", fSs.ContainsAny(), ""},
		{"list contains none", fSs.ContainsNone("x", "日本"), "b,c,d"},
		{"list contains none of nothing", fSs.ContainsNone(), "a,b,c,d,e"},
		{"list contains any many", fSs.ContainsAny("1", "2", "3", "4", "5", "6", "7", "8", "9", "y"), "a,b"},
		{"list EXISTS", fSs.Exists(), "a,b,d,e"},
		{"list NOT_EXISTS", fSs.NotExists(), "c"},
		{"int list contains", fIs.Contains(-5), "b"},
		{"int list contains zero", fIs.Contains(0), "d"},
		{"int list EXISTS", fIs.Exists(), "a,b,d"},
		{"int list none", fIs.ContainsNone(1, 0), "b,c,e"},
		{"float list contains", fFs.Contains(3), "b"},
		{"float list contains -0", fFs.Contains(0), "d"},
		{"bool list contains true", fBs.Contains(true), "a,d"},
		{"bool list not contains true", fBs.NotContains(true), "b,c,e"},
		{"time list contains other zone", fTs.Contains(t2.In(paris)), "b,d"},
		{"time list contains any", fTs.ContainsAny(t0, t1), "a,b"},
		{"time list contains any of nothing", fTs.ContainsAny(), ""},
		{"time list NOT_EXISTS", fTs.NotExists(), "c,e"},
		{"enum list contains", fEs.Contains("blue"), "b"},
		{"enum list none", fEs.ContainsNone("blue", "red"), "c,d,e"},

		// combinators
		{"AND", query.And(fI.GTE(0), fS.Like("%p%")), "a"},
		{"OR", query.Or(fI.EQ(-5), fS.EQ("")), "b,d"},
		{"NOT of positive matches missing", query.Not(fI.GT(0)), "b,c,d"},
		{"NOT NOT", query.Not(query.Not(fI.GT(0))), "a,e"},
		{"NOT of AND", query.Not(query.And(fI.GTE(0), fB.EQ(false))), "a,b,c,e"},
		{"nested", query.Or(query.And(fS.Exists(), query.Not(fSs.Contains("x"))), fCount.EQ(0)), "b,c,d"},
		{"id EQ", fID.EQ("c"), "c"},
		{"id IN", fID.IN("c", "zz", "a"), "a,c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := matchIDs(t, tt.cond)
			want := ids(tt.want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: got %v, want %v", tt.cond, got, want)
			}
			// NOT(c) matches exactly the others.
			if neg := matchIDs(t, query.Not(tt.cond)); !slices.Equal(neg, complement(want)) {
				t.Errorf("NOT %s: got %v, want %v", tt.cond, neg, complement(want))
			}
		})
	}
}

// TestNegativeOpsAreNegations checks that every negative operator matches exactly the
// records its positive twin does not, on every applicable field.
func TestNegativeOpsAreNegations(t *testing.T) {
	pairs := []struct{ pos, neg query.Cond[rec] }{
		{fS.EQ("apple"), fS.NEQ("apple")},
		{fS.IN("apple", ""), fS.NotIn("apple", "")},
		{fS.Like("%p%"), fS.NotLike("%p%")},
		{fS.Between("A", "b"), fS.NotBetween("A", "b")},
		{fS.Exists(), fS.NotExists()},
		{fI.EQ(0), fI.NEQ(0)},
		{fI.IN(0, 1), fI.NotIn(0, 1)},
		{fI.Between(-1, 1), fI.NotBetween(-1, 1)},
		{fF.Between(-1, 1), fF.NotBetween(-1, 1)},
		{fB.EQ(false), fB.NEQ(false)},
		{fT.Between(t0, t1), fT.NotBetween(t0, t1)},
		{fT.IN(t0), fT.NotIn(t0)},
		{fE.IN("red"), fE.NotIn("red")},
		{fBy.Exists(), fBy.NotExists()},
		{fSs.Contains("x"), fSs.NotContains("x")},
		{fSs.ContainsAny("x", "y"), fSs.ContainsNone("x", "y")},
		{fTs.Exists(), fTs.NotExists()},
		{fFs.Contains(0), fFs.NotContains(0)},
	}
	for _, p := range pairs {
		pos, neg := matchIDs(t, p.pos), matchIDs(t, p.neg)
		if !slices.Equal(neg, complement(pos)) {
			t.Errorf("%s matches %v but %s matches %v", p.pos, pos, p.neg, neg)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		e    query.Expr
		kind error
		msg  string
	}{
		{"unknown field", query.Expr{Op: query.OpEQ, Field: "nope", Args: []any{"x"}}, query.ErrBadQuery, `no field "nope"`},
		{"invalid op", query.Expr{Op: query.OpInvalid}, query.ErrBadQuery, "invalid operator"},
		{"unknown op", query.Expr{Op: query.Op(200), Field: "s", Args: []any{"x"}}, query.ErrBadQuery, "unknown operator"},
		{"wrong operand type", query.Expr{Op: query.OpEQ, Field: "i", Args: []any{"1"}}, query.ErrBadQuery, "operand 1 of type string"},
		{"int operand of type int", query.Expr{Op: query.OpEQ, Field: "i", Args: []any{1}}, query.ErrBadQuery, "of type int"},
		{"too few operands", query.Expr{Op: query.OpBetween, Field: "i", Args: []any{int64(1)}}, query.ErrBadQuery, "takes 2 operand(s), got 1"},
		{"EQ without operand", query.Expr{Op: query.OpEQ, Field: "i"}, query.ErrBadQuery, "takes 1 operand(s), got 0"},
		{"GT on list", query.Expr{Op: query.OpGT, Field: "is", Args: []any{int64(1)}}, query.ErrBadQuery, "not ordered"},
		{"GT on bytes", query.Expr{Op: query.OpGT, Field: "by", Args: []any{"x"}}, query.ErrBadQuery, "not ordered"},
		{"EQ on json", query.Expr{Op: query.OpEQ, Field: "js", Args: []any{"x"}}, query.ErrBadQuery, "only be tested with EXISTS"},
		{"LIKE on int", query.Expr{Op: query.OpLike, Field: "i", Args: []any{query.PrefixLike("x")}}, query.ErrBadQuery, "pattern operators"},
		{"LIKE on enum", query.Expr{Op: query.OpLike, Field: "e", Args: []any{query.PrefixLike("x")}}, query.ErrBadQuery, "pattern operators"},
		{"LIKE on list", query.Expr{Op: query.OpLike, Field: "ss", Args: []any{query.PrefixLike("x")}}, query.ErrBadQuery, "pattern operators"},
		{"LIKE with string operand", query.Expr{Op: query.OpLike, Field: "s", Args: []any{"x%"}}, query.ErrBadQuery, "operand of type string"},
		{"REGEX nil", query.Expr{Op: query.OpRegex, Field: "s", Args: []any{(*query.Regex)(nil)}}, query.ErrBadQuery, "operand"},
		{"STARTS_WITH non-string", query.Expr{Op: query.OpStartsWith, Field: "s", Args: []any{1}}, query.ErrBadQuery, "operand"},
		{"BETWEEN on list", query.Expr{Op: query.OpBetween, Field: "ss", Args: []any{"a", "b"}}, query.ErrBadQuery, "not ordered"},
		{"NaN operand", query.Expr{Op: query.OpEQ, Field: "f", Args: []any{nan()}}, query.ErrBadValue, "not a finite number"},
		{"NaN in list operand", query.Expr{Op: query.OpIN, Field: "fs", Args: []any{1.0, nan()}}, query.ErrBadValue, "not a finite number"},
		{"NOT with two children", query.Expr{Op: query.OpNot, Sub: []query.Expr{query.All(), query.All()}}, query.ErrBadQuery, "exactly one"},
		{"NOT with no child", query.Expr{Op: query.OpNot}, query.ErrBadQuery, "exactly one"},
		{"error deep inside", query.AndExpr(fI.EQ(1).Expr(), query.OrExpr(fS.EQ("x").Expr(), query.Expr{Op: query.OpEQ, Field: "zz", Args: []any{"x"}})), query.ErrBadQuery, `"zz"`},
		{"atom with children", query.Expr{Op: query.OpEQ, Field: "s", Args: []any{"x"}, Sub: []query.Expr{query.All()}}, query.ErrBadQuery, "sub-conditions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := eval.Compile(recDesc, tt.e)
			if err == nil {
				t.Fatalf("Compile(%s) = %v, want an error", tt.e, p != nil)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("error %q does not wrap %v", err, tt.kind)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
		})
	}
}

func nan() float64 {
	var z float64
	return z / z
}

func TestLikeMatcherShapes(t *testing.T) {
	values := []string{"", "a", "ab", "abc", "ba", "bab", "日本", "日", "x日本y", "%", "_", `\`, "aXb", "ab ab", "😀"}
	patterns := []string{"", "a", "%", "%%", "_", "__", "_%", "%_", "%_%", "a%", "%a", "%a%", "a%b", "a_b", "%b%a%",
		`\%`, `\_`, `\\`, "日%", "%本", "_本", "__%", "%日本%", "a%%b", "a%b%", "%a%b"}
	for _, p := range patterns {
		l, err := query.ParseLike(p)
		if err != nil {
			t.Fatalf("ParseLike(%q): %v", p, err)
		}
		m := eval.LikeMatcher(l)
		for _, v := range values {
			if got, want := m(v), refLike(p, v); got != want {
				t.Errorf("LIKE %q on %q: got %v, want %v", p, v, got, want)
			}
		}
	}
}

func TestEvalAllocatesNothing(t *testing.T) {
	p, err := eval.Compile(recDesc, query.And(fF.Between(0, 10), fSs.Contains("x"), fS.Like("a%e"), query.Not(fT.GT(t1))).Expr())
	if err != nil {
		t.Fatal(err)
	}
	recs := dataset()
	allocs := testing.AllocsPerRun(100, func() {
		for i := range recs {
			p(&recs[i])
		}
	})
	if allocs != 0 {
		t.Errorf("evaluating allocates %v times per run, want 0", allocs)
	}
}
