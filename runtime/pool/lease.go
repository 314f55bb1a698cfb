package pool

import (
	"sync"
	"sync/atomic"
)

// Lease is a hold on a shared pool. It is a small value: copy it freely; Release takes effect
// once whichever copy calls it first. The zero Lease is inert.
type Lease[P any] struct {
	inst *instance[P]
	tok  *token
	gen  uint64
}

// token makes Release take effect once across every copy of a Lease: a lease is valid while
// its token's generation equals the lease's, and Release advances it. Tokens are recycled.
type token struct{ gen atomic.Uint64 }

var tokens = sync.Pool{New: func() any { return new(token) }}

func (inst *instance[P]) lease() Lease[P] {
	t := tokens.Get().(*token)
	return Lease[P]{inst: inst, tok: t, gen: t.gen.Add(1)}
}

// Pool returns the pool this lease holds (the zero P for the zero Lease). Do not use it after
// Release.
func (l Lease[P]) Pool() P {
	if l.inst == nil {
		var zero P
		return zero
	}
	return l.inst.pool
}

// Release gives the lease back. Calling it again, on any copy, does nothing. The last Release
// of a pool closes it unless the Manager keeps idle pools (Options.KeepIdle, IdleGrace).
func (l Lease[P]) Release() {
	if l.tok == nil || !l.tok.gen.CompareAndSwap(l.gen, l.gen+1) {
		return
	}
	tokens.Put(l.tok)
	l.inst.release()
}

// ReportBroken tells the Manager the pool failed with err: the next Get validates it (or, when
// there is no Validate hook, replaces it) before handing it out again. It does not release the
// lease, and does nothing on a released lease.
func (l Lease[P]) ReportBroken(err error) {
	if l.tok == nil || l.tok.gen.Load() != l.gen {
		return
	}
	l.inst.reportBroken(err)
}
