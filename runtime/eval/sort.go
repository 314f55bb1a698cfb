package eval

import (
	"cmp"
	"fmt"
	"time"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// Cmp is a compiled sort order: it returns a negative number when a sorts before b, a
// positive one when after, and 0 when they tie on every key.
type Cmp[T any] func(a, b *T) int

// CompileSort compiles sort keys for records described by d. Strings compare byte by byte,
// false sorts before true, times compare as instants, and a missing value sorts after
// every present value in both directions. CompileSort does not add the id tiebreaker;
// NewPlan does.
//
// The relevance key (query.SortKey.Relevance) needs the scores of the filter's search
// conditions, which only a Plan has: CompileSort refuses it with ErrBadQuery.
func CompileSort[T any](d *record.Desc[T], keys []query.SortKey) (Cmp[T], error) {
	return compileSort(d, keys, nil)
}

// compileSort is CompileSort with score, the relevance of a record, for the relevance key
// (nil: the key is refused). Higher scores sort first.
func compileSort[T any](d *record.Desc[T], keys []query.SortKey, score func(*T) float64) (Cmp[T], error) {
	cmps := make([]Cmp[T], len(keys))
	for i, k := range keys {
		if k.Relevance {
			if score == nil {
				return nil, fmt.Errorf("%w: a relevance sort needs the filter's search conditions", query.ErrBadQuery)
			}
			cmps[i] = func(a, b *T) int { return cmp.Compare(score(b), score(a)) }
			continue
		}
		f, err := d.Lookup(k.Field)
		if err != nil {
			return nil, err
		}
		idx, _ := d.Field(k.Field)
		if cmps[i], err = keyCmp(d, idx, f, k.Desc); err != nil {
			return nil, err
		}
	}
	switch len(cmps) {
	case 0:
		return func(*T, *T) int { return 0 }, nil
	case 1:
		return cmps[0], nil
	case 2:
		a, b := cmps[0], cmps[1]
		return func(x, y *T) int {
			if c := a(x, y); c != 0 {
				return c
			}
			return b(x, y)
		}, nil
	}
	return func(x, y *T) int {
		for _, c := range cmps {
			if r := c(x, y); r != 0 {
				return r
			}
		}
		return 0
	}, nil
}

func keyCmp[T any](d *record.Desc[T], i int, f *record.Field[T], desc bool) (Cmp[T], error) {
	if f.List || !f.Kind.Ordered() {
		return nil, fmt.Errorf("%w: cannot sort by %s field %s", query.ErrBadQuery, kindName(f), f.Name)
	}
	switch {
	case f.Kind.IsString() && f.Str != nil:
		return orderedCmp(scalarAcc(d, i, f.Str), desc), nil
	case f.Kind == query.KindInt && f.Int != nil:
		return orderedCmp(scalarAcc(d, i, f.Int), desc), nil
	case f.Kind == query.KindFloat && f.Float != nil:
		return orderedCmp(scalarAcc(d, i, f.Float), desc), nil
	case f.Kind == query.KindBool && f.Bool != nil:
		return orderedCmp(boolAcc(d, i), desc), nil
	case f.Kind == query.KindTime && f.Time != nil:
		return timeCmp(scalarAcc(d, i, f.Time), desc), nil
	}
	return nil, fmt.Errorf("%w: field %s has no accessor for its kind %s", query.ErrBadQuery, f.Name, kindName(f))
}

// missingLast orders a present value before a missing one, whatever the direction.
func missingLast(oka, okb bool) int {
	switch {
	case oka:
		return -1
	case okb:
		return 1
	}
	return 0
}

func orderedCmp[T any, V ordered](get acc[T, V], desc bool) Cmp[T] {
	if desc {
		return func(a, b *T) int {
			x, oka := get.load(a)
			y, okb := get.load(b)
			if !oka || !okb {
				return missingLast(oka, okb)
			}
			switch {
			case x > y:
				return -1
			case x < y:
				return 1
			}
			return 0
		}
	}
	return func(a, b *T) int {
		x, oka := get.load(a)
		y, okb := get.load(b)
		if !oka || !okb {
			return missingLast(oka, okb)
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
}

func timeCmp[T any](get acc[T, time.Time], desc bool) Cmp[T] {
	return func(a, b *T) int {
		x, oka := get.load(a)
		y, okb := get.load(b)
		if !oka || !okb {
			return missingLast(oka, okb)
		}
		if desc {
			return y.Compare(x)
		}
		return x.Compare(y)
	}
}
