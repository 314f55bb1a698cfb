package s3

import (
	"unicode/utf8"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// idRange is the range of ids outside of which a filter matches no record, as far as its
// comparisons of the id tell (a Page cursor in id order is "id > last id"; an id BETWEEN,
// IN or =). Keys sort like ids (see EscapeID), so a scan lists only the keys in that range:
// it starts the listing after the lower bound and stops it past the upper one. The filter
// itself is still evaluated on every record read, so the range only saves listing.
type idRange struct {
	lo, hi         string
	hasLo, hasHi   bool
	loIncl, hiIncl bool // the bound itself is in the range
}

// bound is one side of an idRange.
type bound struct {
	v    string
	incl bool
	ok   bool
}

// idRangeOf returns the id range of filter.
func (d *Driver[T]) idRangeOf(filter query.Expr) idRange {
	id := d.desc.ID().Name
	lo, hi := idBound(id, filter, true), idBound(id, filter, false)
	if len(lo.v) > repo.MaxIDBytes {
		// A filter operand is not limited, but a key to start a listing after is: MinIO
		// refused an id operand of 32,766 bytes as a StartAfter key (HTTP 400). Every id at
		// or after the operand is at or after its prefix, so the prefix is a looser bound.
		n := repo.MaxIDBytes
		for n > 0 && !utf8.RuneStart(lo.v[n]) {
			n--
		}
		lo.v, lo.incl = lo.v[:n], true
	}
	return idRange{lo: lo.v, loIncl: lo.incl, hasLo: lo.ok && lo.v != "", hi: hi.v, hiIncl: hi.incl, hasHi: hi.ok}
}

// idBound returns the lower (lower true) or upper bound that e puts on the id field named
// id: of a comparison of the id, the tightest of an And's children, the loosest of an Or's
// when each child has one; none otherwise.
func idBound(id string, e query.Expr, lower bool) bound {
	switch e.Op {
	case query.OpAnd:
		var b bound
		for _, s := range e.Sub {
			if c := idBound(id, s, lower); c.ok && (!b.ok || tighter(c, b, lower)) {
				b = c
			}
		}
		return b
	case query.OpOr:
		if len(e.Sub) == 0 {
			return bound{}
		}
		var b bound
		for i, s := range e.Sub {
			c := idBound(id, s, lower)
			if !c.ok {
				return bound{}
			}
			if i == 0 || tighter(b, c, lower) {
				b = c
			}
		}
		return b
	}
	if e.Field != id || len(e.Args) == 0 {
		return bound{}
	}
	arg := func(i int) (string, bool) {
		s, ok := e.Args[i].(string)
		return s, ok
	}
	var v string
	var ok, incl bool
	switch e.Op {
	case query.OpEQ:
		v, ok = arg(0)
		incl = true
	case query.OpGT, query.OpGTE:
		if lower {
			v, ok = arg(0)
			incl = e.Op == query.OpGTE
		}
	case query.OpLT, query.OpLTE:
		if !lower {
			v, ok = arg(0)
			incl = e.Op == query.OpLTE
		}
	case query.OpBetween:
		if len(e.Args) == 2 {
			i := 1
			if lower {
				i = 0
			}
			v, ok = arg(i)
			incl = true
		}
	case query.OpIN:
		for i := range e.Args {
			s, sok := arg(i)
			if !sok {
				return bound{}
			}
			if i == 0 || (lower && s < v) || (!lower && s > v) {
				v = s
			}
		}
		ok, incl = true, true
	case query.OpStartsWith:
		if lower {
			v, ok = arg(0)
			incl = true
		}
	}
	return bound{v: v, incl: incl, ok: ok}
}

// tighter reports whether bound a leaves fewer ids than b (both ok): a larger lower bound, a
// smaller upper one, or the same value excluded.
func tighter(a, b bound, lower bool) bool {
	if a.v != b.v {
		return (a.v > b.v) == lower
	}
	return !a.incl && b.incl
}

// startAfter returns the key to start the listing of r after ("": from the first key).
func (d *Driver[T]) startAfter(r idRange) string {
	if !r.hasLo || d.fromStart {
		return ""
	}
	k := d.Key(r.lo)
	if r.loIncl {
		// k without its last byte (never part of a cut: the last segment is not empty)
		// sorts before k; the few keys between the two (those extending it with a smaller
		// byte) are listed too, and the filter drops them.
		k = k[:len(k)-1]
	}
	return k
}

// past reports whether key lies after r's upper bound, so that the listing can stop.
func (d *Driver[T]) past(r idRange, key string) bool {
	if !r.hasHi {
		return false
	}
	hk := d.Key(r.hi)
	return key > hk || (!r.hiIncl && key == hk)
}
