package drivertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/backends/memory"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// The flags of the differential test (go test ... -run TestDifferential -seed 7 -queries 5000):
// the seed of the random records and queries (0: the fixed seed CI runs), and the number of
// random queries (0: the backend's own small CI budget).
var (
	diffSeed    = flag.Uint64("seed", 0, "drivertest: the seed of TestDifferential's random records and queries (0: the fixed CI seed 1)")
	diffQueries = flag.Int("queries", 0, "drivertest: how many random queries TestDifferential runs (0: the backend's CI budget)")
)

// diffRecords is the number of random records of one differential run.
const diffRecords = 40

// RunDifferentialTests runs the random differential test: random Thing records (unicode,
// case variants, extreme numbers, −0, times in many zones, long strings within the limits)
// are stored in the harness's backend and in the memory backend, the reference; then random
// filter trees over every operator, with random sorts, limits, offsets and page sizes, run
// as Find, Count and Page read to the last cursor on both, and every answer (ids in order,
// record values, counts, error kinds) must be the same. On a difference the query is shrunk
// to a minimal one that still differs, the records to the fewest (as an "id IN" condition),
// and the test fails with the seed, the query and the records. budget is the number of
// queries CI runs (a few seconds); -seed and -queries run it longer, see docs/semantics.md.
func RunDifferentialTests(t *testing.T, h Harness, budget int) {
	seedN, queries := *diffSeed, *diffQueries
	if seedN == 0 {
		seedN = 1
	}
	if queries <= 0 {
		queries = budget
	}
	ctx, r := makeThings(t, h)
	ref := repo.New(things.ThingSchema, memory.New(things.ThingSchema))
	g := &diffGen{rng: rand.New(rand.NewPCG(seedN, 19))}
	g.recs = g.records(diffRecords)
	seed(ctx, t, ref, g.recs)
	seed(ctx, t, r, g.recs)
	d := &differ{ctx: ctx, ref: ref, got: r}
	failures := 0
	for i := range queries {
		c := g.diffCase()
		why := d.differs(c)
		if why == "" {
			continue
		}
		failures++
		c, why, runs := d.shrink(c, why)
		t.Errorf("differential: seed %d, query %d of %d differs from the memory backend (shrunk in %d runs):\n%s\n%s\nrecords:\n%s",
			seedN, i+1, queries, runs, c, why, d.records(c))
		if failures >= 3 {
			t.Fatalf("differential: stopping after %d differences", failures)
		}
	}
	t.Logf("differential: seed %d, %d records, %d queries (%d answered with an error on both, %d with nothing), %d calls per backend, %d differences",
		seedN, diffRecords, queries, d.errs, d.empty, d.calls/2, failures)
}

// Modes of a differential case.
const (
	modeFind = iota
	modeCount
	modePage
)

// diffCase is one random query and how it is run.
type diffCase struct {
	filter *diffNode
	sort   []query.Sort[things.Thing]
	mode   int
	limit  int // Find: 0 for none; Page: the page size
	offset int // Find only
	only   []string
}

func (g *diffGen) diffCase() diffCase {
	c := diffCase{filter: g.tree(3), mode: g.n(3)}
	if c.mode != modeCount {
		c.sort = g.sorts()
	}
	switch c.mode {
	case modeFind:
		if g.chance(0.4) {
			c.limit = 1 + g.n(10)
		}
		if g.chance(0.3) {
			c.offset = g.n(8)
		}
	case modePage:
		c.limit = 3 + g.n(10)
	}
	return c
}

func (c diffCase) query() query.Query[things.Thing] {
	q := things.ThingQuery().Where(c.filter.cond()).OrderBy(c.sort...)
	if c.only != nil {
		q = q.Where(things.ThingFields.ID.IN(c.only...))
	}
	if c.limit > 0 {
		q = q.Limit(c.limit)
	}
	if c.offset > 0 {
		q = q.Offset(c.offset)
	}
	return q
}

func (c diffCase) String() string {
	mode := []string{"Find", "Count", fmt.Sprintf("Page read to the last cursor, pages of %d", c.limit)}[c.mode]
	return fmt.Sprintf("%s(%s)", mode, c.query())
}

// outcome is what a backend answered.
type outcome struct {
	recs []things.Thing
	n    int64
	err  error
}

type differ struct {
	ctx      context.Context
	ref, got repo.Repository[things.Thing]
	calls    int
	errs     int // cases both answered with an error of the same kind
	empty    int // cases both answered with no record (or a count of 0)
}

func (d *differ) run(r repo.Repository[things.Thing], c diffCase) outcome {
	d.calls++
	q := c.query()
	switch c.mode {
	case modeCount:
		n, err := r.Count(d.ctx, q)
		return outcome{n: n, err: err}
	case modePage:
		var o outcome
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > diffRecords+2 {
				o.err = errors.New("pagination does not end")
				return o
			}
			p, err := r.Page(d.ctx, q, cursor)
			if err != nil {
				o.err = fmt.Errorf("page %d: %w", pages+1, err)
				return o
			}
			if p.Next != "" && len(p.Items) != c.limit {
				o.err = fmt.Errorf("page %d has %d records and a next cursor", pages+1, len(p.Items))
				return o
			}
			o.recs = append(o.recs, p.Items...)
			if cursor = p.Next; cursor == "" {
				return o
			}
		}
	}
	recs, err := r.Find(d.ctx, q)
	return outcome{recs: recs, err: err}
}

