package migrate

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// Upgrader upgrades stored JSON documents of one record type, written at any version of a
// history, to the newest version: the path of backends that keep documents as they were
// written (S3 objects, memory snapshots) and upgrade them when they are read, so that code
// of the newest version reads data of every older one before anything is rewritten.
type Upgrader struct {
	record string
	steps  []step // steps[v-1] turn a document of version v-1 into version v
	// oldNames maps a renamed field of the newest state to the old name it keeps for code of
	// the previous version (Field.OldName): an upgraded document carries the value under both.
	oldNames map[string]string
}

// step is what one migration does to a document of the record.
type step struct {
	version int64
	changes []Change  // the migration's changes of the record, in order
	after   *Record   // the record after the migration
	exists  bool      // the record exists after the migration
	edits   []docEdit // compiled edits, in order
}

type docEdit func(doc map[string]any)

// Upgrader returns the upgrader of the record named record in the newest state of h.
func (h History) Upgrader(record string) (*Upgrader, error) {
	last := h.Last()
	if last == nil || last.Schema.Record(record) == nil {
		return nil, fmt.Errorf("migrate: the newest schema has no record %s", record)
	}
	u := &Upgrader{record: record}
	// Walk back from the newest state to learn the record's name at every version.
	names := make([]string, len(h)+1) // names[v]: the record's name after version v ("" if none)
	names[len(h)] = record
	for v := len(h); v >= 1; v-- {
		name := names[v]
		prev := name
		for _, c := range h[v-1].Changes {
			if c.Record != name {
				continue
			}
			switch c.Kind {
			case RenameRecord:
				prev = c.From
			case AddRecord:
				prev = ""
			}
		}
		if name == "" {
			prev = ""
		}
		names[v-1] = prev
	}
	for v := 1; v <= len(h); v++ {
		m := h[v-1]
		s := step{version: m.Version}
		if names[v] != "" {
			s.after = m.Schema.Record(names[v])
			s.exists = s.after != nil
			for _, c := range m.Changes {
				if c.Record == names[v] {
					s.changes = append(s.changes, c)
				}
			}
		}
		s.edits = s.compile()
		u.steps = append(u.steps, s)
	}
	newest := last.Schema.Record(record)
	for _, f := range newest.Fields {
		if f.OldName != "" && newest.Field(f.OldName) == nil {
			if u.oldNames == nil {
				u.oldNames = map[string]string{}
			}
			u.oldNames[f.Name] = f.OldName
		}
	}
	return u, nil
}

// OldNames returns, for each renamed field of the newest state that keeps its old name for
// code of the previous version (Field.OldName), the new name → the old one; nil when none
// does. Stores that keep documents as written write such a field under both names (as
// Upgrade leaves an upgraded document), so that code of the previous version reads the
// documents of newer code; its own writes, under the old name only, are upgraded when read.
func (u *Upgrader) OldNames() map[string]string { return u.oldNames }

// Version returns the version documents are upgraded to.
func (u *Upgrader) Version() int64 { return int64(len(u.steps)) }

// Upgrade changes doc, a document of the record written at version from (decoded with
// json.Decoder.UseNumber, or with float64 numbers), in place into the newest version's form:
// renamed fields moved (and, while the newest state keeps an old name, copied back under
// it: OldNames), added fields given their defaults, converted types converted, dropped
// fields removed. A document of the newest version (or a newer one, written by
// newer code) is left alone. It fails when the record did not exist at version from.
func (u *Upgrader) Upgrade(doc map[string]any, from int64) error {
	if from >= u.Version() {
		return nil
	}
	if from < 0 {
		return fmt.Errorf("migrate: document version %d", from)
	}
	for _, s := range u.steps[from:] {
		if !s.exists {
			continue
		}
		for _, e := range s.edits {
			e(doc)
		}
	}
	for n, old := range u.oldNames {
		if v, ok := doc[n]; ok {
			doc[old] = v
		} else {
			delete(doc, old)
		}
	}
	return nil
}

