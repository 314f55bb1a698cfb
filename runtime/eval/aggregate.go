package eval

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// Aggregator computes an aggregation (query.AggSpec) in Go over records passed to Add one
// at a time: the portable path of Repository.Aggregate (memory, S3, and any driver without
// a native one). Its memory is bounded by the number of groups (and, for count distinct, by
// the distinct values per group); records are not kept. The spec must have been checked
// (repo.CheckAggSpec); its filter is not applied here.
type Aggregator[T any] struct {
	keys   []keyFn[T]
	mets   []metFn[T]
	ops    []query.MetricSpec
	kinds  []query.Kind
	groups map[string]*groupAcc
	order  []*groupAcc
	buf    []query.Value
	enc    []byte
}

// keyFn appends the key values of one group key for r to dst: one value, the distinct
// elements of a list, or one null value when the field is missing or the list empty.
type keyFn[T any] func(dst []query.Value, r *T) []query.Value

// metFn returns the metric field's value in r and whether it has one.
type metFn[T any] func(r *T) (query.Value, bool)

type metAcc struct {
	n        int64
	sumI     int64
	over     int // +1 or -1 once an int sum left the int64 range: it then reads ±2^53
	sumF     float64
	min, max query.Value
	distinct map[string]struct{}
}

type groupAcc struct {
	keys  []query.Value
	count int64
	mets  []metAcc
}

// NewAggregator returns an Aggregator for spec over records described by d.
func NewAggregator[T any](d *record.Desc[T], spec *query.AggSpec) (*Aggregator[T], error) {
	a := &Aggregator[T]{groups: map[string]*groupAcc{}, ops: spec.Metrics}
	for _, g := range spec.Groups {
		f, err := d.Lookup(g.Field)
		if err != nil {
			return nil, err
		}
		a.keys = append(a.keys, groupReader(f, g.Bucket))
	}
	for _, m := range spec.Metrics {
		f, err := d.Lookup(m.Field)
		if err != nil {
			return nil, err
		}
		if f.List {
			return nil, fmt.Errorf("%w: %s over list field %s", query.ErrBadQuery, m.Op, f.Name)
		}
		a.mets = append(a.mets, valueReader(f))
		a.kinds = append(a.kinds, f.Kind)
	}
	return a, nil
}

// Add counts r in its groups.
func (a *Aggregator[T]) Add(r *T) {
	if len(a.keys) == 0 {
		a.add(r, a.group(nil))
		return
	}
	a.tuples(r, 0, a.buf[:0])
}

// tuples calls add for every combination of r's key values (one per group key; a list
// key contributes each of its distinct elements).
func (a *Aggregator[T]) tuples(r *T, i int, prefix []query.Value) {
	if i == len(a.keys) {
		a.add(r, a.group(prefix))
		return
	}
	start := len(prefix)
	vals := a.keys[i](prefix, r)
	for j := start; j < len(vals); j++ {
		next := append(vals[:start:start], vals[j])
		a.tuples(r, i+1, next)
	}
}

func (a *Aggregator[T]) group(keys []query.Value) *groupAcc {
	a.enc = a.enc[:0]
	for _, k := range keys {
		a.enc = encodeValue(a.enc, k)
	}
	if g, ok := a.groups[string(a.enc)]; ok {
		return g
	}
	g := &groupAcc{keys: append([]query.Value(nil), keys...), mets: make([]metAcc, len(a.mets))}
	a.groups[string(a.enc)] = g
	a.order = append(a.order, g)
	return g
}

func (a *Aggregator[T]) add(r *T, g *groupAcc) {
	g.count++
	for i, read := range a.mets {
		v, ok := read(r)
		if !ok {
			continue
		}
		m := &g.mets[i]
		m.n++
		switch a.ops[i].Op {
		case query.AggSum, query.AggAvg:
			if v.Kind == query.KindInt {
				s := m.sumI + v.Int
				if (v.Int > 0 && s < m.sumI) || (v.Int < 0 && s > m.sumI) {
					m.over = int(v.Int>>63) | 1
				}
				m.sumI = s
			} else {
				m.sumF += v.Float
			}
		case query.AggMin:
			if m.n == 1 || query.CompareValues(v, m.min) < 0 {
				m.min = v
			}
		case query.AggMax:
			if m.n == 1 || query.CompareValues(v, m.max) > 0 {
				m.max = v
			}
		case query.AggCountDistinct:
			if m.distinct == nil {
				m.distinct = map[string]struct{}{}
			}
			a.enc = encodeValue(a.enc[:0], v)
			if _, ok := m.distinct[string(a.enc)]; !ok {
				m.distinct[string(a.enc)] = struct{}{}
			}
		}
	}
}

// Groups returns the groups in the order they were first met (repo sorts them). An int
// sum that left the int64 range reads ±2^53, which repo.FinishGroups rejects as every
// sum of that magnitude.
func (a *Aggregator[T]) Groups() ([]query.Group, error) {
	out := make([]query.Group, 0, len(a.order))
	for _, g := range a.order {
		grp := query.Group{Keys: g.keys, Count: g.count, Metrics: make([]query.Value, len(a.ops))}
		for i, op := range a.ops {
			grp.Metrics[i] = metricValue(op.Op, a.kinds[i], &g.mets[i])
		}
		out = append(out, grp)
	}
	return out, nil
}

