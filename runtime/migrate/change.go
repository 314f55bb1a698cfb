package migrate

import (
	"fmt"
	"strings"
)

// Kind is the kind of one schema change.
type Kind string

// The kinds of change Diff finds. Record and field names in a Change are the names after
// the change (the old name of a rename is in From); a dropped record or field is named by
// its old name.
const (
	AddRecord    Kind = "add_record"    // a new record type: create its table/index
	DropRecord   Kind = "drop_record"   // destructive: its stored records are lost
	RenameRecord Kind = "rename_record" // From: the old record name
	// ChangeTable, ChangeIndex and ChangePrefix move a record's storage to another name
	// (From, To), e.g. after a rename that changed the derived names.
	ChangeTable  Kind = "change_table"
	ChangeIndex  Kind = "change_index"
	ChangePrefix Kind = "change_prefix"

	AddField    Kind = "add_field"    // existing records get the field's default (or none)
	DropField   Kind = "drop_field"   // destructive: the field's values are lost
	RenameField Kind = "rename_field" // From: the old field name
	// DropOldName drops the old name (From) that a renamed field kept for code of the
	// previous version (Field.OldName): planned once the schema no longer says
	// renamed_from: From. Destructive: code that still uses the old name fails.
	DropOldName Kind = "drop_old_name"
	// ChangeType changes a field's type from From to To ("int" → "float"). A widening keeps
	// every value; anything else is destructive.
	ChangeType     Kind = "change_type"
	AddEnumValues  Kind = "add_enum_values"  // Values: the new values
	DropEnumValues Kind = "drop_enum_values" // destructive; Values: the removed values
	// SetRequired makes an optional field required; records without a value get Default.
	SetRequired Kind = "set_required"
	SetOptional Kind = "set_optional"
	// SetDefault changes the field's default to Default (nil: no default). Stored values
	// do not change.
	SetDefault  Kind = "set_default"
	AddIndex    Kind = "add_index"
	DropIndex   Kind = "drop_index"
	AddUnique   Kind = "add_unique" // fails on stored duplicates, which it names
	DropUnique  Kind = "drop_unique"
	ChangeGenID Kind = "change_generated_id" // the id's generated flag (no storage change)
	// SetSearch makes a text field searchable (From "", To the language), changes its
	// language or makes it not searchable (To ""); stored records are indexed for search by
	// the migration.
	SetSearch Kind = "set_search"
)

// Change is one typed, backend-neutral schema change. Each backend renders its own plan
// from a migration's changes and the schemas before and after it.
type Change struct {
	Kind   Kind     `json:"kind"`
	Record string   `json:"record"`
	Field  string   `json:"field,omitempty"`
	From   string   `json:"from,omitempty"`
	To     string   `json:"to,omitempty"`
	Values []string `json:"values,omitempty"`
	// Default is the value records without one get (AddField, SetRequired), or the new
	// default (SetDefault).
	Default any `json:"default,omitempty"`
	// Destructive is set on a change that can lose stored data; Diff refuses it unless
	// asked to allow it, and Why says what would be lost.
	Destructive bool   `json:"destructive,omitempty"`
	Why         string `json:"why,omitempty"`
}

// String describes the change in one line, e.g. `Product.price: change type int → float`.
func (c Change) String() string {
	var b strings.Builder
	b.WriteString(c.Record)
	if c.Field != "" {
		b.WriteString(".")
		b.WriteString(c.Field)
	}
	b.WriteString(": ")
	switch c.Kind {
	case AddRecord:
		b.WriteString("add record")
	case DropRecord:
		b.WriteString("drop record")
	case RenameRecord:
		fmt.Fprintf(&b, "rename record from %s", c.From)
	case ChangeTable:
		fmt.Fprintf(&b, "move table %s → %s", c.From, c.To)
	case ChangeIndex:
		fmt.Fprintf(&b, "move index %s → %s", c.From, c.To)
	case ChangePrefix:
		fmt.Fprintf(&b, "move key prefix %s → %s", c.From, c.To)
	case AddField:
		b.WriteString("add field")
		if c.Default != nil {
			fmt.Fprintf(&b, " (existing records get %v)", c.Default)
		}
	case DropField:
		b.WriteString("drop field")
	case RenameField:
		fmt.Fprintf(&b, "rename field from %s", c.From)
	case DropOldName:
		fmt.Fprintf(&b, "drop old name %s", c.From)
	case ChangeType:
		fmt.Fprintf(&b, "change type %s → %s", c.From, c.To)
	case AddEnumValues:
		fmt.Fprintf(&b, "add enum values %s", strings.Join(c.Values, ", "))
	case DropEnumValues:
		fmt.Fprintf(&b, "drop enum values %s", strings.Join(c.Values, ", "))
	case SetRequired:
		fmt.Fprintf(&b, "make required (records without a value get %v)", c.Default)
	case SetOptional:
		b.WriteString("make optional")
	case SetDefault:
		if c.Default == nil {
			b.WriteString("drop default")
		} else {
			fmt.Fprintf(&b, "set default %v", c.Default)
		}
	case AddIndex:
		b.WriteString("add index")
	case DropIndex:
		b.WriteString("drop index")
	case AddUnique:
		b.WriteString("make unique")
	case DropUnique:
		b.WriteString("drop unique")
	case ChangeGenID:
		fmt.Fprintf(&b, "generated id %s → %s", c.From, c.To)
	case SetSearch:
		switch {
		case c.To == "":
			fmt.Fprintf(&b, "drop search (was %s)", c.From)
		case c.From == "":
			fmt.Fprintf(&b, "make searchable (%s)", c.To)
		default:
			fmt.Fprintf(&b, "change search language %s → %s", c.From, c.To)
		}
	default:
		b.WriteString(string(c.Kind))
	}
	if c.Destructive {
		fmt.Fprintf(&b, " [destructive: %s]", c.Why)
	}
	return b.String()
}

// widenings are the type changes that keep every stored value (int → float keeps every
// value up to ±2^53 exactly, and rounds larger ones to the nearest float).
var widenings = map[[2]string]bool{
	{"int", "float"}:   true,
	{"string", "text"}: true,
	{"enum", "string"}: true,
	{"enum", "text"}:   true,
}

// Widening reports whether changing a field's type from → to keeps every stored value.
func Widening(from, to string) bool { return widenings[[2]string{from, to}] }
