package elasticsearch

import (
	"bytes"
	"encoding/json"

	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/record"
)

// readUpgrade turns a document that code of an older version wrote after a migration (a
// renamed field under its old name, a field added with a default missing) into the newest
// form as it is read, so that the newest code reads every acknowledged write even before a
// later apply rewrites it. Clusters whose documents are all in the newest form pay one
// bytes.Contains per name per read.
type readUpgrade struct {
	renames  map[string]string          // old name → newest name
	defaults map[string]json.RawMessage // required field with a default → its JSON value
}

// newReadUpgrade returns the read upgrade of the record named record in h's newest state,
// or nil when it has nothing to do.
func newReadUpgrade(h migrate.History, record string) *readUpgrade {
	last := h.Last()
	if last == nil {
		return nil
	}
	r := last.Schema.Record(record)
	if r == nil {
		return nil
	}
	u := &readUpgrade{renames: map[string]string{}, defaults: map[string]json.RawMessage{}}
	next := map[string]string{}
	for _, m := range h {
		for _, c := range m.Changes {
			if c.Kind == migrate.RenameField && c.Record == record {
				next[c.From] = c.Field
			}
		}
	}
	for old := range next {
		n := old
		for i := 0; i < len(next) && next[n] != ""; i++ {
			n = next[n]
		}
		if r.Field(n) != nil && r.Field(old) == nil {
			u.renames[old] = n
		}
	}
	for _, f := range r.Fields {
		if f.Required && f.Default != nil {
			if b, err := json.Marshal(f.Default); err == nil {
				u.defaults[f.Name] = b
			}
		}
	}
	if len(u.renames) == 0 && len(u.defaults) == 0 {
		return nil
	}
	return u
}

// apply returns src in the newest form (src itself when it already is).
func (u *readUpgrade) apply(src []byte) []byte {
	need := false
	for old, n := range u.renames {
		// A document that has both names was written by this version (compatNames): the
		// newest name's value is the one to read.
		if bytes.Contains(src, []byte(`"`+old+`":`)) && !bytes.Contains(src, []byte(`"`+n+`":`)) {
			need = true
		}
	}
	for f := range u.defaults {
		if !bytes.Contains(src, []byte(`"`+f+`":`)) || bytes.Contains(src, []byte(`"`+f+`":null`)) {
			need = true
		}
	}
	if !need {
		return src
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(src, &doc) != nil {
		return src
	}
	for old, n := range u.renames {
		if v, ok := doc[old]; ok {
			delete(doc, old)
			if _, has := doc[n]; !has {
				doc[n] = v
			}
		}
	}
	for f, v := range u.defaults {
		if cur, ok := doc[f]; !ok || isNull(cur) {
			doc[f] = v
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return src
	}
	return out
}

// compatNames returns, per field of desc, the old name that record's newest state in h
// still keeps for code of the previous version (migrate.Upgrader.OldNames: while the schema
// says renamed_from, until a drop_old_name), or nil when no field has one. The driver
// writes each such field under both names, so code of the previous version reads what
// newer code writes and does not write back an empty value (its writes replace whole
// documents).
func compatNames[T any](h migrate.History, record string, desc *record.Desc[T]) []string {
	up, err := h.Upgrader(record)
	if err != nil || up.OldNames() == nil {
		return nil
	}
	out := make([]string, len(desc.Fields))
	for i := range desc.Fields {
		out[i] = up.OldNames()[desc.Fields[i].Name]
	}
	return out
}