// compile turns the step's changes into document edits.
func (s *step) compile() []docEdit {
	var out []docEdit
	for _, c := range s.changes {
		var f *Field
		if s.after != nil && c.Field != "" {
			f = s.after.Field(c.Field)
		}
		switch c.Kind {
		case RenameField:
			out = append(out, func(doc map[string]any) {
				if v, ok := doc[c.From]; ok {
					delete(doc, c.From)
					doc[c.Field] = v
				}
			})
		case DropField:
			out = append(out, func(doc map[string]any) { delete(doc, c.Field) })
		case AddField, SetRequired:
			if c.Default == nil || f == nil {
				continue
			}
			val := jsonValue(f.Type, c.Default)
			out = append(out, func(doc map[string]any) {
				if v, ok := doc[c.Field]; !ok || v == nil {
					doc[c.Field] = val
				}
			})
		case ChangeType:
			if f == nil {
				continue
			}
			from, to := c.From, f.TypeString()
			out = append(out, func(doc map[string]any) {
				v, ok := doc[c.Field]
				if !ok || v == nil {
					return
				}
				if nv, ok := convertJSON(v, from, to); ok {
					doc[c.Field] = nv
				} else {
					delete(doc, c.Field) // destructive by definition: the value does not convert
				}
			})
		case DropEnumValues:
			dropped := c.Values
			out = append(out, func(doc map[string]any) {
				switch v := doc[c.Field].(type) {
				case string:
					if slices.Contains(dropped, v) {
						delete(doc, c.Field)
					}
				case []any:
					kept := v[:0:0]
					for _, e := range v {
						if s, ok := e.(string); !ok || !slices.Contains(dropped, s) {
							kept = append(kept, e)
						}
					}
					if len(kept) == 0 {
						delete(doc, c.Field)
					} else {
						doc[c.Field] = kept
					}
				}
			})
		}
	}
	return out
}

// jsonValue returns a default as a document holds it.
func jsonValue(typ string, d any) any {
	switch x := d.(type) {
	case int64:
		if typ == "float" {
			return json.Number(strconv.FormatFloat(float64(x), 'g', -1, 64))
		}
		return json.Number(strconv.FormatInt(x, 10))
	case float64:
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64))
	}
	return d
}

// convertJSON converts a document value from one type (as TypeString writes it) to another;
// ok is false when it does not convert.
func convertJSON(v any, from, to string) (any, bool) {
	fromList, toList := len(from) > 5 && from[:5] == "list<", len(to) > 5 && to[:5] == "list<"
	elemFrom, elemTo := from, to
	if fromList {
		elemFrom = from[5 : len(from)-1]
	}
	if toList {
		elemTo = to[5 : len(to)-1]
	}
	switch {
	case fromList && toList:
		list, ok := v.([]any)
		if !ok {
			return nil, false
		}
		out := make([]any, 0, len(list))
		for _, e := range list {
			if ce, ok := convertScalar(e, elemFrom, elemTo); ok {
				out = append(out, ce)
			}
		}
		return out, len(out) > 0
	case !fromList && toList:
		ce, ok := convertScalar(v, elemFrom, elemTo)
		return []any{ce}, ok
	case fromList && !toList:
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return nil, false
		}
		return convertScalar(list[0], elemFrom, elemTo)
	}
	return convertScalar(v, elemFrom, elemTo)
}

func convertScalar(v any, from, to string) (any, bool) {
	str := func(t string) bool { return t == "string" || t == "text" || t == "enum" || t == "uuid" }
	switch {
	case from == to, str(from) && str(to):
		_, ok := v.(string)
		if from == to {
			ok = true
		}
		return v, ok // enum/uuid narrowing is checked by the record's own validation on read
	case to == "float":
		f, ok := number(v)
		if !ok {
			if s, isStr := v.(string); isStr {
				g, err := strconv.ParseFloat(s, 64)
				f, ok = g, err == nil && !math.IsNaN(g) && !math.IsInf(g, 0)
			}
		}
		if !ok {
			return nil, false
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), true
	case to == "int":
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				return json.Number(strconv.FormatInt(i, 10)), true
			}
		}
		f, ok := number(v)
		if !ok {
			if s, isStr := v.(string); isStr {
				i, err := strconv.ParseInt(s, 10, 64)
				return json.Number(strconv.FormatInt(i, 10)), err == nil
			}
			return nil, false
		}
		if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return nil, false
		}
		return json.Number(strconv.FormatInt(int64(f), 10)), true
	case str(to):
		switch x := v.(type) {
		case json.Number:
			return x.String(), true
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), true
		case bool:
			return strconv.FormatBool(x), true
		case string:
			return x, true
		}
	case to == "bool":
		if s, ok := v.(string); ok {
			b, err := strconv.ParseBool(s)
			return b, err == nil
		}
	case to == "time":
		if s, ok := v.(string); ok {
			_, err := time.Parse(time.RFC3339Nano, s)
			return s, err == nil
		}
	}
	return nil, false
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	}
	return 0, false
}
