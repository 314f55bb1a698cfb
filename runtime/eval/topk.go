package eval

// TopK collects the records a Plan's offset and limit can return from records offered one
// at a time, for backends that read matches as a stream (S3) rather than holding them all
// (memory, which calls Window directly). With a limit it keeps only the Keep() smallest
// records under the plan's order in a bounded max-heap (O(log k) per record, k pointers of
// memory); without one it keeps every record. The zero value is not usable; get one from
// Plan.TopK. A TopK is not safe for concurrent use.
type TopK[T any] struct {
	p      *Plan[T]
	keep   int  // Keep(): -1 keeps every record
	h      []*T // the kept records; a max-heap under cmp once len(h) == keep
	cmp    Cmp[T]
	scores map[*T]float64 // the relevance of the kept records; nil unless sorted by relevance
}

// TopK returns an empty collector for the plan's order, offset and limit.
func (p *Plan[T]) TopK() *TopK[T] {
	t := &TopK[T]{p: p, keep: p.Keep()}
	if p.score != nil {
		t.scores = map[*T]float64{}
	}
	t.cmp = p.scored(t.scores)
	if t.keep > 0 && t.keep <= 1024 {
		t.h = make([]*T, 0, t.keep)
	}
	return t
}

// Add offers r. It is kept when fewer than Keep() records are kept, or when it sorts
// before the largest kept record, which it then replaces. The caller must not modify r
// afterwards.
func (t *TopK[T]) Add(r *T) {
	if t.scores != nil {
		t.scores[r] = t.p.score(r)
	}
	switch {
	case t.keep < 0 || len(t.h) < t.keep:
		t.h = append(t.h, r)
		if len(t.h) == t.keep {
			heapify(t.h, t.cmp)
		}
	case t.keep > 0 && t.cmp(r, t.h[0]) < 0:
		out := replaceMax(t.h, r, t.cmp)
		if t.scores != nil {
			delete(t.scores, out)
		}
	default:
		if t.scores != nil {
			delete(t.scores, r)
		}
	}
}

// Window returns the records the plan's offset and limit select among every record
// offered, in order: Plan.Window of the kept ones. The collector must not be used after.
func (t *TopK[T]) Window() []*T { return t.p.window(t.h, t.cmp) }

// heapify makes h a max-heap under cmp.
func heapify[T any](h []*T, cmp Cmp[T]) {
	for i := len(h)/2 - 1; i >= 0; i-- {
		siftDown(h, i, cmp)
	}
}

// replaceMax puts r in the max-heap h in place of its largest record and returns that
// record. Callers check first that r sorts before it.
func replaceMax[T any](h []*T, r *T, cmp Cmp[T]) *T {
	out := h[0]
	h[0] = r
	siftDown(h, 0, cmp)
	return out
}

// siftDown restores the max-heap property of h below i.
func siftDown[T any](h []*T, i int, cmp Cmp[T]) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		big := l
		if r := l + 1; r < n && cmp(h[r], h[l]) > 0 {
			big = r
		}
		if cmp(h[big], h[i]) <= 0 {
			return
		}
		h[i], h[big] = h[big], h[i]
		i = big
	}
}
