package esdialect

import (
	"encoding/json"
	"slices"

	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/query"
)

// RecordMapping returns the mapping of the migration state r (the same text Mapping gives
// for the descriptor generated from it): the id first, then the fields in order.
func RecordMapping(r *migrate.Record) []byte {
	fields := []FieldSpec{{JSON: r.ID.Name, Kind: query.KindOf(r.ID.Type)}}
	for i := range r.Fields {
		fields = append(fields, FieldSpec{JSON: r.Fields[i].Name, Kind: query.KindOf(r.Fields[i].Type), Search: r.Fields[i].Search})
	}
	return MappingFor(fields)
}

// SameFieldMapping reports whether the field types from and to map to the same
// Elasticsearch field mapping, so that a change of type needs no new index.
func SameFieldMapping(from, to string) bool {
	a, _ := fieldMapping(query.KindOf(from)).MarshalJSON()
	b, _ := fieldMapping(query.KindOf(to)).MarshalJSON()
	return string(a) == string(b) && query.KindOf(from) != query.KindTime && query.KindOf(to) != query.KindTime
}

// CompatMeta is the key, in a mapping's _meta, listing the compat fields of an index: the
// old names of renamed and dropped fields, kept mapped so that code of the previous version
// can keep writing them while it is being replaced. They are no drift.
const CompatMeta = "repokit_compat"

// OldNamesMeta is the key, in a mapping's _meta, listing the compat fields that are old
// names of renamed fields still written by current code (migrate.Field.OldName), so
// that code of the previous version reads current documents. A drop_old_name removes its
// name from the list; code of the previous version is then refused (OlderCodeDiffs).
const OldNamesMeta = "repokit_old_names"

// RenamesMeta is the key, in a mapping's _meta, of the object that maps the current name of
// each field in OldNamesMeta's list to that old name (migrate.Upgrader.OldNames). Code of
// the previous version knows the field by its old name only; when it replaces a whole
// document it keeps the members it does not know but not the one under the current name,
// whose value its own write supersedes (see the driver's older-code writes).
const RenamesMeta = "repokit_renames"

// RecordMappingCompat returns RecordMapping(r) with the compat fields added (see
// CompatMeta), or RecordMapping(r) when there are none.
func RecordMappingCompat(r *migrate.Record, compat []FieldSpec) []byte {
	if len(compat) == 0 {
		return RecordMapping(r)
	}
	fields := []FieldSpec{{JSON: r.ID.Name, Kind: query.KindOf(r.ID.Type)}}
	for i := range r.Fields {
		fields = append(fields, FieldSpec{JSON: r.Fields[i].Name, Kind: query.KindOf(r.Fields[i].Type), Search: r.Fields[i].Search})
	}
	o := mappingObj(append(fields, compat...))
	names := make([]string, len(compat))
	var old []string
	var renames obj
	for i, f := range compat {
		names[i] = f.JSON
		for j := range r.Fields {
			if r.Fields[j].OldName == f.JSON {
				old = append(old, f.JSON)
				renames = append(renames, kv{r.Fields[j].Name, f.JSON})
			}
		}
	}
	meta := obj{{CompatMeta, names}}
	if len(old) > 0 {
		meta = append(meta, kv{OldNamesMeta, old}, kv{RenamesMeta, renames})
	}
	o = append(obj{{"_meta", meta}}, o...)
	b, _ := json.MarshalIndent(o, "", "  ")
	return b
}

// StripCompat removes from a live mapping (decoded JSON) the compat fields its _meta lists,
// and those _meta entries, so that Diff compares only the schema's fields.
func StripCompat(live any) any { return stripCompat(live, false) }

// StripCompatForOlderCode is StripCompat that keeps the old names current code still writes
// (OldNamesMeta): the mapping as code of the previous version sees it.
func StripCompatForOlderCode(live any) any { return stripCompat(live, true) }

func stripCompat(live any, keepOld bool) any {
	m, _ := live.(map[string]any)
	meta, _ := m["_meta"].(map[string]any)
	names, _ := meta[CompatMeta].([]any)
	if len(names) == 0 {
		return live
	}
	if keepOld {
		olds, _ := meta[OldNamesMeta].([]any)
		names = slices.DeleteFunc(slices.Clone(names), func(n any) bool { return slices.Contains(olds, n) })
	}
	delete(meta, OldNamesMeta)
	delete(meta, RenamesMeta)
	props, _ := m["properties"].(map[string]any)
	rk, _ := props[MetaField].(map[string]any)
	rkp, _ := rk["properties"].(map[string]any)
	us, _ := rkp["us"].(map[string]any)
	usp, _ := us["properties"].(map[string]any)
	for _, n := range names {
		s, _ := n.(string)
		delete(props, s)
		delete(usp, s)
	}
	if us != nil && len(usp) == 0 {
		delete(rkp, "us")
	}
	delete(meta, CompatMeta)
	if len(meta) == 0 {
		delete(m, "_meta")
	}
	return m
}
