package drivertest

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
)

// The value pools of the differential test: the nasty values of issue 19 (unicode, case
// variants, extreme numbers, −0, times in many zones, long strings within the limits).
var (
	diffLong = strings.Repeat("k", 950)
	diffStrs = []string{
		"", "a", "A", "b", "B", "ab", "aB", "Ab", "abc", "é", "É", "e\u0301", "ß", "SS", "ı", "İ", "日本", "日",
		"😀", "ａ", "a b", " a", "a%b", "a_b", `a\b`, "x*y?", "[z]", "\t", "\uffff", "\U0010ffff", "0", "10", "9",
		diffLong, diffLong + "a", diffLong + "b", diffLong[:899] + "é", strings.Repeat("é", 600), diffLong + diffLong,
		strings.Repeat("k", stringLimit), strings.Repeat("k", stringLimit-1) + "l", strings.Repeat("é", stringLimit/2),
	}
	diffCodes = []string{
		"00000000-0000-0000-0000-000000000000", "0190a6c4-1b2c-7d3e-8f40-123456789abc",
		"0190a6c4-1b2c-7d3e-8f40-123456789abd", "ffffffff-ffff-ffff-ffff-ffffffffffff",
	}
	diffInts = []int64{
		0, 1, -1, 2, 42, -42, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1,
		1 << 53, 1<<53 + 1, -(1 << 53) - 1, math.MaxInt32, math.MinInt32,
	}
	diffFloats = []float64{
		0, math.Copysign(0, -1), 1, -1, 1.5, -1.5, 0.1, 1.0 / 3, math.MaxFloat64, -math.MaxFloat64,
		math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, 1e-300, 1e300, 2.5e-7, 9007199254740993,
	}
	diffZones = []*time.Location{
		time.UTC, time.FixedZone("+05:30", 5*3600+1800), time.FixedZone("-08:00", -8*3600),
		time.FixedZone("+14:00", 14*3600), time.FixedZone("-12:00", -12*3600), time.FixedZone("+00:01", 60),
	}
	diffTimes = []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 12, 0, 0, 1000, time.UTC),
		time.Date(2024, 2, 29, 12, 0, 0, 999, time.UTC), time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC),
		time.Date(2038, 1, 19, 3, 14, 8, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(1900, 6, 15, 8, 0, 0, 0, time.UTC),
	}
	diffMetas = []string{`{"a":1}`, `{"a": 1}`, `[]`, `null`, `"x"`, `{"k":[1,"two",null],"é":{}}`, " [1, 2] "}
)

// diffGen draws records, conditions and sort keys from one seeded source.
type diffGen struct {
	rng  *rand.Rand
	recs []things.Thing
}

func (g *diffGen) n(k int) int           { return g.rng.IntN(k) }
func (g *diffGen) chance(p float64) bool { return g.rng.Float64() < p }
func pick[V any](g *diffGen, vs []V) V   { return vs[g.n(len(vs))] }

func (g *diffGen) str() string {
	s := pick(g, diffStrs)
	if g.chance(0.2) && s != "" {
		if t := s + pick(g, diffStrs[:20]); len(t) <= stringLimit {
			s = t
		}
	}
	return s
}

func (g *diffGen) time() time.Time {
	t := pick(g, diffTimes)
	if g.chance(0.5) {
		t = t.Add(time.Duration(g.n(5)-2) * time.Hour)
	}
	z := pick(g, diffZones)
	if y := t.In(z).Year(); y >= 1 && y <= 9999 {
		t = t.In(z)
	}
	if t.Year() < 1 || t.UTC().Year() < 1 {
		return diffTimes[0]
	}
	if t.UTC().Year() > 9999 {
		return diffTimes[7]
	}
	return t
}

