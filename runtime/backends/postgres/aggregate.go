package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/eval"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

var _ repo.Aggregator = (*Driver[struct{}])(nil)

// AggregateSQL returns the statement and arguments Aggregate runs for spec: one
// SELECT ... GROUP BY (pgdialect.AggregateSQL) over the rows matching the filter.
func (d *Driver[T]) AggregateSQL(spec *query.AggSpec) (string, []any, error) {
	keys := make([]pgdialect.AggKey, len(spec.Groups))
	for i, g := range spec.Groups {
		f, err := d.desc.Lookup(g.Field)
		if err != nil {
			return "", nil, err
		}
		keys[i] = pgdialect.AggKey{Column: f.Column, Kind: f.Kind, List: f.List, Bucket: g.Bucket}
	}
	mets := make([]pgdialect.AggMetric, len(spec.Metrics))
	for i, m := range spec.Metrics {
		f, err := d.desc.Lookup(m.Field)
		if err != nil {
			return "", nil, err
		}
		mets[i] = pgdialect.AggMetric{Op: m.Op, Column: f.Column, Kind: f.Kind}
	}
	c := compiler[T]{desc: d.desc}
	if !spec.Filter.IsAll() {
		if err := c.expr(spec.Filter); err != nil {
			return "", nil, err
		}
	}
	sql, err := pgdialect.AggregateSQL(d.ident.Sanitize(), c.b.String(), keys, mets)
	return sql, c.args, err
}

// Aggregate implements repo.Aggregator with one GROUP BY statement. With replicas it may
// read from a standby (see readOn).
func (d *Driver[T]) Aggregate(ctx context.Context, spec *query.AggSpec) ([]query.Group, error) {
	sql, args, err := d.AggregateSQL(spec)
	if err != nil {
		return nil, repo.E(repo.ErrInvalidInput, err)
	}
	kinds := make([]query.Kind, 0, len(spec.Groups)+1+len(spec.Metrics))
	for _, g := range spec.Groups {
		f, _ := d.desc.Lookup(g.Field)
		kinds = append(kinds, f.Kind)
	}
	kinds = append(kinds, query.KindInt)
	for _, m := range spec.Metrics {
		f, _ := d.desc.Lookup(m.Field)
		kinds = append(kinds, eval.MetricKind(m.Op, f.Kind))
	}
	return readOn(d, ctx, func(db DB) ([]query.Group, error) {
		cctx, cancel := d.callCtx(ctx)
		defer cancel()
		rows, err := db.Query(cctx, sql, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		cells := make([]cell, len(kinds))
		dst := make([]any, len(kinds))
		for i, k := range kinds {
			dst[i] = cells[i].dest(k)
		}
		var out []query.Group
		nk := len(spec.Groups)
		for rows.Next() {
			if err := rows.Scan(dst...); err != nil {
				return nil, err
			}
			g := query.Group{Keys: make([]query.Value, nk), Metrics: make([]query.Value, len(spec.Metrics))}
			for i := range nk {
				g.Keys[i] = cells[i].value(kinds[i])
			}
			g.Count = cells[nk].value(query.KindInt).Int
			for i := range spec.Metrics {
				g.Metrics[i] = cells[nk+1+i].value(kinds[nk+1+i])
			}
			out = append(out, g)
		}
		return out, rows.Err()
	})
}

// cell is a nullable scan destination of one kind.
type cell struct {
	s *string
	i *int64
	f *float64
	b *bool
	t *time.Time
}

func (c *cell) dest(k query.Kind) any {
	switch {
	case k.IsString():
		return &c.s
	case k == query.KindInt:
		return &c.i
	case k == query.KindFloat:
		return &c.f
	case k == query.KindBool:
		return &c.b
	case k == query.KindTime:
		return &c.t
	}
	panic(fmt.Sprintf("postgres: no aggregate value of kind %s", k))
}

func (c *cell) value(k query.Kind) query.Value {
	v := query.Value{Kind: k}
	switch {
	case k.IsString() && c.s != nil:
		v.Str = *c.s
	case k == query.KindInt && c.i != nil:
		v.Int = *c.i
	case k == query.KindFloat && c.f != nil:
		v.Float = *c.f
	case k == query.KindBool && c.b != nil:
		v.Bool = *c.b
	case k == query.KindTime && c.t != nil:
		v.Time = c.t.UTC()
	default:
		v.Null = true
	}
	return v
}
