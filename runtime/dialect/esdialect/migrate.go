package esdialect

import (
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/query"
)

// KindOf returns the query kind of a schema type name ("int" → query.KindInt); unknown
// names are query.KindInvalid.
func KindOf(typ string) query.Kind {
	for k := query.KindString; k <= query.KindJSON; k++ {
		if k.String() == typ {
			return k
		}
	}
	return query.KindInvalid
}

// RecordMapping returns the mapping of the migration state r (the same text Mapping gives
// for the descriptor generated from it): the id first, then the fields in order.
func RecordMapping(r *migrate.Record) []byte {
	fields := []FieldSpec{{JSON: r.ID.Name, Kind: KindOf(r.ID.Type)}}
	for i := range r.Fields {
		fields = append(fields, FieldSpec{JSON: r.Fields[i].Name, Kind: KindOf(r.Fields[i].Type)})
	}
	return MappingFor(fields)
}

// SameFieldMapping reports whether the field types from and to map to the same
// Elasticsearch field mapping, so that a change of type needs no new index.
func SameFieldMapping(from, to string) bool {
	a, _ := fieldMapping(KindOf(from)).MarshalJSON()
	b, _ := fieldMapping(KindOf(to)).MarshalJSON()
	return string(a) == string(b) && KindOf(from) != query.KindTime && KindOf(to) != query.KindTime
}