// records returns n random records with ids that sort in a different order than they
// are made, some of them non-ASCII.
func (g *diffGen) records(n int) []things.Thing {
	suffixes := []string{"", "", "", "é", "A", "a", "_x", ".", "日", "😀", " z", "-", "~"}
	kinds := []things.ThingKind{things.ThingKindA, things.ThingKindB, things.ThingKindC}
	levels := []things.ThingLevel{things.ThingLevelLow, things.ThingLevelMid, things.ThingLevelHigh}
	out := make([]things.Thing, n)
	for i, p := range g.rng.Perm(n) {
		r := things.Thing{
			ID:   fmt.Sprintf("d%03d%s", p, pick(g, suffixes)),
			Name: g.str(), Count: pick(g, diffInts), Ratio: pick(g, diffFloats), Active: g.chance(0.5), Created: g.time(),
		}
		if g.chance(0.7) {
			r.Title = ptr(g.str())
		}
		if g.chance(0.6) {
			r.Body = ptr(g.str())
		}
		if g.chance(0.6) {
			r.Code = ptr(pick(g, diffCodes))
		}
		if g.chance(0.7) {
			r.Kind = ptr(pick(g, kinds))
		}
		if g.chance(0.7) {
			r.Rank = ptr(pick(g, diffInts))
		}
		if g.chance(0.7) {
			r.Score = ptr(pick(g, diffFloats))
		}
		if g.chance(0.7) {
			r.Flag = ptr(g.chance(0.5))
		}
		if g.chance(0.7) {
			r.At = ptr(g.time())
		}
		for range g.n(4) {
			r.Tags = append(r.Tags, g.str())
		}
		for range g.n(4) {
			r.Nums = append(r.Nums, pick(g, diffInts))
		}
		for range g.n(3) {
			r.Levels = append(r.Levels, pick(g, levels))
		}
		if g.chance(0.3) {
			r.Blob = []byte{byte(g.n(256)), 0}
		}
		if g.chance(0.4) {
			r.Meta = json.RawMessage(pick(g, diffMetas))
		}
		out[i] = r
	}
	return out
}

// value returns an operand for a field: mostly a value some record holds, else one from
// the pools, sometimes changed (a prefix, another case).
func (g *diffGen) stringOperand(get func(*things.Thing) []string) string {
	if g.chance(0.6) {
		r := &g.recs[g.n(len(g.recs))]
		if vs := get(r); len(vs) > 0 {
			s := pick(g, vs)
			switch g.n(4) {
			case 0:
				return prefixOf(s, g.n(len(s)+1))
			case 1:
				return strings.ToUpper(s)
			}
			return s
		}
	}
	return g.str()
}

