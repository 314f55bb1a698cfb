package migrate

import "fmt"

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
