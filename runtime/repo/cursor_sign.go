package repo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/repokit/repokit/runtime/query"
)

// A signed cursor is the unsigned cursor (base64url JSON, no dots), a dot, and the
// base64url of the first cursorMACBytes bytes of HMAC-SHA256(key, binding || 0 || cursor),
// where the binding names the query the cursor belongs to: the record type, the filter and
// the sort order (not the limit or the projection, which may change between pages).
const (
	cursorMACBytes = 16
	cursorSep      = "."
	cursorDomain   = "repokit cursor v1"
)

// cursorBinding returns the bytes a signed cursor of spec is bound to, nil when the
// repository does not sign cursors.
func (c *Collection[T]) cursorBinding(spec *query.Spec) []byte {
	if len(c.opts.cursorKeys) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(cursorDomain)
	b.WriteByte(0)
	b.WriteString(c.desc.Name)
	b.WriteByte(0)
	writeExpr(&b, spec.Filter)
	for _, k := range spec.Sort {
		b.WriteByte(0)
		b.WriteString(k.Field)
		if k.Desc {
			b.WriteString(" DESC")
		}
	}
	return []byte(b.String())
}

// writeExpr writes e in a form where two different filters never look alike: every node
// parenthesized, the field and every operand quoted and typed, so no operand (a string, a
// LIKE or REGEX pattern) can imitate the structure around it.
func writeExpr(b *strings.Builder, e query.Expr) {
	fmt.Fprintf(b, "(%d %q", e.Op, e.Field)
	for _, a := range e.Args {
		var v string
		switch x := a.(type) {
		case query.Like:
			v = x.Pattern()
		case *query.Regex:
			v = x.Pattern()
		case time.Time:
			v = x.UTC().Format(time.RFC3339Nano)
		default:
			v = fmt.Sprint(x)
		}
		fmt.Fprintf(b, " %T:%q", a, v)
	}
	for _, sub := range e.Sub {
		b.WriteByte(' ')
		writeExpr(b, sub)
	}
	b.WriteByte(')')
}

func cursorMAC(key, bind []byte, cursor string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(bind)
	m.Write([]byte{0})
	m.Write([]byte(cursor))
	return m.Sum(nil)[:cursorMACBytes]
}

// sign returns cursor with its signature under the current key appended, or cursor itself
// when the repository does not sign cursors.
func (c *Collection[T]) sign(cursor string, bind []byte) string {
	if len(c.opts.cursorKeys) == 0 {
		return cursor
	}
	return cursor + cursorSep + base64.RawURLEncoding.EncodeToString(cursorMAC(c.opts.cursorKeys[0], bind, cursor))
}

// verify returns the unsigned part of cursor when its signature matches bind under one of
// the repository's keys; without keys it returns cursor unchanged. Its errors complete
// "invalid cursor: " and name no key.
func (c *Collection[T]) verify(cursor string, bind []byte) (string, error) {
	if len(c.opts.cursorKeys) == 0 {
		return cursor, nil
	}
	body, sig, ok := strings.Cut(cursor, cursorSep)
	if !ok {
		return "", errUnsigned
	}
	mac, err := base64.RawURLEncoding.Strict().DecodeString(sig) // Strict: one spelling per signature
	if err != nil || len(mac) != cursorMACBytes {
		return "", errBadSignature
	}
	for _, k := range c.opts.cursorKeys {
		if hmac.Equal(mac, cursorMAC(k, bind, body)) {
			return body, nil
		}
	}
	return "", errBadSignature
}

var errBadSignature = errors.New("the signature does not match: the cursor was altered, signed with another key, " +
	"or returned by Page for another query (record type, filter or sort order)")

// errUnsigned is the reason a repository with a cursor key gives for an unsigned cursor.
var errUnsigned = errors.New("it is not signed, and this repository accepts only signed cursors")
