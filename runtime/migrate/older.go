package migrate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// OlderCodeProblem says why code that does not know change c (code of a version before
// it) cannot keep working on a store where c was applied, for a store that keeps no
// structure it could check (the S3 backend; PostgreSQL and Elasticsearch check their live
// table or index instead); "" when such code keeps working. It can after an added field,
// index or enum value, a changed default or nullability, a new table or index name (other
// backends' storage), a widening int → float, a dropped unique constraint, and a rename of
// a field while the old name is kept (newer code writes both names, Upgrader.OldNames;
// objects it writes are older ones that newer code upgrades when it reads them). It
// cannot after the old name is dropped (drop_old_name), a rename of the record, a move to
// another key prefix, a narrowing or other type change, a new unique field (its writes
// would not reserve values), a dropped field (newer code no longer keeps its values) or a
// dropped record.
func OlderCodeProblem(c Change) string {
	switch c.Kind {
	case RenameRecord:
		return fmt.Sprintf("record %s was renamed from %s", c.Record, c.From)
	case ChangePrefix:
		return fmt.Sprintf("record %s moved from prefix %s to %s", c.Record, c.From, c.To)
	case DropField:
		return fmt.Sprintf("field %s was dropped", c.Field)
	case DropOldName:
		return fmt.Sprintf("the old name %s of field %s was dropped", c.From, c.Field)
	case ChangeType:
		if c.From == "int" && c.To == "float" {
			return ""
		}
		return fmt.Sprintf("field %s changed type from %s to %s", c.Field, c.From, c.To)
	case AddUnique:
		return fmt.Sprintf("field %s became unique, and code of this version would write its values without reserving them", c.Field)
	case DropRecord:
		return fmt.Sprintf("record %s was dropped", c.Record)
	}
	return ""
}

// NewerNames returns the names that changes (those of versions newer than some code's, in
// order) gave to fields of record that such code knows by the names in known: each
// RenameField target reached from a known name, through every intermediate name. Code
// of the older version that replaces a whole stored document drops these members from
// what it keeps (KeepMembers): they hold the value under the newer name, and the older
// code's own value, under the old name, is the one newer code must read.
func NewerNames(changes []Change, record string, known []string) map[string]bool {
	names := map[string]bool{}
	for _, n := range known {
		names[n] = true
	}
	out := map[string]bool{}
	for _, c := range changes {
		if c.Kind == RenameField && c.Record == record && names[c.From] {
			names[c.Field] = true
			out[c.Field] = true
		}
	}
	return out
}

// KeepMembers returns the JSON object body, a whole document that code of an older version
// is about to store over cur (the stored document, "" or nil when there is none), with
// every member of cur added that body lacks and that skip does not name (skip names the
// fields the older code knows, which it writes or clears, and their NewerNames): the
// members only newer code knows, such as a field it added, so that the older code's write
// keeps them as an UPDATE of its own columns would on PostgreSQL. Members are added in
// name order. It returns body itself when there is nothing to add, and an error when
// either is not a JSON object.
func KeepMembers(body, cur []byte, skip func(name string) bool) ([]byte, error) {
	if len(cur) == 0 {
		return body, nil
	}
	var stored, own map[string]json.RawMessage
	if err := json.Unmarshal(cur, &stored); err != nil {
		return nil, fmt.Errorf("migrate: the stored document is not a JSON object: %w", err)
	}
	if err := json.Unmarshal(body, &own); err != nil {
		return nil, fmt.Errorf("migrate: the document to write is not a JSON object: %w", err)
	}
	var names []string
	for n := range stored {
		if _, has := own[n]; !has && !skip(n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return body, nil
	}
	slices.Sort(names)
	trimmed := bytes.TrimRight(body, " \t\r\n")
	out := make([]byte, 0, len(cur)+len(trimmed))  // body itself is never written
	out = append(out, trimmed[:len(trimmed)-1]...) // without the closing brace
	for _, n := range names {
		if len(own) > 0 || n != names[0] {
			out = append(out, ',')
		}
		k, _ := json.Marshal(n)
		out = append(out, k...)
		out = append(out, ':')
		out = append(out, stored[n]...)
	}
	return append(out, '}'), nil
}
