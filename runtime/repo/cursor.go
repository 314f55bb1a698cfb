package repo

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// A cursor holds the sort-key values of the last record of a page and a fingerprint of the
// record type and sort order, so that a cursor from another query is rejected instead of
// silently returning a wrong page. Values are strings in a kind-specific exact form; a nil
// entry is a missing value.
type cursorData struct {
	F string    `json:"f"`
	V []*string `json:"v"`
}

func (c *Collection[T]) fingerprint(keys []query.SortKey) string {
	h := fnv.New64a()
	h.Write([]byte(c.desc.Name))
	for _, k := range keys {
		h.Write([]byte{0})
		h.Write([]byte(k.Field))
		if k.Desc {
			h.Write([]byte{1})
		}
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

func (c *Collection[T]) cursorAfter(spec *query.Spec, rec *T, bind []byte) string {
	d := cursorData{F: c.fingerprint(spec.Sort), V: make([]*string, len(spec.Sort))}
	for i, k := range spec.Sort {
		f, _ := c.desc.Lookup(k.Field) // checked by spec
		if s, ok := encodeKey(f, rec); ok {
			d.V[i] = &s
		}
	}
	b, _ := json.Marshal(d)
	return c.sign(base64.RawURLEncoding.EncodeToString(b), bind)
}

func encodeKey[T any](f *record.Field[T], rec *T) (string, bool) {
	switch {
	case f.Str != nil:
		return f.Str(rec)
	case f.Int != nil:
		v, ok := f.Int(rec)
		return strconv.FormatInt(v, 10), ok
	case f.Float != nil:
		v, ok := f.Float(rec)
		return strconv.FormatFloat(v, 'g', -1, 64), ok
	case f.Bool != nil:
		v, ok := f.Bool(rec)
		return strconv.FormatBool(v), ok
	case f.Time != nil:
		v, ok := f.Time(rec)
		return v.UTC().Format(time.RFC3339Nano), ok
	}
	return "", false
}

// decodeKey parses a cursor value of field f. It accepts only values a record can hold
// (finite floats, strings without NUL or invalid UTF-8), so that a forged cursor is rejected
// on every backend alike instead of meaning something different on each.
func decodeKey[T any](f *record.Field[T], s string) (any, error) {
	switch {
	case f.Kind.IsString():
		if err := record.CheckString(s); err != nil {
			return nil, err
		}
		return s, nil
	case f.Kind == query.KindInt:
		return strconv.ParseInt(s, 10, 64)
	case f.Kind == query.KindFloat:
		v, err := strconv.ParseFloat(s, 64)
		if err == nil {
			err = record.CheckFloat(v)
		}
		return v, err
	case f.Kind == query.KindBool:
		return strconv.ParseBool(s)
	case f.Kind == query.KindTime:
		return time.Parse(time.RFC3339Nano, s)
	}
	return nil, fmt.Errorf("kind %s", f.Kind)
}

// afterCursor checks cursor's signature against bind when the repository signs cursors,
// decodes it and returns the filter matching the records that sort after the record it
// points at (missing values sort last in both directions).
func (c *Collection[T]) afterCursor(spec *query.Spec, cursor string, bind []byte) (query.Expr, error) {
	bad := func(why string) error {
		return Errorf(ErrInvalidInput, "invalid cursor: "+why)
	}
	cursor, err := c.verify(cursor, bind)
	if err != nil {
		return query.Expr{}, bad(err.Error())
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return query.Expr{}, bad("not a cursor returned by Page")
	}
	var d cursorData
	if err := json.Unmarshal(raw, &d); err != nil {
		return query.Expr{}, bad("not a cursor returned by Page")
	}
	if d.F != c.fingerprint(spec.Sort) || len(d.V) != len(spec.Sort) {
		return query.Expr{}, bad("it belongs to a query with another record type or sort order")
	}
	vals := make([]any, len(d.V))
	optional := make([]bool, len(d.V))
	for i, k := range spec.Sort {
		f, _ := c.desc.Lookup(k.Field)
		optional[i] = f.Optional
		if d.V[i] == nil {
			if !f.Optional {
				return query.Expr{}, bad(fmt.Sprintf("required field %s has no value", k.Field))
			}
			continue
		}
		if vals[i], err = decodeKey(f, *d.V[i]); err != nil {
			return query.Expr{}, bad(fmt.Sprintf("value of %s: %v", k.Field, err))
		}
	}
	return after(spec.Sort, vals, optional), nil
}

// after builds the keyset condition for keys given the last record's values (nil =
// missing): the records whose first key sorts after v, or ties on it and sort after on the
// remaining keys. optional[i] tells whether key i can be missing.
func after(keys []query.SortKey, vals []any, optional []bool) query.Expr {
	k, v := keys[0], vals[0]
	missing := query.Expr{Op: query.OpNotExists, Field: k.Field}
	if len(keys) == 1 {
		switch {
		case v == nil:
			return query.OrExpr() // nothing sorts after a missing last key
		case optional[0]:
			return query.OrExpr(cmpAfter(k, v), missing)
		}
		return cmpAfter(k, v)
	}
	rest := after(keys[1:], vals[1:], optional[1:])
	if v == nil {
		return query.AndExpr(missing, rest)
	}
	tie := query.AndExpr(query.Expr{Op: query.OpEQ, Field: k.Field, Args: []any{v}}, rest)
	if optional[0] {
		return query.OrExpr(cmpAfter(k, v), missing, tie)
	}
	return query.OrExpr(cmpAfter(k, v), tie)
}

func cmpAfter(k query.SortKey, v any) query.Expr {
	op := query.OpGT
	if k.Desc {
		op = query.OpLT
	}
	return query.Expr{Op: op, Field: k.Field, Args: []any{v}}
}
