package query

import (
	"cmp"
	"fmt"
	"strings"
	"time"
)

// Aggregations: a Repository's Aggregate computes metrics (Metric) over the records matching
// a query's filter, per group of records sharing the values of zero or more group keys
// (GroupKey). Field handles build both: Products.Price.Sum(), Products.Category.GroupBy(),
// Products.CreatedAt.ByMonth(). The untyped AggSpec is what backends compile; the result
// is one Group per distinct key tuple, with typed Values. docs/semantics.md, "Aggregations",
// states the meaning every backend shares.

// AggOp is a metric's operation.
type AggOp uint8

// Metric operations.
const (
	AggInvalid       AggOp = iota
	AggCount               // records with a value in the field (Int)
	AggSum                 // sum of the values (Int for int fields, Float for float fields)
	AggMin                 // smallest value (the field's kind)
	AggMax                 // largest value (the field's kind)
	AggAvg                 // mean of the values (Float)
	AggCountDistinct       // number of distinct values (Int)
)

var aggOpNames = [...]string{AggInvalid: "invalid", AggCount: "count", AggSum: "sum", AggMin: "min",
	AggMax: "max", AggAvg: "avg", AggCountDistinct: "count_distinct"}

// String returns the operation's name, e.g. "sum".
func (o AggOp) String() string {
	if int(o) < len(aggOpNames) {
		return aggOpNames[o]
	}
	return fmt.Sprintf("AggOp(%d)", o)
}

// Bucket truncates a time group key.
type Bucket uint8

// Time buckets, in UTC.
const (
	BucketNone  Bucket = iota // the value itself (string, enum, uuid, int and bool keys)
	BucketDay                 // the UTC day the time falls in (midnight UTC)
	BucketMonth               // the UTC month the time falls in (its first day, midnight UTC)
)

// String returns "", "day" or "month".
func (b Bucket) String() string {
	switch b {
	case BucketDay:
		return "day"
	case BucketMonth:
		return "month"
	}
	return ""
}

// MetricSpec is one untyped metric.
type MetricSpec struct {
	Op    AggOp
	Field string // schema field name
}

// String renders the metric, e.g. "sum(price)".
func (m MetricSpec) String() string { return m.Op.String() + "(" + m.Field + ")" }

// GroupSpec is one untyped group key. For a list field, records are grouped by each of
// their distinct elements (a record with two tags is in both tags' groups).
type GroupSpec struct {
	Field  string // schema field name
	Bucket Bucket // for time fields: BucketDay or BucketMonth
}

// String renders the key, e.g. "category" or "created_at/month".
func (g GroupSpec) String() string {
	if g.Bucket != BucketNone {
		return g.Field + "/" + g.Bucket.String()
	}
	return g.Field
}

// AggSpec is the untyped form of an aggregation that backends compile.
type AggSpec struct {
	Filter  Expr         // All when there is no filter
	Groups  []GroupSpec  // in order; none for one group over every matching record
	Metrics []MetricSpec // in order; Group.Count is always computed
}

// String renders the spec for logs and errors.
func (s AggSpec) String() string {
	var b strings.Builder
	b.WriteString("WHERE ")
	b.WriteString(s.Filter.String())
	if len(s.Groups) > 0 {
		b.WriteString(" GROUP BY ")
		for i, g := range s.Groups {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(g.String())
		}
	}
	b.WriteString(" SELECT count(*)")
	for _, m := range s.Metrics {
		b.WriteString(", ")
		b.WriteString(m.String())
	}
	return b.String()
}

// Metric is a typed metric on records of type R, built by a field handle (Price.Sum()).
type Metric[R any] struct{ spec MetricSpec }

// Spec returns the untyped metric.
func (m Metric[R]) Spec() MetricSpec { return m.spec }

// GroupKey is a typed group key on records of type R, built by a field handle
// (Category.GroupBy(), CreatedAt.ByDay()).
type GroupKey[R any] struct{ spec GroupSpec }

// Spec returns the untyped group key.
func (g GroupKey[R]) Spec() GroupSpec { return g.spec }

// By lists group keys, for Repository.Aggregate: By(Products.Category.GroupBy()).
func By[R any](keys ...GroupKey[R]) []GroupKey[R] { return keys }

// NewAggSpec returns the untyped spec of an aggregation of q's records.
func NewAggSpec[R any](q Query[R], groups []GroupKey[R], metrics []Metric[R]) AggSpec {
	s := AggSpec{Filter: q.spec.Filter}
	for _, g := range groups {
		s.Groups = append(s.Groups, g.spec)
	}
	for _, m := range metrics {
		s.Metrics = append(s.Metrics, m.spec)
	}
	return s
}

func metric[R any](op AggOp, field string) Metric[R] {
	return Metric[R]{MetricSpec{Op: op, Field: field}}
}

func groupKey[R any](field string, b Bucket) GroupKey[R] {
	return GroupKey[R]{GroupSpec{Field: field, Bucket: b}}
}

// Count counts the records in which the field has a value.
func (f valueField[R, V]) Count() Metric[R] { return metric[R](AggCount, f.name) }

// Count counts the records in which the field has a value.
func (f PresenceField[R]) Count() Metric[R] { return metric[R](AggCount, f.name) }

// CountDistinct counts the distinct values of the field (missing values not counted).
func (f StringField[R]) CountDistinct() Metric[R] { return metric[R](AggCountDistinct, f.name) }

// GroupBy groups records by the field's value (string and uuid fields; not text fields).
func (f StringField[R]) GroupBy() GroupKey[R] { return groupKey[R](f.name, BucketNone) }

