package migrate

import (
	"fmt"
	"slices"
	"strings"
)

// Problem is one change Diff cannot plan: a change that cannot be applied to stored data
// (a required field without a default added to existing records, a change of the id), or a
// destructive change that was not allowed.
type Problem struct {
	Record string // the record (its new name when it has one)
	Field  string // the field, or "" for the record itself
	// Destructive is set when the change could be planned with destructive changes allowed.
	Destructive bool
	Msg         string
}

func (p Problem) String() string {
	where := "record " + p.Record
	if p.Field != "" {
		where += ", field " + p.Field
	}
	return where + ": " + p.Msg
}

// DiffError lists every problem Diff found.
type DiffError struct{ Problems []Problem }

func (e *DiffError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Diff returns the changes that turn the stored state old into the desired state want, in
// the order a backend applies them: per record of want (in want's order) its rename, storage
// moves and field changes, then the records want no longer has. old nil means no migration
// yet: every record is added (the baseline). A destructive change is a *DiffError unless
// allowDestructive is set. want's RenamedFrom values mark renames; they are matched only
// against names old has and want does not.
//
// A renamed field keeps its old name for code of the previous version (the state after the
// migration records it as the field's OldName) for as long as want says renamed_from: OLD;
// once it no longer does, Diff plans drop_old_name, which is destructive.
func Diff(old *Schema, want Schema, allowDestructive bool) ([]Change, error) {
	changes, _, err := diff(old, want, allowDestructive)
	return changes, err
}

// diff is Diff, and returns the old names the fields of want keep after the changes
// (record, field → old name).
func diff(old *Schema, want Schema, allowDestructive bool) ([]Change, map[[2]string]string, error) {
	d := differ{allow: allowDestructive, oldNames: map[[2]string]string{}}
	if old == nil {
		old = &Schema{}
	}
	matched := map[string]bool{} // old record names taken
	for i := range want.Records {
		r := &want.Records[i]
		o := old.Record(r.Name)
		if o == nil && r.RenamedFrom != "" {
			if o = old.Record(r.RenamedFrom); o == nil {
				d.problem(Problem{Record: r.Name, Msg: fmt.Sprintf("renamed_from %s: the last migration's state has no record %s", r.RenamedFrom, r.RenamedFrom)})
				continue
			}
			if want.Record(r.RenamedFrom) != nil || matched[o.Name] {
				o = nil // the old name is still in use: a new record
			}
		}
		if o == nil {
			d.add(Change{Kind: AddRecord, Record: r.Name})
			continue
		}
		matched[o.Name] = true
		d.record(o, r)
	}
	for _, o := range old.Records {
		if !matched[o.Name] {
			d.destructive(Change{Kind: DropRecord, Record: o.Name}, "every stored "+o.Name+" record is deleted")
		}
	}
	if len(d.problems) > 0 {
		return nil, nil, &DiffError{Problems: d.problems}
	}
	return d.changes, d.oldNames, nil
}

type differ struct {
	allow    bool
	changes  []Change
	problems []Problem
	oldNames map[[2]string]string // record, field → the old name it keeps
}

func (d *differ) add(c Change) { d.changes = append(d.changes, c) }

func (d *differ) problem(p Problem) { d.problems = append(d.problems, p) }

// destructive adds c, marked destructive with why, or reports it when not allowed.
func (d *differ) destructive(c Change, why string) {
	if !d.allow {
		d.problem(Problem{Record: c.Record, Field: c.Field, Destructive: true,
			Msg: fmt.Sprintf("%s is destructive (%s); pass -allow-destructive to plan it", describeKind(c), why)})
		return
	}
	c.Destructive, c.Why = true, why
	d.add(c)
}

func describeKind(c Change) string {
	s := c.String()
	if i := strings.Index(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

func (d *differ) record(o, r *Record) {
	if o.Name != r.Name {
		d.add(Change{Kind: RenameRecord, Record: r.Name, From: o.Name})
	}
	for _, m := range []struct {
		kind     Kind
		from, to string
	}{{ChangeTable, o.Table, r.Table}, {ChangeIndex, o.Index, r.Index}, {ChangePrefix, o.Prefix, r.Prefix}} {
		if m.from != m.to {
			d.add(Change{Kind: m.kind, Record: r.Name, From: m.from, To: m.to})
		}
	}
	if o.ID.Name != r.ID.Name || o.ID.Type != r.ID.Type {
		d.problem(Problem{Record: r.Name, Field: r.ID.Name, Msg: fmt.Sprintf("the id changed from %s %s to %s %s; migrations cannot change a record's id (create a new record type and copy the data)", o.ID.Name, o.ID.Type, r.ID.Name, r.ID.Type)})
	}
	if o.ID.Generated != r.ID.Generated {
		d.add(Change{Kind: ChangeGenID, Record: r.Name, Field: r.ID.Name, From: fmt.Sprint(o.ID.Generated), To: fmt.Sprint(r.ID.Generated)})
	}
	taken := map[string]bool{}
	for i := range r.Fields {
		f := &r.Fields[i]
		of := o.Field(f.Name)
		if of == nil && f.RenamedFrom != "" {
			of = o.Field(f.RenamedFrom)
			switch {
			case of == nil:
				d.problem(Problem{Record: r.Name, Field: f.Name, Msg: fmt.Sprintf("renamed_from %s: the last migration's state of %s has no field %s", f.RenamedFrom, o.Name, f.RenamedFrom)})
				continue
			case r.Field(f.RenamedFrom) != nil || taken[of.Name]:
				of = nil
			}
		}
		if of == nil {
			d.addField(r, f)
			continue
		}
		taken[of.Name] = true
		d.field(r, of, f)
	}
	for _, of := range o.Fields {
		if !taken[of.Name] {
			d.destructive(Change{Kind: DropField, Record: r.Name, Field: of.Name}, "its stored values are deleted")
		}
	}
}

func (d *differ) addField(r *Record, f *Field) {
	if f.Required && f.Default == nil {
		what := "give it a default (the value existing records get) or add it optional"
		if f.List || f.Type == "bytes" || f.Type == "json" {
			what = "add it optional (a " + f.TypeString() + " field cannot have a default)"
		}
		d.problem(Problem{Record: r.Name, Field: f.Name, Msg: "a required field added to a record that may have stored records needs a value for them: " + what})
		return
	}
	d.add(Change{Kind: AddField, Record: r.Name, Field: f.Name, Default: f.Default})
}

func (d *differ) field(r *Record, of, f *Field) {
	c := func(k Kind) Change { return Change{Kind: k, Record: r.Name, Field: f.Name} }
	if of.OldName != "" {
		if of.Name == f.Name && f.RenamedFrom == of.OldName && r.Field(of.OldName) == nil {
			d.oldNames[[2]string{r.Name, f.Name}] = of.OldName
		} else {
			ch := c(DropOldName)
			ch.From = of.OldName
			d.destructive(ch, fmt.Sprintf("code that still uses the old name %s fails; plan it once no such code runs", of.OldName))
		}
	}
	if of.Name != f.Name {
		ch := c(RenameField)
		ch.From = of.Name
		d.add(ch)
		if r.Field(of.Name) == nil { // else another field takes the name: a plain rename
			d.oldNames[[2]string{r.Name, f.Name}] = of.Name
		}
	}
	switch {
	case of.List != f.List:
		ch := c(ChangeType)
		ch.From, ch.To = of.TypeString(), f.TypeString()
		d.destructive(ch, "stored values are converted between a list and a single value, and those that do not convert are lost")
	case of.Type != f.Type:
		ch := c(ChangeType)
		ch.From, ch.To = of.TypeString(), f.TypeString()
		if Widening(of.Type, f.Type) {
			d.add(ch)
		} else {
			d.destructive(ch, "a narrowing or unrelated type change: stored values that do not convert are lost")
		}
	case f.Type == "enum":
		var added, dropped []string
		for _, v := range f.Values {
			if !slices.Contains(of.Values, v) {
				added = append(added, v)
			}
		}
		for _, v := range of.Values {
			if !slices.Contains(f.Values, v) {
				dropped = append(dropped, v)
			}
		}
		if len(added) > 0 {
			ch := c(AddEnumValues)
			ch.Values = added
			d.add(ch)
		}
		if len(dropped) > 0 {
			ch := c(DropEnumValues)
			ch.Values = dropped
			d.destructive(ch, "records holding a dropped value can no longer be read or written")
		}
	}
	if !sameDefault(of.Default, f.Default) {
		ch := c(SetDefault)
		ch.Default = f.Default
		d.add(ch)
	}
	switch {
	case !of.Required && f.Required:
		if f.Default == nil {
			d.problem(Problem{Record: r.Name, Field: f.Name, Msg: "making a field required needs a default: the value that stored records without one get"})
			break
		}
		ch := c(SetRequired)
		ch.Default = f.Default
		d.add(ch)
	case of.Required && !f.Required:
		d.add(c(SetOptional))
	}
	if of.Unique && !f.Unique {
		d.add(c(DropUnique))
	}
	if of.Indexed && !f.Indexed {
		d.add(c(DropIndex))
	}
	if !of.Indexed && f.Indexed {
		d.add(c(AddIndex))
	}
	if !of.Unique && f.Unique {
		d.add(c(AddUnique))
	}
	if of.Search != f.Search {
		ch := c(SetSearch)
		ch.From, ch.To = of.Search, f.Search
		d.add(ch)
	}
}

func sameDefault(a, b any) bool { return fmt.Sprintf("%T %v", a, a) == fmt.Sprintf("%T %v", b, b) }
