package eval

import (
	"context"
	"fmt"
	"slices"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// Plan is a compiled query.Spec: filter, total sort order (ending with the id), offset,
// limit and projection. A Plan is immutable and safe for concurrent use.
type Plan[T any] struct {
	desc   *record.Desc[T]
	match  Pred[T]    // nil when the filter matches every record
	filter *Filter[T] // nil when the filter matches every record
	cmp    Cmp[T]
	keys   []query.SortKey  // the sort keys, ending with the id
	score  func(*T) float64 // the relevance of a record; nil unless sorted by relevance
	offset int
	limit  int
	fields []int // field indexes to load; nil loads every field
}

// NewPlan compiles spec for records described by d. When the sort keys do not include the
// id field, the id is appended, ascending, as the final tiebreaker, so the order is total.
func NewPlan[T any](d *record.Desc[T], spec *query.Spec) (*Plan[T], error) {
	if spec.Limit < 0 || spec.Offset < 0 {
		return nil, fmt.Errorf("%w: negative limit (%d) or offset (%d)", query.ErrBadQuery, spec.Limit, spec.Offset)
	}
	p := &Plan[T]{desc: d, offset: spec.Offset, limit: spec.Limit}
	if !spec.Filter.IsAll() {
		f, err := CompileFilter(d, spec.Filter)
		if err != nil {
			return nil, err
		}
		p.filter, p.match = f, f.pred
	}
	keys := spec.Sort
	if !slices.ContainsFunc(keys, func(k query.SortKey) bool { return k.Field == d.ID().Name }) {
		keys = append(slices.Clip(keys), query.SortKey{Field: d.ID().Name})
	}
	if query.HasRelevance(keys) {
		score, err := compileScore(d, spec.Filter)
		if err != nil {
			return nil, err
		}
		p.score = score
	}
	cmp, err := compileSort(d, keys, p.score)
	if err != nil {
		return nil, err
	}
	p.cmp, p.keys = cmp, keys
	if spec.Fields != nil {
		p.fields = []int{0}
		for _, name := range spec.Fields {
			i, ok := d.Field(name)
			if !ok {
				return nil, fmt.Errorf("%w: record %s has no field %q", query.ErrBadQuery, d.Name, name)
			}
			if !slices.Contains(p.fields, i) {
				p.fields = append(p.fields, i)
			}
		}
	}
	return p, nil
}

// Match reports whether r matches the filter.
func (p *Plan[T]) Match(r *T) bool { return p.match == nil || p.match(r) }

// Filter returns the compiled filter for block scans; nil matches every record.
func (p *Plan[T]) Filter() *Filter[T] { return p.filter }

// Compare orders two records by the plan's sort keys; it returns 0 only for records with
// the same id.
func (p *Plan[T]) Compare(a, b *T) int { return p.cmp(a, b) }

// scored returns the plan's order reading relevance scores from scores, which must hold
// the score of every record it compares (see Window and TopK); without a relevance key it
// is the plan's order. It computes each record's score once instead of on every
// comparison.
func (p *Plan[T]) scored(scores map[*T]float64) Cmp[T] {
	if p.score == nil {
		return p.cmp
	}
	cmp, _ := compileSort(p.desc, p.keys, func(r *T) float64 { return scores[r] }) // compiled by NewPlan
	return cmp
}

// Keep returns how many records, from the start of the sorted matches, a caller must
// collect to apply the plan's offset and limit: offset+limit, or -1 when there is no
// limit.
func (p *Plan[T]) Keep() int {
	if p.limit == 0 {
		return -1
	}
	if p.offset > maxInt-p.limit {
		return maxInt
	}
	return p.offset + p.limit
}

const maxInt = int(^uint(0) >> 1)

// Window sorts the matching records and returns those that the offset and limit keep, in
// order. It reorders recs and returns a subslice of it. When the limit keeps few records,
// only those are fully sorted.
func (p *Plan[T]) Window(recs []*T) []*T {
	var scores map[*T]float64
	if p.score != nil {
		scores = make(map[*T]float64, len(recs))
		for _, r := range recs {
			scores[r] = p.score(r)
		}
	}
	return p.window(recs, p.scored(scores))
}

// window is Window in the order cmp.
func (p *Plan[T]) window(recs []*T, cmp Cmp[T]) []*T {
	n := len(recs)
	if p.offset >= n {
		return recs[:0]
	}
	keep := p.Keep()
	if keep < 0 || keep >= n {
		slices.SortFunc(recs, cmp)
		return recs[p.offset:]
	}
	if keep > n/2 {
		slices.SortFunc(recs, cmp)
	} else {
		selectSmallest(recs, keep, cmp)
		slices.SortFunc(recs[:keep], cmp)
	}
	return recs[p.offset:keep]
}

// selectSmallest moves the k smallest records (0 < k < len(recs)) to recs[:k], in no
// particular order, with the bounded max-heap TopK uses: O(n log k). recs[k:] keeps the
// records that left the heap.
func selectSmallest[T any](recs []*T, k int, cmp Cmp[T]) {
	h := recs[:k]
	heapify(h, cmp)
	for i := k; i < len(recs); i++ {
		if cmp(recs[i], h[0]) < 0 {
			recs[i] = replaceMax(h, recs[i], cmp)
		}
	}
}

// Yield yields the output (see Output) of every record of window, a Window of matches, in
// order, until yield returns false. It checks ctx before every record and yields its error
// (then stops) once it has ended, so a long window stops soon after its caller's context.
func (p *Plan[T]) Yield(ctx context.Context, window []*T, yield func(T, error) bool) {
	for _, r := range window {
		if err := ctx.Err(); err != nil {
			var zero T
			yield(zero, err)
			return
		}
		if !yield(p.Output(r), nil) {
			return
		}
	}
}

// Projected reports whether the plan loads only some fields.
func (p *Plan[T]) Projected() bool { return p.fields != nil }

// Output returns the caller's own copy of r: a deep clone, restricted to the id and the
// selected fields when the plan has a projection. The version is always copied.
func (p *Plan[T]) Output(r *T) T {
	if p.fields == nil {
		return p.desc.Clone(r)
	}
	var dst T
	p.desc.Project(&dst, r, p.fields)
	p.desc.SetID(&dst, p.desc.GetID(r))
	p.desc.SetVersion(&dst, p.desc.GetVersion(r))
	return p.desc.Clone(&dst)
}
