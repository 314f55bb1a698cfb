package query

import "fmt"

// Kind is the value kind of a record field, as declared in the schema.
type Kind uint8

// Field kinds. String, Text, UUID and Enum values are Go strings; Int is int64; Float is
// float64; Time is time.Time; Bytes is []byte; JSON is raw JSON text.
const (
	KindInvalid Kind = iota
	KindString
	KindText
	KindUUID
	KindEnum
	KindInt
	KindFloat
	KindBool
	KindTime
	KindBytes
	KindJSON
)

var kindNames = [...]string{
	KindInvalid: "invalid",
	KindString:  "string",
	KindText:    "text",
	KindUUID:    "uuid",
	KindEnum:    "enum",
	KindInt:     "int",
	KindFloat:   "float",
	KindBool:    "bool",
	KindTime:    "time",
	KindBytes:   "bytes",
	KindJSON:    "json",
}

// String returns the schema name of the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// KindOf returns the kind a schema type name names ("int" → KindInt, the inverse of
// String), or KindInvalid for any other name.
func KindOf(name string) Kind {
	for k := KindString; int(k) < len(kindNames); k++ {
		if kindNames[k] == name {
			return k
		}
	}
	return KindInvalid
}

// IsString reports whether values of the kind are Go strings.
func (k Kind) IsString() bool {
	return k == KindString || k == KindText || k == KindUUID || k == KindEnum
}

// Ordered reports whether values of the kind can be compared with GT, LT and BETWEEN
// and used as sort keys.
func (k Kind) Ordered() bool {
	switch k {
	case KindString, KindText, KindUUID, KindEnum, KindInt, KindFloat, KindTime, KindBool:
		return true
	}
	return false
}
