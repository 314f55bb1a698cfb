// Package esdialect renders repokit's Elasticsearch text: the index mapping of a record
// (Mapping from a descriptor, MappingFor from field specs), the mapping of the backend's
// companion index of unique-value reservations (UniqueMapping) and the comparison of a live
// mapping with the wanted one (Diff). It imports no client (only the standard library,
// runtime/query and runtime/record), so that the Elasticsearch backend, which creates and
// checks indices with this mapping, and the generator, which writes it into
// elasticsearch_mappings.go, share one function without the generator linking
// go-elasticsearch.
//
// The document layout the mapping declares: a property per field (lists map like their
// elements) and the object MetaField ("_rk") with repokit's derived values: us.<field>, the
// exact microseconds of a time field, and has, the names of the json fields present. Text
// fields have a keyword subfield KeywordSub ("kw") for exact filters and sorting.
//
// Nothing here talks to Elasticsearch: the backend (runtime/backends/elasticsearch) sends
// the mapping, reads the live one and wraps Diff's findings in its DriftError.
package esdialect
