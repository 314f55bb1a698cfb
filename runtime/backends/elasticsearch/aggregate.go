package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/eval"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

var _ repo.Aggregator = (*Driver[struct{}])(nil)

// AggregatePageSize is the number of composite buckets Aggregate asks for per request; it
// pages with after_key until the last bucket, so no group is ever cut off.
const AggregatePageSize = 1000

// Aggregate implements repo.Aggregator with a composite aggregation over the filter's
// query, paged with after_key to the end: one source per group key (terms with
// missing_bucket, so a missing value is its own group; date_histogram in UTC for time
// buckets; a list field yields one bucket per distinct element), and per bucket a filter
// aggregation counting the records that have each metric's field, sum for sums and
// averages (the average is sum / count, as on every backend), min and max for floats, and
// a top_hits of one document sorted on the field for int and time min and max, read from
// doc values so that longs and microsecond times stay exact. A count distinct is exact: a
// second composite aggregation with the field as a last source, paged to the end, counts
// the distinct values of each group (Elasticsearch's cardinality is approximate). Without
// group keys the metrics are plain aggregations and the count is an exact hit total.
// The requests are not one snapshot: records written meanwhile may be counted by some of
// them and not by others.
//
// A group key on a list of ints, bools or times is computed by streaming the matching
// records (repo.AggregateStream): numeric doc values keep a repeated element, so a
// composite bucket would count such a record twice, where every backend counts it once.
func (d *Driver[T]) Aggregate(ctx context.Context, spec *query.AggSpec) ([]query.Group, error) {
	for _, g := range spec.Groups {
		if f, err := d.desc.Lookup(g.Field); err == nil && f.List && !f.Kind.IsString() {
			return repo.AggregateStream(ctx, d.desc, d, spec)
		}
	}
	filter, err := d.resolveLong(ctx, spec.Filter)
	if err != nil {
		return nil, err
	}
	q, err := d.comp.compile(filter)
	if err != nil {
		return nil, repo.E(repo.ErrInvalidInput, err)
	}
	a, err := d.aggPlan(spec)
	if err != nil {
		return nil, repo.E(repo.ErrInvalidInput, err)
	}
	var out []query.Group
	if len(spec.Groups) == 0 {
		body := M{"size": 0, "track_total_hits": true, "query": q, "aggs": a.metrics}
		resp, err := d.aggSearch(ctx, body)
		if err != nil {
			return nil, err
		}
		total, _ := dig(resp, "hits", "total", "value").(json.Number)
		n, _ := total.Int64()
		if n == 0 {
			return nil, nil
		}
		aggs, _ := resp["aggregations"].(M)
		g := query.Group{Keys: []query.Value{}, Count: n, Metrics: a.values(aggs)}
		out = append(out, g)
	} else {
		err := d.composite(ctx, q, a.sources, a.metrics, func(key M, b M) error {
			g := query.Group{Keys: a.keys(key), Metrics: a.values(b)}
			n, _ := b["doc_count"].(json.Number).Int64()
			g.Count = n
			out = append(out, g)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for i, m := range spec.Metrics {
		if m.Op != query.AggCountDistinct {
			continue
		}
		if err := d.countDistinct(ctx, q, a, i, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// aggPlan is the DSL of one aggregation.
type aggPlan[T any] struct {
	spec    *query.AggSpec
	groups  []*record.Field[T]
	fields  []*record.Field[T]
	sources []any // [{"k0": source}, ...]
	metrics M     // sub-aggregations m<i> (and n<i>, the count of records with the field)
}

func (d *Driver[T]) aggPlan(spec *query.AggSpec) (*aggPlan[T], error) {
	a := &aggPlan[T]{spec: spec, metrics: M{}}
	for i, g := range spec.Groups {
		f, err := d.desc.Lookup(g.Field)
		if err != nil {
			return nil, err
		}
		a.groups = append(a.groups, f)
		var src M
		if f.Kind == query.KindTime {
			interval := "1d"
			if g.Bucket == query.BucketMonth {
				interval = "1M"
			}
			src = M{"date_histogram": M{"field": f.JSON, "calendar_interval": interval, "time_zone": "UTC", "missing_bucket": true}}
		} else {
			src = M{"terms": M{"field": path(f), "missing_bucket": true}}
		}
		a.sources = append(a.sources, M{"k" + strconv.Itoa(i): src})
	}
	for i, m := range spec.Metrics {
		f, err := d.desc.Lookup(m.Field)
		if err != nil {
			return nil, err
		}
		a.fields = append(a.fields, f)
		has, err := d.comp.compile(query.Expr{Op: query.OpExists, Field: f.Name})
		if err != nil {
			return nil, err
		}
		name := "m" + strconv.Itoa(i)
		switch m.Op {
		case query.AggCount:
			a.metrics[name] = M{"filter": has}
		case query.AggSum, query.AggAvg:
			a.metrics[name] = M{"sum": M{"field": path(f)}}
			a.metrics["n"+strconv.Itoa(i)] = M{"filter": has}
		case query.AggMin, query.AggMax:
			if f.Kind == query.KindFloat {
				a.metrics[name] = M{m.Op.String(): M{"field": path(f)}}
				break
			}
			order := "asc"
			if m.Op == query.AggMax {
				order = "desc"
			}
			a.metrics[name] = M{"top_hits": M{"size": 1, "_source": false, "docvalue_fields": []string{path(f)},
				"sort": []any{M{path(f): M{"order": order, "missing": "_last"}}}}}
		case query.AggCountDistinct:
			// counted by countDistinct
		default:
			return nil, fmt.Errorf("%w: unknown aggregation %s", query.ErrBadQuery, m.Op)
		}
	}
	return a, nil
}

// keys decodes a composite bucket's key.
func (a *aggPlan[T]) keys(key M) []query.Value {
	out := make([]query.Value, len(a.groups))
	for i, f := range a.groups {
		v := key["k"+strconv.Itoa(i)]
		out[i] = decodeValue(f.Kind, v, true)
	}
	return out
}

// values decodes the metrics of one bucket (or of the top-level aggregations).
func (a *aggPlan[T]) values(b M) []query.Value {
	out := make([]query.Value, len(a.spec.Metrics))
	for i, m := range a.spec.Metrics {
		f := a.fields[i]
		v := query.Value{Kind: eval.MetricKind(m.Op, f.Kind)}
		agg, _ := b["m"+strconv.Itoa(i)].(M)
		count := func(name string) int64 {
			x, _ := b[name].(M)
			n, _ := x["doc_count"].(json.Number).Int64()
			return n
		}
		switch m.Op {
		case query.AggCount:
			v.Int = count("m" + strconv.Itoa(i))
		case query.AggCountDistinct:
			// set by countDistinct
		case query.AggSum, query.AggAvg:
			n := count("n" + strconv.Itoa(i))
			s := floatOf(agg["value"])
			switch {
			case n == 0:
				v.Null = true
			case m.Op == query.AggAvg:
				v.Float = s / float64(n)
			case f.Kind == query.KindInt:
				// Exact below 2^53; beyond, clamped so that repo rejects it as every backend does.
				v.Int = int64(math.Max(math.Min(s, repo.MaxExactInt), -repo.MaxExactInt))
			default:
				v.Float = s
			}
		case query.AggMin, query.AggMax:
			if f.Kind == query.KindFloat {
				v = decodeValue(f.Kind, agg["value"], false)
				if !v.Null {
					v.Float = floatOf(agg["value"])
				}
				break
			}
			var raw any
			if hits, _ := dig(agg, "hits", "hits").([]any); len(hits) > 0 {
				h, _ := hits[0].(M)
				if vals, _ := dig(h, "fields", path(f)).([]any); len(vals) > 0 {
					raw = vals[0]
				}
			}
			v = decodeValue(f.Kind, raw, false)
			if f.Kind == query.KindTime && !v.Null { // the microsecond long, not the date
				n, _ := raw.(json.Number).Int64()
				v.Time = time.UnixMicro(n).UTC()
			}
		}
		out[i] = v
	}
	return out
}

// floatOf reads a metric's float: a JSON number, or the string Elasticsearch writes for
// a value JSON cannot hold ("Infinity", "-Infinity", "NaN"), which repo then rejects.
func floatOf(v any) float64 {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil {
			return f
		}
	}
	return math.NaN()
}

// decodeValue converts a JSON value of an aggregation answer to a Value of kind k; nil is
// null. A time is a date_histogram key in epoch milliseconds when key is set.
func decodeValue(k query.Kind, v any, key bool) query.Value {
	out := query.Value{Kind: k}
	if v == nil {
		out.Null = true
		return out
	}
	switch x := v.(type) {
	case string:
		switch {
		case k.IsString():
			out.Str = x
		case k == query.KindBool:
			out.Bool = x == "true"
		default:
			out.Null = true
		}
	case bool:
		out.Bool = x
	case json.Number:
		switch k {
		case query.KindInt:
			out.Int, _ = x.Int64()
		case query.KindFloat:
			out.Float, _ = x.Float64()
		case query.KindBool:
			out.Bool = x.String() == "1"
		case query.KindTime:
			n, _ := x.Int64()
			if key {
				out.Time = time.UnixMilli(n).UTC()
			} else {
				out.Time = time.UnixMicro(n).UTC()
			}
		default:
			out.Str = x.String()
		}
	}
	return out
}

// composite runs a composite aggregation with sources and sub-aggregations over q, paged
// with after_key to the end, calling fn for each bucket.
func (d *Driver[T]) composite(ctx context.Context, q M, sources []any, sub M, fn func(key, bucket M) error) error {
	var after any
	for {
		comp := M{"size": AggregatePageSize, "sources": sources}
		if after != nil {
			comp["after"] = after
		}
		g := M{"composite": comp}
		if len(sub) > 0 {
			g["aggs"] = sub
		}
		resp, err := d.aggSearch(ctx, M{"size": 0, "query": q, "aggs": M{"g": g}})
		if err != nil {
			return err
		}
		buckets, _ := dig(resp, "aggregations", "g", "buckets").([]any)
		for _, b := range buckets {
			bm, _ := b.(M)
			key, _ := bm["key"].(M)
			if err := fn(key, bm); err != nil {
				return err
			}
		}
		after = dig(resp, "aggregations", "g", "after_key")
		if len(buckets) == 0 || after == nil {
			return nil
		}
	}
}

// countDistinct sets metric i of every group to the exact number of distinct values of its
// field: a composite aggregation over the group keys and the field, paged to the end, gives
// one bucket per (group, value), counted per group.
func (d *Driver[T]) countDistinct(ctx context.Context, q M, a *aggPlan[T], i int, groups []query.Group) error {
	byKey := make(map[string]*query.Group, len(groups))
	for j := range groups {
		byKey[keyString(groups[j].Keys)] = &groups[j]
	}
	sources := append(append([]any(nil), a.sources...), M{"d": M{"terms": M{"field": path(a.fields[i])}}})
	return d.composite(ctx, q, sources, nil, func(key, _ M) error {
		// A group this pass finds but the first did not holds records written in between
		// (the requests are not one snapshot); it is not in the answer.
		if g := byKey[keyString(a.keys(key))]; g != nil {
			g.Metrics[i].Int++
		}
		return nil
	})
}

func keyString(vs []query.Value) string {
	var b strings.Builder
	for _, v := range vs {
		b.WriteString(v.String())
		b.WriteByte(0)
	}
	return b.String()
}

// aggSearch runs a search with an aggregation and decodes the answer (numbers as
// json.Number).
func (d *Driver[T]) aggSearch(ctx context.Context, body M) (M, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, repo.E(repo.ErrInvalidInput, err)
	}
	r, err := d.do(ctx, noPartial(esapi.SearchRequest{Index: []string{d.o.Index}, Body: bytes.NewReader(raw)}))
	if err != nil {
		return nil, err
	}
	defer closeBody(r)
	if r.IsError() {
		return nil, d.respErr(r, nil)
	}
	raw, err = io.ReadAll(r.Body)
	if err != nil {
		return nil, repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: reading the aggregation response: %w", err))
	}
	var head struct {
		Shards *shards `json:"_shards"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var resp M
	err = dec.Decode(&resp)
	if err == nil {
		err = json.Unmarshal(raw, &head)
	}
	if err != nil {
		return nil, repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: reading the aggregation response: %w", err))
	}
	if err := head.Shards.check("aggregation"); err != nil {
		return nil, err
	}
	return resp, nil
}

// dig returns the value at a path of object keys, or nil.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(M)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
