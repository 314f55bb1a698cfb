package repo

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/repokit/repokit/runtime/eval"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// Aggregator is the optional fast path of Repository.Aggregate: a backend that computes an
// aggregation in the store (PostgreSQL one GROUP BY, Elasticsearch a composite aggregation)
// implements it; for any other driver the Collection streams the records matching the
// filter (projected on the fields the aggregation reads) and aggregates them in Go, with
// memory bounded by the number of groups. The spec it receives is checked (CheckAggSpec).
//
// Aggregate returns one group per distinct key tuple, in any order, with Keys, Count and
// Metrics set as query.Group documents (metric values of the kinds eval.MetricKind names);
// for an aggregation without group keys it may return no group when no record matches. The
// Collection then sorts the groups, supplies the empty ungrouped group and applies the
// portable range checks, so every backend's answer reads the same.
type Aggregator interface {
	Aggregate(ctx context.Context, spec *query.AggSpec) ([]query.Group, error)
}

// MaxExactInt is the largest magnitude an int sum may have: 2^53, below which every backend
// (Elasticsearch sums in float64) computes it exactly. A larger sum is ErrInvalidInput.
const MaxExactInt = 1 << 53

// Aggregate implements Repository.
func (c *Collection[T]) Aggregate(ctx context.Context, q query.Query[T], groups []query.GroupKey[T], metrics ...query.Metric[T]) ([]query.Group, error) {
	ctx, cl := c.begin(ctx, opAggregate)
	out, err := c.aggregate(ctx, q, groups, metrics)
	if err == nil {
		cl.rows(len(out))
	}
	cl.end(ctx, err)
	return out, err
}

func (c *Collection[T]) aggregate(ctx context.Context, q query.Query[T], groups []query.GroupKey[T], metrics []query.Metric[T]) ([]query.Group, error) {
	const op = "Aggregate"
	if err := c.checkOpen(op); err != nil {
		return nil, err
	}
	if err := q.Err(); err != nil {
		return nil, c.fail(op, "", err)
	}
	spec := query.NewAggSpec(q, groups, metrics)
	if err := CheckAggSpec(c.desc, &spec); err != nil {
		return nil, c.fail(op, "", err)
	}
	var out []query.Group
	var err error
	if a, ok := c.drv.(Aggregator); ok {
		out, err = a.Aggregate(ctx, &spec)
	} else {
		out, err = AggregateStream(ctx, c.desc, c.drv, &spec)
	}
	if err != nil {
		return nil, c.fail(op, "", err)
	}
	out, err = FinishGroups(&spec, c.kinds(&spec), out)
	return out, c.fail(op, "", err)
}

func (c *Collection[T]) kinds(spec *query.AggSpec) []query.Kind {
	ks := make([]query.Kind, len(spec.Metrics))
	for i, m := range spec.Metrics {
		f, _ := c.desc.Lookup(m.Field)
		ks[i] = f.Kind
	}
	return ks
}

// AggregateStream is the portable path of Aggregate: drv's Query over spec's filter, in id
// order and projected on the fields the aggregation reads, fed to an eval.Aggregator, with
// memory bounded by the number of groups. The Collection uses it for a driver without
// Aggregator; a driver's Aggregate may use it for specs its store cannot answer exactly.
func AggregateStream[T any](ctx context.Context, d *record.Desc[T], drv Driver[T], spec *query.AggSpec) ([]query.Group, error) {
	agg, err := eval.NewAggregator(d, spec)
	if err != nil {
		return nil, err
	}
	id := d.ID().Name
	fields := []string{id}
	for _, g := range spec.Groups {
		if !slices.Contains(fields, g.Field) {
			fields = append(fields, g.Field)
		}
	}
	for _, m := range spec.Metrics {
		if !slices.Contains(fields, m.Field) {
			fields = append(fields, m.Field)
		}
	}
	qs := query.Spec{Filter: spec.Filter, Sort: []query.SortKey{{Field: id}}, Fields: fields}
	for rec, err := range drv.Query(ctx, &qs) {
		if err != nil {
			return nil, err
		}
		agg.Add(&rec)
	}
	return agg.Groups()
}