// differs runs c on both repositories and describes the difference ("" when none).
func (d *differ) differs(c diffCase) string {
	want, got := d.run(d.ref, c), d.run(d.got, c)
	switch {
	case want.err != nil || got.err != nil:
		if kindOf(want.err) != kindOf(got.err) {
			return fmt.Sprintf("memory: %v\nbackend: %v", want.err, got.err)
		}
		d.errs++
		return ""
	case want.n != got.n:
		return fmt.Sprintf("memory counts %d, the backend %d", want.n, got.n)
	}
	if len(want.recs) == 0 && want.n == 0 {
		d.empty++
	}
	wantIDs, gotIDs := thingIDs(want.recs), thingIDs(got.recs)
	if !slices.Equal(wantIDs, gotIDs) {
		return fmt.Sprintf("memory: %q\nbackend: %q", wantIDs, gotIDs)
	}
	for i := range want.recs {
		a, b := canonical(want.recs[i]), canonical(got.recs[i])
		if diff := cmp.Diff(a, b, thingCmp...); diff != "" {
			return fmt.Sprintf("record %s differs (-memory +backend):\n%s", a.ID, diff)
		}
	}
	return ""
}

// kindOf names the repo error kind of err ("" for nil).
func kindOf(err error) string {
	for _, k := range []error{repo.ErrInvalidInput, repo.ErrNotFound, repo.ErrAlreadyExists, repo.ErrVersionConflict, repo.ErrUnavailable} {
		if errors.Is(err, k) {
			return k.Error()
		}
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return ""
}

// canonical is rec with the values every backend may write differently in equal ways made
// one: JSON compacted, −0 as 0 (the round-trip rule of docs/semantics.md is checked by
// TestLimits/RoundTrip; the differential test compares what queries select).
func canonical(rec things.Thing) things.Thing {
	if rec.Meta != nil {
		var b bytes.Buffer
		if json.Compact(&b, rec.Meta) == nil {
			rec.Meta = b.Bytes()
		}
	}
	if rec.Ratio == 0 {
		rec.Ratio = 0
	}
	if rec.Score != nil && *rec.Score == 0 {
		rec.Score = ptr(0.0)
	}
	return rec
}

// shrink makes c smaller while it still differs: sub-filters replace their parents,
// children are dropped, sort keys, limits and offsets go, and the records are cut down to
// the fewest with an "id IN" condition. It returns the last difference and the runs made.
func (d *differ) shrink(c diffCase, why string) (diffCase, string, int) {
	const maxRuns = 300
	runs := 0
	try := func(cand diffCase) bool {
		if runs >= maxRuns {
			return false
		}
		runs++
		if w := d.differs(cand); w != "" {
			why = w
			return true
		}
		return false
	}
	for changed := true; changed; {
		changed = false
		for _, cand := range c.smaller() {
			if try(cand) {
				c, changed = cand, true
				break
			}
		}
	}
	all, err := d.ref.Find(d.ctx, things.ThingQuery())
	if err != nil {
		return c, why, runs
	}
	ids := thingIDs(all)
	c.only = ids
	if !try(c) {
		c.only = nil
		return c, why, runs
	}
	for chunk := len(ids) / 2; chunk >= 1; chunk /= 2 {
		for i := 0; i < len(c.only); {
			cand := c
			cand.only = slices.Concat(c.only[:i], c.only[min(i+chunk, len(c.only)):])
			if len(cand.only) > 0 && try(cand) {
				c = cand
				continue
			}
			i += chunk
		}
	}
	return c, why, runs
}

// smaller returns the cases one step simpler than c.
func (c diffCase) smaller() []diffCase {
	var out []diffCase
	with := func(f func(*diffCase)) {
		n := c
		n.sort = slices.Clone(c.sort)
		f(&n)
		out = append(out, n)
	}
	for _, n := range c.filter.smaller() {
		with(func(x *diffCase) { x.filter = n })
	}
	for i := range c.sort {
		with(func(x *diffCase) { x.sort = slices.Delete(x.sort, i, i+1) })
	}
	if c.offset > 0 {
		with(func(x *diffCase) { x.offset = 0 })
	}
	if c.mode == modeFind && c.limit > 0 {
		with(func(x *diffCase) { x.limit = 0 })
	}
	if c.mode == modePage && c.limit < math.MaxInt32 {
		with(func(x *diffCase) { x.limit = math.MaxInt32 })
	}
	if c.mode != modeCount {
		with(func(x *diffCase) { x.mode, x.sort, x.limit, x.offset = modeCount, nil, 0, 0 })
	}
	return out
}

// smaller returns the filter trees one step simpler than n: each child in its place, and n
// without one of its children.
func (n *diffNode) smaller() []*diffNode {
	var out []*diffNode
	out = append(out, n.kids...)
	for i := range n.kids {
		if n.op != query.OpNot {
			out = append(out, &diffNode{op: n.op, kids: slices.Delete(slices.Clone(n.kids), i, i+1)})
		}
		for _, k := range n.kids[i].smaller() {
			kids := slices.Clone(n.kids)
			kids[i] = k
			out = append(out, &diffNode{op: n.op, kids: kids})
		}
	}
	return out
}

// records renders the records c selects from (all of them when c has no "id IN"), as
// the memory backend holds them.
func (d *differ) records(c diffCase) string {
	q := things.ThingQuery()
	if c.only != nil {
		q = q.Where(things.ThingFields.ID.IN(c.only...))
	}
	recs, err := d.ref.Find(d.ctx, q)
	if err != nil {
		return err.Error()
	}
	if len(recs) > 10 {
		return fmt.Sprintf("(%d records: the random set of the seed)", len(recs))
	}
	var b strings.Builder
	for _, r := range recs {
		j, _ := json.Marshal(r)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}
