package drivertest

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

const (
	uuid1 = "0190a6c4-0000-7000-8000-000000000001"
	uuid2 = "0190a6c4-0000-7000-8000-000000000002"
)

// opThings is the operator suite's data set: eight records covering present, missing,
// empty, zero, negative-zero, case, unicode and escape-character values. Each field's
// values, by id:
//
//	name:    a apple, b Apple, c "", d banana, e é日本😀, f "banana split", g 日本, h B
//	title:   a "Hello World", b "hello world", c -, d "", e Émile, f O'Brien "quoted", g %_\, h h
//	body:    a 50% off_now\, b plain, d "", e 日本語; others -
//	code:    a uuid1, b uuid2; others -
//	kind:    a a, b b, d c, g a; others -
//	rank:    a 1, b -5, d 0, e 100, f 7, g 1; c h -
//	count:   a 10, b 20, c 0, d 30, e 40, f 10, g -3, h 5
//	score:   a 1.5, b -2, d -0, e 1e300, f 7.5, h 2.25; c g -
//	ratio:   a .5, b 1, c 0, d -1.25, e 3.25, f .5, g 2, h -.5
//	flag:    a true, b false, d false, f true, h false; c e g -
//	active:  a d e g true; b c f h false
//	at:      a t0, b t1, d t2, e t1+1µs, f t0 (in Tokyo); c g h -
//	created: a d h t0, b e g t1, c f t2
//	tags:    a [red blue], b [blue], d [""], e [日本 x], f [red], g [Red]; c h -
//	nums:    a [1 2], b [-5], d [0], f [7 7], g [100]; c e h -
//	levels:  a [low], b [mid high], d [high], f [low low], h [mid]; c e g -
//	blob:    a, f; meta: a, d
func opThings() []things.Thing {
	tokyo := time.FixedZone("JST", 9*3600)
	return []things.Thing{
		{ID: "a", Name: "apple", Title: ptr("Hello World"), Body: ptr(`50% off_now\`), Code: ptr(uuid1), Kind: ptr(things.ThingKindA),
			Rank: ptr[int64](1), Count: 10, Score: ptr(1.5), Ratio: 0.5, Flag: ptr(true), Active: true, At: ptr(t0), Created: t0,
			Tags: []string{"red", "blue"}, Nums: []int64{1, 2}, Levels: []things.ThingLevel{"low"}, Blob: []byte{1, 2}, Meta: json.RawMessage(`{"a":1}`)},
		{ID: "b", Name: "Apple", Title: ptr("hello world"), Body: ptr("plain"), Code: ptr(uuid2), Kind: ptr(things.ThingKindB),
			Rank: ptr[int64](-5), Count: 20, Score: ptr(-2.0), Ratio: 1, Flag: ptr(false), Active: false, At: ptr(t1), Created: t1,
			Tags: []string{"blue"}, Nums: []int64{-5}, Levels: []things.ThingLevel{"mid", "high"}},
		{ID: "c", Name: "", Count: 0, Ratio: 0, Active: false, Created: t2},
		{ID: "d", Name: "banana", Title: ptr(""), Body: ptr(""), Kind: ptr(things.ThingKindC),
			Rank: ptr[int64](0), Count: 30, Score: ptr(math.Copysign(0, -1)), Ratio: -1.25, Flag: ptr(false), Active: true, At: ptr(t2), Created: t0,
			Tags: []string{""}, Nums: []int64{0}, Levels: []things.ThingLevel{"high"}, Meta: json.RawMessage(`{"b":[1,2]}`)},
		{ID: "e", Name: "é日本😀", Title: ptr("Émile"), Body: ptr("日本語"),
			Rank: ptr[int64](100), Count: 40, Score: ptr(1e300), Ratio: 3.25, Active: true, At: ptr(t1.Add(time.Microsecond)), Created: t1,
			Tags: []string{"日本", "x"}},
		{ID: "f", Name: "banana split", Title: ptr(`O'Brien "quoted"`),
			Rank: ptr[int64](7), Count: 10, Score: ptr(7.5), Ratio: 0.5, Flag: ptr(true), Active: false, At: ptr(t0.In(tokyo)), Created: t2,
			Tags: []string{"red"}, Nums: []int64{7, 7}, Levels: []things.ThingLevel{"low", "low"}, Blob: []byte{0}},
		{ID: "g", Name: "日本", Title: ptr(`%_\`), Kind: ptr(things.ThingKindA),
			Rank: ptr[int64](1), Count: -3, Ratio: 2, Active: true, Created: t1,
			Tags: []string{"Red"}, Nums: []int64{100}},
		{ID: "h", Name: "B", Title: ptr("h"), Count: 5, Score: ptr(2.25), Ratio: -0.5, Flag: ptr(false), Active: false, Created: t0,
			Levels: []things.ThingLevel{"mid"}},
	}
}

var allOpIDs = []string{"a", "b", "c", "d", "e", "f", "g", "h"}

type opCase struct {
	name string
	cond query.Cond[things.Thing]
	want string // ids, comma-separated
}

// operatorCases is the operator table: one meaning per operator, pinned on every backend.
func operatorCases() []opCase {
	F := things.ThingFields
	ny := time.FixedZone("EST", -5*3600)
	paris := time.FixedZone("CET", 3600)
	tokyo := time.FixedZone("JST", 9*3600)
	return []opCase{
		// Strings compare byte for byte: case-sensitive, no collation.
		{"string EQ", F.Name.EQ("apple"), "a"},
		{"string EQ is case-sensitive", F.Name.EQ("APPLE"), ""},
		{"string EQ empty", F.Name.EQ(""), "c"},
		{"string NEQ", F.Name.NEQ("apple"), "b,c,d,e,f,g,h"},
		{"string IN", F.Name.IN("apple", "Apple", "zzz"), "a,b"},
		{"string IN many", F.Name.IN("日本", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "B"), "g,h"},
		{"string IN empty matches nothing", F.Name.IN(), ""},
		{"string NOT_IN empty matches everything", F.Name.NotIn(), "a,b,c,d,e,f,g,h"},
		{"string NOT_IN", F.Name.NotIn("apple", ""), "b,d,e,f,g,h"},
		{"string GT byte order", F.Name.GT("b"), "d,e,f,g"},
		{"string LT byte order", F.Name.LT("B"), "b,c"},
		{"string GTE", F.Name.GTE("banana"), "d,e,f,g"},
		{"string LTE", F.Name.LTE("B"), "b,c,h"},
		{"string BETWEEN inclusive", F.Name.Between("B", "banana"), "a,d,h"},
		{"string BETWEEN lo > hi", F.Name.Between("banana", "B"), ""},
		{"string NOT_BETWEEN", F.Name.NotBetween("B", "banana"), "b,c,e,f,g"},
		{"required string EXISTS", F.Name.Exists(), "a,b,c,d,e,f,g,h"},
		{"required string NOT_EXISTS", F.Name.NotExists(), ""},

		// A missing value fails every positive comparison; negations match it.
		{"optional EQ", F.Title.EQ("hello world"), "b"},
		{"optional NEQ matches missing", F.Title.NEQ("hello world"), "a,c,d,e,f,g,h"},
		{"optional IN", F.Title.IN("h", ""), "d,h"},
		{"optional NOT_IN matches missing", F.Title.NotIn("h", ""), "a,b,c,e,f,g"},
		{"optional EXISTS (empty string is present)", F.Title.Exists(), "a,b,d,e,f,g,h"},
		{"optional NOT_EXISTS", F.Title.NotExists(), "c"},
		{"optional GT", F.Title.GT("h"), "b,e"},
		{"optional LT", F.Title.LT("H"), "d,g"},
		{"optional BETWEEN", F.Title.Between("", "Hello World"), "a,d,g"},
		{"optional NOT_BETWEEN matches missing", F.Title.NotBetween("", "Hello World"), "b,c,e,f,h"},

		// LIKE: % any sequence, _ one code point, \ escapes; whole value; case-sensitive.
		{"LIKE prefix case-sensitive", F.Title.Like("hello%"), "b"},
		{"LIKE suffix", F.Title.Like("%world"), "b"},
		{"LIKE contains", F.Title.Like("%o%"), "a,b,f"},
		{"LIKE _ one character", F.Title.Like("_"), "h"},
		{"LIKE empty pattern", F.Title.Like(""), "d"},
		{"LIKE % matches every present value", F.Title.Like("%"), "a,b,d,e,f,g,h"},
		{"NOT_LIKE % matches missing only", F.Title.NotLike("%"), "c"},
		{"NOT_LIKE matches missing", F.Title.NotLike("hello%"), "a,c,d,e,f,g,h"},
		{"LIKE escaped % _ \\", F.Title.Like(`\%\_\\`), "g"},
		{"LIKE escaped % inside", F.Title.Like(`%\%%`), "g"},
		{"LIKE escaped _ inside", F.Title.Like(`%\_%`), "g"},
		{"LIKE escaped trailing backslash", F.Title.Like(`%\\`), "g"},
		{"LIKE _% at least one character", F.Title.Like("_%"), "a,b,e,f,g,h"},
		{"LIKE _ matches É", F.Title.Like("_mile"), "e"},
		{"LIKE _ is not a byte", F.Title.Like("__mile"), ""},
		{"LIKE quotes literal", F.Title.Like(`O'Brien "quoted"`), "f"},
		{"LIKE _ matches emoji", F.Name.Like("é日本_"), "e"},
		{"LIKE unicode", F.Name.Like("é__😀"), "e"},
		{"LIKE unicode suffix", F.Name.Like("%😀"), "e"},
		{"LIKE two CJK characters", F.Name.Like("__"), "g"},
		{"LIKE %a%a%", F.Name.Like("%a%a%"), "d,f"},
		{"LIKE suffix is anchored", F.Name.Like("%ana"), "d"},
		{"LIKE prefix is anchored", F.Name.Like("anana%"), ""},
		{"LIKE ___% counts code points, not bytes", F.Name.Like("___%"), "a,b,d,e,f"},
		{"LIKE %_ _% at least two code points", F.Name.Like("%__%"), "a,b,d,e,f,g"},
		{"LIKE %an_", F.Name.Like("%an_"), "d"},
		{"LIKE on text", F.Body.Like(`50\% off\_now\\`), "a"},
		{"LIKE % on text", F.Body.Like("50%"), "a"},
		{"LIKE on uuid", F.Code.Like("%0002"), "b"},

		// STARTS_WITH takes its prefix literally.
		{"STARTS_WITH % literal", F.Body.StartsWith("50%"), "a"},
		{"STARTS_WITH % _ literal", F.Body.StartsWith("50% off_"), "a"},
		{"STARTS_WITH _ is not a wildcard", F.Body.StartsWith("5_"), ""},
		{"STARTS_WITH % is not a wildcard", F.Title.StartsWith("%"), "g"},
		{"STARTS_WITH backslash", F.Title.StartsWith(`%_\`), "g"},
		{"STARTS_WITH empty matches present", F.Body.StartsWith(""), "a,b,d,e"},
		{"STARTS_WITH unicode", F.Body.StartsWith("日本"), "e"},
		{"STARTS_WITH case-sensitive", F.Title.StartsWith("Hello"), "a"},
		{"STARTS_WITH on uuid", F.Code.StartsWith("0190a6c4-"), "a,b"},
		{"STARTS_WITH on id", F.ID.StartsWith("a"), "a"},

		// REGEX: portable subset, whole value.
		{"REGEX exact", F.Name.Regex("apple"), "a"},
		{"REGEX class", F.Name.Regex("[aA]pple"), "a,b"},
		{"REGEX anchored at both ends", F.Name.Regex("app"), ""},
		{"REGEX .*", F.Name.Regex("ban.*"), "d,f"},
		{"REGEX alternation is anchored", F.Name.Regex("banana|B"), "d,h"},
		{"REGEX group repetition", F.Name.Regex("(ba|na)+"), "d"},
		{"REGEX negated class", F.Name.Regex("[^a-z]+"), "e,g,h"},
		{"REGEX . is one code point", F.Name.Regex("é日本."), "e"},
		{"REGEX bounded repetition", F.Name.Regex(".{2}"), "g"},
		{"REGEX ? and {n}", F.Name.Regex("a?p{2}le"), "a"},
		{"REGEX .* matches empty", F.Name.Regex(".*"), "a,b,c,d,e,f,g,h"},
		{"REGEX .+", F.Name.Regex(".+"), "a,b,d,e,f,g,h"},
		{"REGEX escaped punctuation", F.Title.Regex(`%_\\`), "g"},
		{"REGEX escaped quote and dot", F.Title.Regex(`O'Brien \"quoted\"`), "f"},
		{"REGEX on optional never matches missing", F.Body.Regex(".*"), "a,b,d,e"},
		{"REGEX empty pattern", F.Body.Regex(""), "d"},
		{"REGEX newline-free . on text", F.Body.Regex("[0-9]+% off_now.*"), "a"},

		// Enums compare their values.
		{"enum EQ", F.Kind.EQ(things.ThingKindA), "a,g"},
		{"enum NEQ", F.Kind.NEQ(things.ThingKindA), "b,c,d,e,f,h"},
		{"enum IN", F.Kind.IN(things.ThingKindA, things.ThingKindB), "a,b,g"},
		{"enum NOT_IN", F.Kind.NotIn(things.ThingKindA, things.ThingKindB), "c,d,e,f,h"},
		{"enum EXISTS", F.Kind.Exists(), "a,b,d,g"},
		{"enum NOT_EXISTS", F.Kind.NotExists(), "c,e,f,h"},
		{"enum EQ a value outside the enum", F.Kind.EQ("z"), ""},

		// Integers.
		{"int EQ", F.Rank.EQ(1), "a,g"},
		{"int NEQ", F.Rank.NEQ(1), "b,c,d,e,f,h"},
		{"int GT", F.Rank.GT(0), "a,e,f,g"},
		{"int GTE", F.Rank.GTE(1), "a,e,f,g"},
		{"int LT", F.Rank.LT(1), "b,d"},
		{"int LTE", F.Rank.LTE(0), "b,d"},
		{"int BETWEEN inclusive", F.Rank.Between(0, 7), "a,d,f,g"},
		{"int BETWEEN lo > hi", F.Rank.Between(7, 0), ""},
		{"int BETWEEN one point", F.Rank.Between(1, 1), "a,g"},
		{"int NOT_BETWEEN", F.Rank.NotBetween(0, 7), "b,c,e,h"},
		{"int NOT_BETWEEN lo > hi", F.Rank.NotBetween(7, 0), "a,b,c,d,e,f,g,h"},
		{"int IN", F.Rank.IN(1, 100), "a,e,g"},
		{"int IN many", F.Rank.IN(7, 2, 3, 4, 5, 6, 8, 9, 10, 11, -5), "b,f"},
		{"int NOT_IN", F.Rank.NotIn(1, 100), "b,c,d,f,h"},
		{"int IN empty", F.Rank.IN(), ""},
		{"int NOT_IN empty", F.Rank.NotIn(), "a,b,c,d,e,f,g,h"},
		{"int EXISTS", F.Rank.Exists(), "a,b,d,e,f,g"},
		{"int NOT_EXISTS", F.Rank.NotExists(), "c,h"},
		{"required int zero is a value", F.Count.EQ(0), "c"},
		{"required int LT", F.Count.LT(0), "g"},
		{"required int BETWEEN", F.Count.Between(5, 10), "a,f,h"},
		{"int extremes", F.Rank.Between(math.MinInt64, math.MaxInt64), "a,b,d,e,f,g"},

		// Floats; -0 equals 0.
		{"float EQ 0 matches -0", F.Score.EQ(0), "d"},
		{"float GT", F.Score.GT(0), "a,e,f,h"},
		{"float LT", F.Score.LT(0), "b"},
		{"float BETWEEN", F.Score.Between(-2, 2.25), "a,b,d,h"},
		{"float NOT_BETWEEN", F.Score.NotBetween(-2, 2.25), "c,e,f,g"},
		{"float NEQ", F.Score.NEQ(1.5), "b,c,d,e,f,g,h"},
		{"float GTE large", F.Score.GTE(1e300), "e"},
		{"float EXISTS", F.Score.Exists(), "a,b,d,e,f,h"},
		{"required float EQ", F.Ratio.EQ(0.5), "a,f"},
		{"required float LT", F.Ratio.LT(0), "d,h"},
		{"required float BETWEEN", F.Ratio.Between(0, 1), "a,b,c,f"},
		{"float IN", F.Ratio.IN(-0.5, 3.25, 99), "e,h"},

		// Booleans.
		{"bool EQ true", F.Flag.EQ(true), "a,f"},
		{"bool EQ false", F.Flag.EQ(false), "b,d,h"},
		{"bool NEQ true matches missing", F.Flag.NEQ(true), "b,c,d,e,g,h"},
		{"bool NEQ false matches missing", F.Flag.NEQ(false), "a,c,e,f,g"},
		{"bool IN both", F.Flag.IN(true, false), "a,b,d,f,h"},
		{"bool NOT_IN both matches missing", F.Flag.NotIn(true, false), "c,e,g"},
		{"bool NOT_EXISTS", F.Flag.NotExists(), "c,e,g"},
		{"required bool", F.Active.EQ(true), "a,d,e,g"},
		{"required bool false", F.Active.EQ(false), "b,c,f,h"},

		// Times are instants, whatever the zone of the operand or of the stored value.
		{"time EQ", F.At.EQ(t0), "a,f"},
		{"time EQ operand in another zone", F.At.EQ(t0.In(ny)), "a,f"},
		{"time GT", F.At.GT(t1), "d,e"},
		{"time GTE", F.At.GTE(t1), "b,d,e"},
		{"time LT operand in another zone", F.At.LT(t1.In(tokyo)), "a,f"},
		{"time LTE", F.At.LTE(t1), "a,b,f"},
		{"time BETWEEN microseconds", F.At.Between(t1, t1.Add(time.Microsecond)), "b,e"},
		{"time NOT_BETWEEN", F.At.NotBetween(t1, t1.Add(time.Microsecond)), "a,c,d,f,g,h"},
		{"time IN", F.At.IN(t2, t0.In(paris)), "a,d,f"},
		{"time NOT_IN", F.At.NotIn(t2), "a,b,c,e,f,g,h"},
		{"time NEQ", F.At.NEQ(t0), "b,c,d,e,g,h"},
		{"time EXISTS", F.At.Exists(), "a,b,d,e,f"},
		{"time operand truncated to microseconds", F.At.EQ(t1.Add(time.Microsecond + 500*time.Nanosecond)), "e"},
		{"required time EQ", F.Created.EQ(t0), "a,d,h"},
		{"required time BETWEEN", F.Created.Between(t0, t1.In(paris)), "a,b,d,e,g,h"},

		// Lists: EQ is contains, IN is contains any, EXISTS is non-empty.
		{"list contains", F.Tags.Contains("red"), "a,f"},
		{"list contains is case-sensitive", F.Tags.Contains("Red"), "g"},
		{"list contains the empty string", F.Tags.Contains(""), "d"},
		{"list not contains matches empty lists", F.Tags.NotContains("red"), "b,c,d,e,g,h"},
		{"list contains any", F.Tags.ContainsAny("blue", "x"), "a,b,e"},
		{"list contains any many", F.Tags.ContainsAny("Red", "1", "2", "3", "4", "5", "6", "7", "8", "9", "x"), "e,g"},
		{"list contains any of nothing", F.Tags.ContainsAny(), ""},
		{"list contains none", F.Tags.ContainsNone("blue", "x"), "c,d,f,g,h"},
		{"list contains none of nothing", F.Tags.ContainsNone(), "a,b,c,d,e,f,g,h"},
		{"list EXISTS", F.Tags.Exists(), "a,b,d,e,f,g"},
		{"list NOT_EXISTS", F.Tags.NotExists(), "c,h"},
		{"list contains unicode", F.Tags.Contains("日本"), "e"},
		{"int list contains", F.Nums.Contains(7), "f"},
		{"int list contains 0", F.Nums.Contains(0), "d"},
		{"int list contains any", F.Nums.ContainsAny(1, 100), "a,g"},
		{"int list not contains", F.Nums.NotContains(1), "b,c,d,e,f,g,h"},
		{"int list EXISTS", F.Nums.Exists(), "a,b,d,f,g"},
		{"int list NOT_EXISTS", F.Nums.NotExists(), "c,e,h"},
		{"enum list contains", F.Levels.Contains(things.ThingLevelLow), "a,f"},
		{"enum list contains any", F.Levels.ContainsAny(things.ThingLevelMid, things.ThingLevelHigh), "b,d,h"},
		{"enum list contains none", F.Levels.ContainsNone(things.ThingLevelLow), "b,c,d,e,g,h"},
		{"enum list EXISTS", F.Levels.Exists(), "a,b,d,f,h"},

		// Bytes and JSON: presence only.
		{"bytes EXISTS", F.Blob.Exists(), "a,f"},
		{"bytes NOT_EXISTS", F.Blob.NotExists(), "b,c,d,e,g,h"},
		{"json EXISTS", F.Meta.Exists(), "a,d"},
		{"json NOT_EXISTS", F.Meta.NotExists(), "b,c,e,f,g,h"},

		// Combinators.
		{"AND", query.And(F.Rank.GT(0), F.Flag.EQ(true)), "a,f"},
		{"OR", query.Or(F.Kind.EQ(things.ThingKindB), F.Title.NotExists()), "b,c"},
		{"NOT matches missing", query.Not(F.Rank.GT(0)), "b,c,d,h"},
		{"NOT of AND", query.Not(query.And(F.Active.EQ(true), F.Flag.EQ(false))), "a,b,c,e,f,g,h"},
		{"NOT of OR", query.Not(query.Or(F.Tags.Contains("red"), F.Nums.Contains(1))), "b,c,d,e,g,h"},
		{"NOT NOT", query.Not(query.Not(F.Rank.GT(0))), "a,e,f,g"},
		{"nested", query.And(query.Or(F.Kind.EQ(things.ThingKindA), F.Kind.NotExists()), query.Not(F.Title.Like("%o%"))), "c,e,g,h"},
		{"empty AND", query.And[things.Thing](), "a,b,c,d,e,f,g,h"},
		{"empty OR", query.Or[things.Thing](), ""},
		{"OR with empty OR", query.Or(query.Or[things.Thing](), F.Rank.EQ(7)), "f"},
		{"id IN", F.ID.IN("a", "zz", "c"), "a,c"},
		{"id NEQ", F.ID.NEQ("a"), "b,c,d,e,f,g,h"},
		{"id GT", F.ID.GT("f"), "g,h"},
	}
}

func testOperators(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, opThings())
	if n := count(ctx, t, r, things.ThingQuery()); n != int64(len(allOpIDs)) {
		t.Fatalf("Count = %d after storing %d records", n, len(allOpIDs))
	}
	for _, c := range operatorCases() {
		t.Run(c.name, func(t *testing.T) {
			if err := c.cond.Err(); err != nil {
				t.Fatalf("building %s: %v", c.cond, err)
			}
			want := splitIDs(c.want)
			q := things.ThingQuery().Where(c.cond)
			if got := findIDs(ctx, t, r, q); !slices.Equal(got, want) {
				t.Errorf("Find(%s) = %v, want %v", c.cond, got, want)
			}
			if n := count(ctx, t, r, q); n != int64(len(want)) {
				t.Errorf("Count(%s) = %d, want %d", c.cond, n, len(want))
			}
			// NOT(c) matches exactly the other records: two-valued logic.
			notWant := slices.DeleteFunc(slices.Clone(allOpIDs), func(id string) bool { return slices.Contains(want, id) })
			if got := findIDs(ctx, t, r, things.ThingQuery().Where(query.Not(c.cond))); !slices.Equal(got, notWant) {
				t.Errorf("Find(NOT %s) = %v, want %v", c.cond, got, notWant)
			}
		})
	}
}

func testBadPatterns(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, opThings())
	F := things.ThingFields
	likes := []string{`abc\`, `\`, `\a`, `50\%\x`, "\xff%"}
	regexes := []string{
		"^apple", "apple$", `\d+`, `\w`, `\s`, `\bx`, `\n`, `\pL`, `\x41`, "(?i)apple", "(?:a)", "(?P<n>a)",
		"a*?", "a+?", "a??", "a{1,2}?", "[[:alpha:]]+", "[]a]", "[^]a]", "a{", "a{,2}", "a}", "[a", "(a", "a)",
		`a\`, "*a", "a**", "\xff", "a{1001}",
		// Read differently by Lucene, POSIX and Go, so outside the subset:
		"|a", "a|", "a||b", "(|a)", "(a|)", "()", "[a-]", "[-a]",
	}
	check := func(what string, cond query.Cond[things.Thing]) {
		t.Helper()
		if cond.Err() == nil {
			t.Errorf("%s: building the condition reported no error", what)
			return
		}
		if !errors.Is(cond.Err(), query.ErrBadPattern) {
			t.Errorf("%s: condition error %q does not wrap query.ErrBadPattern", what, cond.Err())
		}
		q := things.ThingQuery().Where(cond)
		_, err := r.Find(ctx, q)
		wantErr(t, "Find "+what, err, repo.ErrInvalidInput, query.ErrBadPattern)
		if err != nil && !strings.Contains(err.Error(), "title") {
			t.Errorf("Find %s: error %q does not name the field", what, err)
		}
		_, err = r.Count(ctx, q)
		wantErr(t, "Count "+what, err, repo.ErrInvalidInput, query.ErrBadPattern)
		// Combined with valid conditions, the error is not lost.
		_, err = r.Find(ctx, things.ThingQuery().Where(query.Or(F.Name.EQ("apple"), query.Not(cond))))
		wantErr(t, "Find (nested) "+what, err, repo.ErrInvalidInput, query.ErrBadPattern)
	}
	for _, p := range likes {
		check("LIKE "+p, F.Title.Like(p))
		check("NOT_LIKE "+p, F.Title.NotLike(p))
	}
	for _, p := range regexes {
		check("REGEX "+p, F.Title.Regex(p))
	}
	// Accepted constructs around the edges of the subset.
	for _, p := range []string{"", "a{2}", "a{2,}", "a{2,3}", `\^\$`, `\{\}`, `\[\]`, `\\`, "[a-z0-9_]*", "[^x]", "(a|b)*", ".", "é?"} {
		if _, err := query.CompileRegex(p); err != nil {
			t.Errorf("CompileRegex(%q) rejected a pattern in the subset: %v", p, err)
		}
	}
}
