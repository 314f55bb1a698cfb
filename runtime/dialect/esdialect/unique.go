package esdialect

// UniqueMapping is the mapping of the companion index in which the Elasticsearch backend
// reserves the values of unique fields (one document per value, see docs/elasticsearch.md,
// "Unique fields"). A reservation has the owner record's id, the field's JSON name and the
// time it was last written; the state document of a field ("s:<field>") says that the
// field's values have been reserved.
const UniqueMapping = `{"dynamic":"strict","properties":{` +
	`"owner":{"type":"keyword"},"field":{"type":"keyword"},` +
	`"at":{"type":"date","format":"strict_date_optional_time"},"state":{"type":"keyword"}}}`
