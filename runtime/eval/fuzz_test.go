package eval_test

import (
	"errors"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/repokit/repokit/runtime/eval"
	"github.com/repokit/repokit/runtime/query"
)

// The reference implementations below are deliberately simple and independent of the code
// under test: LIKE by dynamic programming over code points, REGEX by backtracking over Go's
// parse tree.

type likeTok struct {
	kind byte // 'l' literal rune, '_' one, '%' any
	r    rune
}

// refParseLike tokenizes a LIKE pattern; ok is false for a pattern the documented syntax
// rejects (invalid UTF-8, a trailing \, \ before anything but %, _ or \).
func refParseLike(p string) (toks []likeTok, ok bool) {
	if !utf8.ValidString(p) {
		return nil, false
	}
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '\\':
			if i+1 == len(rs) || !strings.ContainsRune(`%_\`, rs[i+1]) {
				return nil, false
			}
			i++
			toks = append(toks, likeTok{'l', rs[i]})
		case '%':
			toks = append(toks, likeTok{kind: '%'})
		case '_':
			toks = append(toks, likeTok{kind: '_'})
		default:
			toks = append(toks, likeTok{'l', rs[i]})
		}
	}
	return toks, true
}

// refLike reports whether the whole of s matches the valid LIKE pattern p.
func refLike(p, s string) bool {
	toks, ok := refParseLike(p)
	if !ok {
		panic("refLike: invalid pattern " + p)
	}
	rs := []rune(s)
	// m[j] = the first i tokens match rs[:j]
	m := make([]bool, len(rs)+1)
	m[0] = true
	for _, t := range toks {
		next := make([]bool, len(rs)+1)
		for j := 0; j <= len(rs); j++ {
			switch t.kind {
			case '%':
				next[j] = m[j] || (j > 0 && next[j-1])
			case '_':
				next[j] = j > 0 && m[j-1]
			default:
				next[j] = j > 0 && m[j-1] && rs[j-1] == t.r
			}
		}
		m = next
	}
	return m[len(rs)]
}

// refRegex reports whether the whole of s matches pattern, by backtracking over the parse
// tree. ok is false when backtracking would take too long (nested quantifiers make it
// exponential).
func refRegex(pattern, s string) (match, ok bool) {
	re, err := syntax.Parse(pattern, syntax.Perl|syntax.DotNL)
	if err != nil {
		panic("refRegex: " + err.Error())
	}
	if !cheap(re) {
		return false, false
	}
	m := &refMatcher{s: []rune(s), budget: 200000}
	match = m.match(re, 0, func(j int) bool { return j == len(m.s) })
	return match, m.budget > 0
}

type refMatcher struct {
	s      []rune
	budget int // steps left; the match is abandoned at 0
}

func cheap(re *syntax.Regexp) bool {
	if re.Op == syntax.OpRepeat && (re.Min > 4 || re.Max > 4) {
		return false
	}
	for _, s := range re.Sub {
		if !cheap(s) {
			return false
		}
	}
	return true
}

func (m *refMatcher) match(re *syntax.Regexp, i int, k func(int) bool) bool {
	if m.budget--; m.budget <= 0 {
		return false
	}
	s := m.s
	switch re.Op {
	case syntax.OpEmptyMatch:
		return k(i)
	case syntax.OpNoMatch:
		return false
	case syntax.OpLiteral:
		// Go's parser factors p|P into a case-folded literal; (?i) itself is rejected.
		fold := re.Flags&syntax.FoldCase != 0
		for _, r := range re.Rune {
			if i >= len(s) || !(s[i] == r || fold && sameFold(s[i], r)) {
				return false
			}
			i++
		}
		return k(i)
	case syntax.OpCharClass:
		if i >= len(s) {
			return false
		}
		for j := 0; j+1 < len(re.Rune); j += 2 {
			if re.Rune[j] <= s[i] && s[i] <= re.Rune[j+1] {
				return k(i + 1)
			}
		}
		return false
	case syntax.OpAnyChar:
		return i < len(s) && k(i+1)
	case syntax.OpAnyCharNotNL:
		return i < len(s) && s[i] != '\n' && k(i+1)
	case syntax.OpCapture:
		return m.match(re.Sub[0], i, k)
	case syntax.OpConcat:
		var step func(n, i int) bool
		step = func(n, i int) bool {
			if n == len(re.Sub) {
				return k(i)
			}
			return m.match(re.Sub[n], i, func(j int) bool { return step(n+1, j) })
		}
		return step(0, i)
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			if m.match(sub, i, k) {
				return true
			}
		}
		return false
	case syntax.OpQuest:
		return k(i) || m.match(re.Sub[0], i, k)
	case syntax.OpStar:
		return m.repeat(re.Sub[0], i, 0, 0, -1, k)
	case syntax.OpPlus:
		return m.repeat(re.Sub[0], i, 0, 1, -1, k)
	case syntax.OpRepeat:
		return m.repeat(re.Sub[0], i, 0, re.Min, re.Max, k)
	}
	panic("refMatcher: unexpected op " + re.String())
}

// repeat matches sub between min and max (-1: unbounded) times, having matched it n times
// already; an empty iteration counts only while below min.
func (m *refMatcher) repeat(sub *syntax.Regexp, i, n, min, max int, k func(int) bool) bool {
	if n >= min && k(i) {
		return true
	}
	if max >= 0 && n >= max {
		return false
	}
	return m.match(sub, i, func(j int) bool {
		if j == i && n >= min {
			return false
		}
		return m.repeat(sub, j, n+1, min, max, k)
	})
}

func compileOrFail(t *testing.T, c query.Cond[rec]) eval.Pred[rec] {
	t.Helper()
	if err := c.Err(); err != nil {
		t.Fatalf("building %s: %v", c, err)
	}
	p, err := eval.Compile(recDesc, c.Expr())
	if err != nil {
		t.Fatalf("Compile(%s): %v", c, err)
	}
	// Every route gives the same answer: predicate, accessor-only predicate, block scan.
	pa, err := eval.Compile(recDescAccessors, c.Expr())
	if err != nil {
		t.Fatalf("Compile with accessors(%s): %v", c, err)
	}
	f, err := eval.CompileFilter(recDesc, c.Expr())
	if err != nil {
		t.Fatalf("CompileFilter(%s): %v", c, err)
	}
	return func(r *rec) bool {
		got := p(r)
		if ga := pa(r); ga != got {
			t.Fatalf("%s: offset predicate %v, accessor predicate %v", c, got, ga)
		}
		if gb := len(f.Append(nil, []*rec{r})) == 1; gb != got {
			t.Fatalf("%s: predicate %v, block scan %v", c, got, gb)
		}
		return got
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// FuzzEval checks compiled predicates and comparators against the reference
// implementations above on random values and patterns. mode selects the operator family.
func FuzzEval(f *testing.F) {
	seeds := []struct {
		value, pattern string
		mode           uint8
	}{
		{"apple", "a%e", 0}, {"é日本😀", "é__%", 0}, {`50%_off\`, `50\%\_off\\`, 0}, {"abc", `a\`, 0},
		{"abc", `\x`, 0}, {"aaaaaaaaaaaaaaaaaaaab", "%a%a%a%a%a%a%a%b", 0}, {"x", "%_%_", 0},
		{"apple", "a(p|q)+le", 1}, {"ab", "a|ab", 1}, {"a\nb", "a.b", 1}, {"", "(a*)*", 1},
		{"abc", "^abc$", 1}, {"abc", `\d+`, 1}, {"aa", "a{2}", 1}, {"a{", "a{", 1}, {"x", "[[:alpha:]]", 1},
		{"abc", "(?i)ABC", 1}, {"ab", "a*?b", 1}, {"日本", "[日月]本", 1}, {"]", "[]]", 1}, {"a", "[^]a]", 1},
		{"50%", "50%", 2}, {"a_b", "a_", 2}, {"Apple", "apple", 3}, {"é", "e", 3}, {"", "", 3},
		{"x,y,", "y", 4}, {"", "", 4}, {"abc", "abd", 5}, {"b", "", 6}, {"", "é", 7},
	}
	for _, s := range seeds {
		f.Add(s.value, s.pattern, s.mode, true, int64(7))
	}
	f.Fuzz(func(t *testing.T, value, pattern string, mode uint8, present bool, n int64) {
		value = strings.ToValidUTF8(value, "?") // stored strings are always valid UTF-8
		r := rec{ID: "r", Count: n}
		if present {
			r.S = &value
		}
		switch mode % 8 {
		case 0: // LIKE, NOT_LIKE
			_, valid := refParseLike(pattern)
			l, err := query.ParseLike(pattern)
			if (err == nil) != valid {
				t.Fatalf("ParseLike(%q) error %v, reference says valid=%v", pattern, err, valid)
			}
			if err != nil {
				if !errors.Is(err, query.ErrBadPattern) {
					t.Fatalf("ParseLike(%q) error %v does not wrap ErrBadPattern", pattern, err)
				}
				if c := fS.Like(pattern); c.Err() == nil || !errors.Is(c.Err(), query.ErrBadPattern) {
					t.Fatalf("Like(%q).Err() = %v, want ErrBadPattern", pattern, c.Err())
				}
				return
			}
			want := present && refLike(pattern, value)
			if got := l.Match(value); present && got != want {
				t.Fatalf("Like(%q).Match(%q) = %v, want %v", pattern, value, got, want)
			}
			if got := compileOrFail(t, fS.Like(pattern))(&r); got != want {
				t.Fatalf("%q LIKE %q (present=%v) = %v, want %v", value, pattern, present, got, want)
			}
			if got := compileOrFail(t, fS.NotLike(pattern))(&r); got != !want {
				t.Fatalf("%q NOT LIKE %q (present=%v) = %v, want %v", value, pattern, present, got, !want)
			}
		case 1: // REGEX
			if len(pattern) > 16 || utf8.RuneCountInString(value) > 10 {
				return
			}
			c := fS.Regex(pattern)
			if err := c.Err(); err != nil {
				if !errors.Is(err, query.ErrBadPattern) {
					t.Fatalf("Regex(%q) error %v does not wrap ErrBadPattern", pattern, err)
				}
				return
			}
			// Accepted patterns contain no construct outside the subset.
			re, err := syntax.Parse(pattern, syntax.Perl|syntax.DotNL)
			if err != nil {
				t.Fatalf("accepted pattern %q does not parse: %v", pattern, err)
			}
			if bad := unportable(re); bad != "" {
				t.Fatalf("accepted pattern %q contains %s", pattern, bad)
			}
			want, ok := refRegex(pattern, value)
			if !ok {
				return
			}
			want = want && present
			if got := compileOrFail(t, c)(&r); got != want {
				t.Fatalf("%q REGEX %q (present=%v) = %v, want %v", value, pattern, present, got, want)
			}
		case 2: // STARTS_WITH is LIKE with the prefix escaped and % appended
			if !utf8.ValidString(pattern) || strings.IndexByte(pattern, 0) >= 0 {
				if fS.StartsWith(pattern).Err() == nil {
					t.Fatalf("StartsWith(%q) accepted an invalid prefix", pattern)
				}
				return
			}
			want := present && refLike(query.EscapeLike(pattern)+"%", value)
			if want != (present && strings.HasPrefix(value, pattern)) {
				t.Fatalf("EscapeLike(%q)+%% disagrees with HasPrefix on %q", pattern, value)
			}
			if got := compileOrFail(t, fS.StartsWith(pattern))(&r); got != want {
				t.Fatalf("%q STARTS_WITH %q = %v, want %v", value, pattern, got, want)
			}
			if got := query.PrefixLike(pattern).Match(value); got != strings.HasPrefix(value, pattern) {
				t.Fatalf("PrefixLike(%q).Match(%q) = %v", pattern, value, got)
			}
		case 3: // string comparisons: byte order
			if fS.EQ(pattern).Err() != nil {
				return
			}
			c := strings.Compare(value, pattern)
			checks := []struct {
				cond query.Cond[rec]
				want bool
			}{
				{fS.EQ(pattern), present && c == 0},
				{fS.NEQ(pattern), !present || c != 0},
				{fS.GT(pattern), present && c > 0},
				{fS.GTE(pattern), present && c >= 0},
				{fS.LT(pattern), present && c < 0},
				{fS.LTE(pattern), present && c <= 0},
				{fS.Between(pattern, pattern+"\uffff"), present && c >= 0 && value <= pattern+"\uffff"},
				{fS.NotBetween(pattern, pattern+"\uffff"), !(present && c >= 0 && value <= pattern+"\uffff")},
				{fS.IN(pattern, "x", "y", "z", "1", "2", "3", "4", "5", "6"), present && (c == 0 || slices.Contains([]string{"x", "y", "z", "1", "2", "3", "4", "5", "6"}, value))},
			}
			for _, ck := range checks {
				if got := compileOrFail(t, ck.cond)(&r); got != ck.want {
					t.Fatalf("%q (present=%v): %s = %v, want %v", value, present, ck.cond, got, ck.want)
				}
			}
		case 4: // list contains, split on commas
			if fS.EQ(pattern).Err() != nil {
				return
			}
			if present {
				r.Ss = strings.Split(value, ",")
			}
			want := slices.Contains(r.Ss, pattern)
			if got := compileOrFail(t, fSs.Contains(pattern))(&r); got != want {
				t.Fatalf("%q contains %q = %v, want %v", r.Ss, pattern, got, want)
			}
			if got := compileOrFail(t, fSs.NotContains(pattern))(&r); got != !want {
				t.Fatalf("%q not contains %q = %v, want %v", r.Ss, pattern, got, !want)
			}
			if got := compileOrFail(t, fSs.Exists())(&r); got != (len(r.Ss) > 0) {
				t.Fatalf("%q EXISTS = %v", r.Ss, got)
			}
		case 5: // ints
			x := int64(len(pattern)) - int64(len(value))
			if present {
				r.I = &n
			}
			checks := []struct {
				cond query.Cond[rec]
				want bool
			}{
				{fI.EQ(x), present && n == x},
				{fI.NEQ(x), !present || n != x},
				{fI.GT(x), present && n > x},
				{fI.LTE(x), present && n <= x},
				{fI.Between(x, x+int64(len(value))), present && n >= x && n <= x+int64(len(value))},
				{fI.NotBetween(x, x+int64(len(value))), !(present && n >= x && n <= x+int64(len(value)))},
			}
			for _, ck := range checks {
				if got := compileOrFail(t, ck.cond)(&r); got != ck.want {
					t.Fatalf("%d (present=%v): %s = %v, want %v", n, present, ck.cond, got, ck.want)
				}
			}
		case 6: // times in random zones, compared as instants
			zone := time.FixedZone("z", int(n%(14*3600)))
			tv := time.Unix(n%(1<<40), int64(len(value))*1000).In(zone)
			if present {
				r.T = &tv
			}
			op := time.Unix(n%(1<<40), int64(len(pattern))*1000).In(time.UTC)
			c := tv.Compare(op)
			checks := []struct {
				cond query.Cond[rec]
				want bool
			}{
				{fT.EQ(op), present && c == 0},
				{fT.GT(op), present && c > 0},
				{fT.LT(op.In(zone)), present && c < 0},
				{fT.NEQ(op), !present || c != 0},
			}
			for _, ck := range checks {
				if got := compileOrFail(t, ck.cond)(&r); got != ck.want {
					t.Fatalf("%v (present=%v): %s = %v, want %v", tv, present, ck.cond, got, ck.want)
				}
			}
		case 7: // sort comparator: byte order, missing last in both directions, id tiebreak
			other := rec{ID: "q"}
			if pattern != "" {
				p := strings.ToValidUTF8(pattern, "?")
				other.S = &p
			}
			for _, desc := range []bool{false, true} {
				cmp, err := eval.CompileSort(recDesc, []query.SortKey{{Field: "s", Desc: desc}, {Field: "id"}})
				if err != nil {
					t.Fatal(err)
				}
				want := refCompare(r.S, other.S, desc)
				if want == 0 {
					want = strings.Compare(r.ID, other.ID)
				}
				if got := sign(cmp(&r, &other)); got != want {
					t.Fatalf("compare %v and %v (desc=%v) = %d, want %d", r.S, other.S, desc, got, want)
				}
				if got := sign(cmp(&other, &r)); got != -want {
					t.Fatalf("comparator is not antisymmetric on %v and %v", r.S, other.S)
				}
			}
		}
	})
}

func refCompare(a, b *string, desc bool) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	c := strings.Compare(*a, *b)
	if desc {
		c = -c
	}
	return c
}

// sameFold reports whether a and b are in the same Unicode simple case-folding orbit.
func sameFold(a, b rune) bool {
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

// unportable names a construct outside the portable subset found in a parse tree.
func unportable(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText:
		return "an anchor"
	case syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return "a word boundary"
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		if re.Flags&syntax.NonGreedy != 0 {
			return "a non-greedy quantifier"
		}
	}
	for _, s := range re.Sub {
		if u := unportable(s); u != "" {
			return u
		}
	}
	return ""
}

// TestRegexSubsetRejections pins constructs the evaluator must never see.
func TestRegexFuzzRegressions(t *testing.T) {
	for _, p := range []string{"^a", "a$", `\d`, `\w+`, `\s`, `\b`, `\n`, `\pL`, "(?i)a", "(?:a)", "a*?", "a+?", "a??", "a{2}?",
		"[[:alpha:]]", "[]a]", "[^]a]", "a{", "a{,2}", "a}", "[a", `a\`, "a{1,2", "\xff"} {
		if _, err := query.CompileRegex(p); err == nil || !errors.Is(err, query.ErrBadPattern) {
			t.Errorf("CompileRegex(%q) = %v, want ErrBadPattern", p, err)
		}
	}
}