// prefixOf returns the longest prefix of s of at most n bytes ending at a character
// boundary.
func prefixOf(s string, n int) string {
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// likeOf makes a LIKE pattern from s: its literal text escaped, with a prefix, a suffix
// or a character replaced by a wildcard.
func (g *diffGen) likeOf(s string) string {
	runes := []rune(s)
	var b strings.Builder
	for i, r := range runes {
		switch {
		case g.chance(0.1):
			b.WriteByte('_')
		case g.chance(0.1):
			b.WriteByte('%')
			if i+1 < len(runes) && g.chance(0.5) {
				continue
			}
			b.WriteString(query.EscapeLike(string(r)))
		default:
			b.WriteString(query.EscapeLike(string(r)))
		}
	}
	switch g.n(4) {
	case 0:
		return b.String() + "%"
	case 1:
		return "%" + b.String()
	case 2:
		return "%" + b.String() + "%"
	}
	return b.String()
}

// regexOf makes a portable REGEX from s: its text with punctuation escaped, then a
// quantified wildcard or class; or one of a few fixed patterns.
func (g *diffGen) regexOf(s string) string {
	fixed := []string{"a.*", ".*b", "[a-c]+", "(a|b)c?", "é.", ".{2}", "日本|a", "[^a]*", ".*", "[0-9]+", "A|a|B", "k{200}.*", "(k|é){1,255}.?"}
	if s == "" || len(s) > 200 || g.chance(0.3) {
		return pick(g, fixed)
	}
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf && !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			if r < ' ' {
				b.WriteRune(r)
				continue
			}
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String() + pick(g, []string{"", ".*", ".?", "[a-z]*"})
}

func strsOf(get func(*things.Thing) (string, bool)) func(*things.Thing) []string {
	return func(r *things.Thing) []string {
		if v, ok := get(r); ok {
			return []string{v}
		}
		return nil
	}
}

// stringCond returns a random condition of any string operator on f.
func (g *diffGen) stringCond(f query.StringField[things.Thing], get func(*things.Thing) []string) query.Cond[things.Thing] {
	s := g.stringOperand(get)
	switch g.n(16) {
	case 0:
		return f.NEQ(s)
	case 1:
		return f.IN(s, g.stringOperand(get), g.str())
	case 2:
		return f.NotIn(s, g.stringOperand(get))
	case 3:
		return f.GT(s)
	case 4:
		return f.GTE(s)
	case 5:
		return f.LT(s)
	case 6:
		return f.LTE(s)
	case 7:
		lo, hi := s, g.stringOperand(get)
		if g.chance(0.5) {
			return f.NotBetween(min(lo, hi), max(lo, hi))
		}
		return f.Between(min(lo, hi), max(lo, hi))
	case 8:
		return f.Like(g.likeOf(s))
	case 9:
		return f.NotLike(g.likeOf(s))
	case 10:
		return f.StartsWith(s)
	case 11:
		return f.Regex(g.regexOf(s))
	case 12:
		return f.Exists()
	case 13:
		return f.NotExists()
	}
	return f.EQ(s)
}

// orderedCond returns a random condition of any comparison operator on f.
func orderedCond[V any](g *diffGen, f interface {
	EQ(V) query.Cond[things.Thing]
	NEQ(V) query.Cond[things.Thing]
	IN(...V) query.Cond[things.Thing]
	NotIn(...V) query.Cond[things.Thing]
	GT(V) query.Cond[things.Thing]
	GTE(V) query.Cond[things.Thing]
	LT(V) query.Cond[things.Thing]
	LTE(V) query.Cond[things.Thing]
	Between(V, V) query.Cond[things.Thing]
	NotBetween(V, V) query.Cond[things.Thing]
	Exists() query.Cond[things.Thing]
	NotExists() query.Cond[things.Thing]
}, val func() V, less func(a, b V) bool) query.Cond[things.Thing] {
	v, w := val(), val()
	if less(w, v) {
		v, w = w, v
	}
	switch g.n(12) {
	case 0:
		return f.NEQ(v)
	case 1:
		return f.IN(v, w, val())
	case 2:
		return f.NotIn(v, w)
	case 3:
		return f.GT(v)
	case 4:
		return f.GTE(v)
	case 5:
		return f.LT(v)
	case 6:
		return f.LTE(v)
	case 7:
		return f.Between(v, w)
	case 8:
		return f.NotBetween(v, w)
	case 9:
		return f.Exists()
	case 10:
		return f.NotExists()
	}
	return f.EQ(v)
}

func listCond[E any](g *diffGen, f query.ListField[things.Thing, E], val func() E) query.Cond[things.Thing] {
	switch g.n(6) {
	case 0:
		return f.NotContains(val())
	case 1:
		return f.ContainsAny(val(), val(), val())
	case 2:
		return f.ContainsNone(val(), val())
	case 3:
		return f.Exists()
	case 4:
		return f.NotExists()
	}
	return f.Contains(val())
}

// atom returns a random condition on a random field of Thing.
func (g *diffGen) atom() query.Cond[things.Thing] {
	F := things.ThingFields
	str := func(p *string) (string, bool) { return deref(p) }
	fromRecs := func(get func(*things.Thing) (time.Time, bool)) func() time.Time {
		return func() time.Time {
			if g.chance(0.5) {
				if t, ok := get(&g.recs[g.n(len(g.recs))]); ok {
					return t
				}
			}
			return g.time()
		}
	}
	timeLess := func(a, b time.Time) bool { return a.Before(b) }
	intLess := func(a, b int64) bool { return a < b }
	floatLess := func(a, b float64) bool { return a < b }
	ints := func() int64 { return pick(g, diffInts) }
	floats := func() float64 { return pick(g, diffFloats) }
	bools := func() bool { return g.chance(0.5) }
	switch g.n(17) {
	case 0:
		return g.stringCond(F.ID, func(r *things.Thing) []string { return []string{r.ID} })
	case 1:
		return g.stringCond(F.Name, func(r *things.Thing) []string { return []string{r.Name} })
	case 2:
		return g.stringCond(F.Title, strsOf(func(r *things.Thing) (string, bool) { return str(r.Title) }))
	case 3:
		return g.stringCond(F.Body, strsOf(func(r *things.Thing) (string, bool) { return str(r.Body) }))
	case 4:
		codes := func() string { return pick(g, diffCodes) }
		return orderedCond[string](g, F.Code, codes, func(a, b string) bool { return a < b })
	case 5:
		kinds := []things.ThingKind{things.ThingKindA, things.ThingKindB, things.ThingKindC}
		switch g.n(5) {
		case 0:
			return F.Kind.NEQ(pick(g, kinds))
		case 1:
			return F.Kind.IN(pick(g, kinds), pick(g, kinds))
		case 2:
			return F.Kind.NotIn(pick(g, kinds))
		case 3:
			return F.Kind.Exists()
		}
		return F.Kind.EQ(pick(g, kinds))
	case 6:
		return orderedCond[int64](g, F.Rank, ints, intLess)
	case 7:
		return orderedCond[int64](g, F.Count, ints, intLess)
	case 8:
		return orderedCond[float64](g, F.Score, floats, floatLess)
	case 9:
		return orderedCond[float64](g, F.Ratio, floats, floatLess)
	case 10:
		f := pick(g, []query.BoolField[things.Thing]{F.Flag, F.Active})
		switch g.n(4) {
		case 0:
			return f.NEQ(bools())
		case 1:
			return f.Exists()
		case 2:
			return f.NotExists()
		}
		return f.EQ(bools())
	case 11:
		return orderedCond[time.Time](g, F.At, fromRecs(func(r *things.Thing) (time.Time, bool) {
			if r.At == nil {
				return time.Time{}, false
			}
			return *r.At, true
		}), timeLess)
	case 12:
		return orderedCond[time.Time](g, F.Created, fromRecs(func(r *things.Thing) (time.Time, bool) { return r.Created, true }), timeLess)
	case 13:
		return listCond(g, F.Tags, func() string { return g.stringOperand(func(r *things.Thing) []string { return r.Tags }) })
	case 14:
		return listCond(g, F.Nums, ints)
	case 15:
		return listCond(g, F.Levels, func() things.ThingLevel {
			return pick(g, []things.ThingLevel{things.ThingLevelLow, things.ThingLevelMid, things.ThingLevelHigh})
		})
	}
	f := pick(g, []query.PresenceField[things.Thing]{F.Blob, F.Meta})
	if g.chance(0.5) {
		return f.NotExists()
	}
	return f.Exists()
}

// diffNode is a filter tree the shrinker can take apart.
type diffNode struct {
	op   query.Op // OpAnd, OpOr, OpNot or OpEQ for a leaf
	kids []*diffNode
	leaf query.Cond[things.Thing]
}

func (n *diffNode) cond() query.Cond[things.Thing] {
	kids := make([]query.Cond[things.Thing], len(n.kids))
	for i, k := range n.kids {
		kids[i] = k.cond()
	}
	switch n.op {
	case query.OpAnd:
		return query.And(kids...)
	case query.OpOr:
		return query.Or(kids...)
	case query.OpNot:
		return query.Not(kids[0])
	}
	return n.leaf
}

func (g *diffGen) tree(depth int) *diffNode {
	if depth == 0 || g.chance(0.4) {
		return &diffNode{op: query.OpEQ, leaf: g.atom()}
	}
	op := pick(g, []query.Op{query.OpAnd, query.OpOr, query.OpNot})
	n := 1
	if op != query.OpNot {
		n = g.n(4) // And() and Or() of nothing too
	}
	node := &diffNode{op: op}
	for range n {
		node.kids = append(node.kids, g.tree(depth-1))
	}
	return node
}

// sorts returns 0 to 3 random sort keys on the sortable fields (the id is appended by the
// repository when missing).
func (g *diffGen) sorts() []query.Sort[things.Thing] {
	F := things.ThingFields
	all := []query.Sort[things.Thing]{
		F.ID.Asc(), F.ID.Desc(), F.Name.Asc(), F.Name.Desc(), F.Title.Asc(), F.Title.Desc(), F.Body.Asc(),
		F.Code.Desc(), F.Kind.Asc(), F.Kind.Desc(), F.Rank.Asc(), F.Rank.Desc(), F.Count.Desc(), F.Score.Asc(),
		F.Score.Desc(), F.Ratio.Asc(), F.Flag.Asc(), F.Flag.Desc(), F.Active.Desc(), F.At.Asc(), F.At.Desc(),
		F.Created.Asc(), F.Created.Desc(),
	}
	var out []query.Sort[things.Thing]
	for range g.n(4) {
		s := pick(g, all)
		if !slices.ContainsFunc(out, func(o query.Sort[things.Thing]) bool { return o.Key().Field == s.Key().Field }) {
			out = append(out, s)
		}
	}
	return out
}