// CheckAggSpec reports the first problem in an aggregation of records of type T: a bad
// filter (see CheckFilter), an unknown field, a group key on a field that cannot be one
// (text, float, bytes and json fields; a time field without a day or month bucket; a bucket
// on another kind), or a metric that does not apply to its field (sum and avg need an int or
// float field; min and max an int, float or time field; count distinct a string, uuid, enum,
// text, int, bool or time field; no metric applies to a list field).
func CheckAggSpec[T any](d *record.Desc[T], spec *query.AggSpec) error {
	if err := CheckFilter(d, spec.Filter); err != nil {
		return err
	}
	for _, g := range spec.Groups {
		f, err := d.Lookup(g.Field)
		if err != nil {
			return err
		}
		bad := func(why string) error {
			return fmt.Errorf("%w: cannot group by %s field %s: %s", query.ErrBadQuery, fieldKind(f), f.Name, why)
		}
		switch f.Kind {
		case query.KindString, query.KindUUID, query.KindEnum, query.KindInt, query.KindBool:
			if g.Bucket != query.BucketNone {
				return bad("only time fields have day and month buckets")
			}
		case query.KindTime:
			if g.Bucket != query.BucketDay && g.Bucket != query.BucketMonth {
				return bad("a time key needs a day or month bucket")
			}
		default:
			return bad("group keys are string, uuid, enum, int, bool and time (by day or month) fields")
		}
	}
	for _, m := range spec.Metrics {
		f, err := d.Lookup(m.Field)
		if err != nil {
			return err
		}
		ok := false
		k := f.Kind
		switch m.Op {
		case query.AggCount:
			ok = true
		case query.AggSum, query.AggAvg:
			ok = k == query.KindInt || k == query.KindFloat
		case query.AggMin, query.AggMax:
			ok = k == query.KindInt || k == query.KindFloat || k == query.KindTime
		case query.AggCountDistinct:
			ok = k.IsString() || k == query.KindInt || k == query.KindBool || k == query.KindTime
		}
		if !ok || f.List {
			return fmt.Errorf("%w: %s does not apply to %s field %s", query.ErrBadQuery, m.Op, fieldKind(f), f.Name)
		}
	}
	return nil
}

// FinishGroups turns a driver's groups for spec into the answer every backend gives: for an
// aggregation without group keys and no group, one group with Count 0, counts 0 and other
// metrics null; groups sorted by their keys (CompareValues: nulls last); an int sum of
// magnitude MaxExactInt or more, or a float sum or average that is not finite, an
// ErrInvalidInput error. kinds[i] is the kind of metric i's field. Drivers that build
// answers outside a Collection call it.
func FinishGroups(spec *query.AggSpec, kinds []query.Kind, groups []query.Group) ([]query.Group, error) {
	if len(spec.Groups) == 0 && len(groups) == 0 {
		g := query.Group{Keys: []query.Value{}, Metrics: make([]query.Value, len(spec.Metrics))}
		for i, m := range spec.Metrics {
			v := query.Value{Kind: eval.MetricKind(m.Op, kinds[i])}
			v.Null = m.Op != query.AggCount && m.Op != query.AggCountDistinct
			g.Metrics[i] = v
		}
		groups = []query.Group{g}
	}
	for _, g := range groups {
		for i, v := range g.Metrics {
			m := spec.Metrics[i]
			if v.Null || (m.Op != query.AggSum && m.Op != query.AggAvg) {
				continue
			}
			if v.Kind == query.KindInt && (v.Int >= MaxExactInt || v.Int <= -MaxExactInt) {
				return nil, fmt.Errorf("%w: %s is beyond ±2^53", query.ErrBadQuery, m)
			}
			if v.Kind == query.KindFloat && (math.IsInf(v.Float, 0) || math.IsNaN(v.Float)) {
				return nil, fmt.Errorf("%w: %s is not finite", query.ErrBadQuery, m)
			}
		}
	}
	slices.SortStableFunc(groups, func(a, b query.Group) int {
		for i := range a.Keys {
			if c := query.CompareValues(a.Keys[i], b.Keys[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	return groups, nil
}