// MetricKind returns the kind of a metric's value over a field of kind k.
func MetricKind(op query.AggOp, k query.Kind) query.Kind {
	switch op {
	case query.AggCount, query.AggCountDistinct:
		return query.KindInt
	case query.AggAvg:
		return query.KindFloat
	}
	return k
}

func metricValue(op query.AggOp, k query.Kind, m *metAcc) query.Value {
	v := query.Value{Kind: MetricKind(op, k)}
	switch op {
	case query.AggCount:
		v.Int = m.n
		return v
	case query.AggCountDistinct:
		v.Int = int64(len(m.distinct))
		return v
	}
	if m.n == 0 {
		v.Null = true
		return v
	}
	switch op {
	case query.AggSum:
		v.Int, v.Float = m.sumI, m.sumF
		if m.over != 0 {
			v.Int = int64(m.over) << 53 // beyond the portable range: repo.FinishGroups rejects it
		}
	case query.AggAvg:
		if k == query.KindInt {
			v.Float = float64(m.sumI) / float64(m.n)
		} else {
			v.Float = m.sumF / float64(m.n)
		}
	case query.AggMin:
		return m.min
	case query.AggMax:
		return m.max
	}
	return v
}

// Bucket truncates t (UTC) to the start of its day or month.
func Bucket(t time.Time, b query.Bucket) time.Time {
	t = t.UTC()
	switch b {
	case query.BucketDay:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	case query.BucketMonth:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return t
}

func groupReader[T any](f *record.Field[T], b query.Bucket) keyFn[T] {
	null := query.Value{Kind: f.Kind, Null: true}
	if !f.List {
		read := valueReader(f)
		return func(dst []query.Value, r *T) []query.Value {
			v, ok := read(r)
			if !ok {
				return append(dst, null)
			}
			if v.Kind == query.KindTime {
				v.Time = Bucket(v.Time, b)
			}
			return append(dst, v)
		}
	}
	return func(dst []query.Value, r *T) []query.Value {
		start := len(dst)
		add := func(v query.Value) {
			for _, w := range dst[start:] {
				if w == v {
					return
				}
			}
			dst = append(dst, v)
		}
		switch {
		case f.Strs != nil:
			for _, s := range f.Strs(r) {
				add(query.Value{Kind: f.Kind, Str: s})
			}
		case f.Ints != nil:
			for _, n := range f.Ints(r) {
				add(query.Value{Kind: f.Kind, Int: n})
			}
		case f.Bools != nil:
			for _, x := range f.Bools(r) {
				add(query.Value{Kind: f.Kind, Bool: x})
			}
		case f.Times != nil:
			for _, t := range f.Times(r) {
				add(query.Value{Kind: f.Kind, Time: Bucket(t, b)})
			}
		case f.Floats != nil:
			for _, x := range f.Floats(r) {
				add(query.Value{Kind: f.Kind, Float: x})
			}
		}
		if len(dst) == start {
			dst = append(dst, null)
		}
		return dst
	}
}

func valueReader[T any](f *record.Field[T]) metFn[T] {
	k := f.Kind
	switch {
	case f.Str != nil:
		return func(r *T) (query.Value, bool) { s, ok := f.Str(r); return query.Value{Kind: k, Str: s}, ok }
	case f.Int != nil:
		return func(r *T) (query.Value, bool) { n, ok := f.Int(r); return query.Value{Kind: k, Int: n}, ok }
	case f.Float != nil:
		return func(r *T) (query.Value, bool) { x, ok := f.Float(r); return query.Value{Kind: k, Float: x}, ok }
	case f.Bool != nil:
		return func(r *T) (query.Value, bool) { x, ok := f.Bool(r); return query.Value{Kind: k, Bool: x}, ok }
	case f.Time != nil:
		return func(r *T) (query.Value, bool) { t, ok := f.Time(r); return query.Value{Kind: k, Time: t.UTC()}, ok }
	case f.Bytes != nil:
		return func(r *T) (query.Value, bool) { b, ok := f.Bytes(r); return query.Value{Kind: k, Str: string(b)}, ok }
	}
	return func(*T) (query.Value, bool) { return query.Value{}, false }
}

// encodeValue appends an unambiguous encoding of v (its kind is the same for every value
// of one key, so only the value and nullness are encoded).
func encodeValue(dst []byte, v query.Value) []byte {
	if v.Null {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	switch {
	case v.Kind.IsString() || v.Kind == query.KindBytes || v.Kind == query.KindJSON:
		dst = binary.AppendUvarint(dst, uint64(len(v.Str)))
		return append(dst, v.Str...)
	case v.Kind == query.KindInt:
		return binary.BigEndian.AppendUint64(dst, uint64(v.Int))
	case v.Kind == query.KindFloat:
		x := v.Float
		if x == 0 {
			x = 0 // -0 == 0
		}
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(x))
	case v.Kind == query.KindBool:
		if v.Bool {
			return append(dst, 1)
		}
		return append(dst, 0)
	case v.Kind == query.KindTime:
		return binary.BigEndian.AppendUint64(dst, uint64(v.Time.UnixMicro()))
	}
	return append(dst, strings.ToLower(v.Kind.String())...)
}