// CountDistinct counts the distinct values of the field.
func (f EnumField[R, E]) CountDistinct() Metric[R] { return metric[R](AggCountDistinct, f.name) }

// GroupBy groups records by the field's value.
func (f EnumField[R, E]) GroupBy() GroupKey[R] { return groupKey[R](f.name, BucketNone) }

// Sum is the sum of the field's values, an int (see docs/semantics.md for its range).
func (f IntField[R]) Sum() Metric[R] { return metric[R](AggSum, f.name) }

// Min is the smallest value of the field.
func (f IntField[R]) Min() Metric[R] { return metric[R](AggMin, f.name) }

// Max is the largest value of the field.
func (f IntField[R]) Max() Metric[R] { return metric[R](AggMax, f.name) }

// Avg is the mean of the field's values, a float.
func (f IntField[R]) Avg() Metric[R] { return metric[R](AggAvg, f.name) }

// CountDistinct counts the distinct values of the field.
func (f IntField[R]) CountDistinct() Metric[R] { return metric[R](AggCountDistinct, f.name) }

// GroupBy groups records by the field's value.
func (f IntField[R]) GroupBy() GroupKey[R] { return groupKey[R](f.name, BucketNone) }

// Sum is the sum of the field's values.
func (f FloatField[R]) Sum() Metric[R] { return metric[R](AggSum, f.name) }

// Min is the smallest value of the field.
func (f FloatField[R]) Min() Metric[R] { return metric[R](AggMin, f.name) }

// Max is the largest value of the field.
func (f FloatField[R]) Max() Metric[R] { return metric[R](AggMax, f.name) }

// Avg is the mean of the field's values.
func (f FloatField[R]) Avg() Metric[R] { return metric[R](AggAvg, f.name) }

// Min is the earliest value of the field.
func (f TimeField[R]) Min() Metric[R] { return metric[R](AggMin, f.name) }

// Max is the latest value of the field.
func (f TimeField[R]) Max() Metric[R] { return metric[R](AggMax, f.name) }

// ByDay groups records by the UTC day of the field's value.
func (f TimeField[R]) ByDay() GroupKey[R] { return groupKey[R](f.name, BucketDay) }

// ByMonth groups records by the UTC month of the field's value.
func (f TimeField[R]) ByMonth() GroupKey[R] { return groupKey[R](f.name, BucketMonth) }

// CountDistinct counts the distinct values of the field (0, 1 or 2).
func (f BoolField[R]) CountDistinct() Metric[R] { return metric[R](AggCountDistinct, f.name) }

// GroupBy groups records by the field's value.
func (f BoolField[R]) GroupBy() GroupKey[R] { return groupKey[R](f.name, BucketNone) }

// GroupBy groups records by each distinct element of the list (a facet): a record is in
// the group of every element it holds, and a record with an empty list in the null group.
func (f ListField[R, E]) GroupBy() GroupKey[R] { return groupKey[R](f.v.name, BucketNone) }

// Value is one typed group key or metric value. Kind says which field holds it: Str for
// string, text, uuid and enum; Int; Float; Bool; Time (UTC). Null is set for a missing group
// key and for a metric over no values (sum, min, max, avg); its other fields are then zero.
type Value struct {
	Kind  Kind
	Null  bool
	Str   string
	Int   int64
	Float float64
	Bool  bool
	Time  time.Time
}

// Any returns the value as a Go value (string, int64, float64, bool, time.Time), or nil
// when it is null.
func (v Value) Any() any {
	if v.Null {
		return nil
	}
	switch {
	case v.Kind.IsString():
		return v.Str
	case v.Kind == KindInt:
		return v.Int
	case v.Kind == KindFloat:
		return v.Float
	case v.Kind == KindBool:
		return v.Bool
	case v.Kind == KindTime:
		return v.Time
	}
	return nil
}

// String renders the value for logs and tests: "null", a string quoted, a time in RFC 3339.
func (v Value) String() string {
	if v.Null {
		return "null"
	}
	switch x := v.Any().(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case nil:
		return "invalid"
	default:
		return fmt.Sprint(x)
	}
}

// CompareValues orders two values of the same kind: strings byte by byte, numbers
// numerically, false before true, times in time order, and null after every value (as
// sorting puts missing values last).
func CompareValues(a, b Value) int {
	if a.Null || b.Null {
		switch {
		case a.Null && b.Null:
			return 0
		case a.Null:
			return 1
		}
		return -1
	}
	switch {
	case a.Kind.IsString():
		return strings.Compare(a.Str, b.Str)
	case a.Kind == KindInt:
		return cmp.Compare(a.Int, b.Int)
	case a.Kind == KindFloat:
		return cmp.Compare(a.Float, b.Float)
	case a.Kind == KindBool:
		return cmp.Compare(b2i(a.Bool), b2i(b.Bool))
	case a.Kind == KindTime:
		return a.Time.Compare(b.Time)
	}
	return 0
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Group is one group of an aggregation: its key values (one per group key, in order),
// the number of records in it, and its metric values (one per metric, in order).
type Group struct {
	Keys    []Value
	Count   int64
	Metrics []Value
}

// String renders the group, e.g. `{"books" true} count=3 [12.5 null]`.
func (g Group) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range g.Keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k.String())
	}
	fmt.Fprintf(&b, "} count=%d [", g.Count)
	for i, m := range g.Metrics {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(m.String())
	}
	b.WriteByte(']')
	return b.String()
}
