package postgres

import (
	"database/sql/driver"
	"strconv"
	"strings"
)

// textArray, intArray and jsonText are the column types a GORM user writes for text[],
// bigint[] and json columns (GORM has no built-in PostgreSQL array type).
type textArray []string

// Value renders a PostgreSQL array literal.
func (a textArray) Value() (driver.Value, error) {
	if a == nil {
		return nil, nil
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}

type intArray []int64

// Value renders a PostgreSQL array literal.
func (a intArray) Value() (driver.Value, error) {
	if a == nil {
		return nil, nil
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(v, 10))
	}
	b.WriteByte('}')
	return b.String(), nil
}

type jsonText []byte

// Value returns the JSON text.
func (j jsonText) Value() (driver.Value, error) {
	if j == nil {
		return nil, nil
	}
	return string(j), nil
}
