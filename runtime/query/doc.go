// Package query is repokit's backend-neutral query model.
//
// Generated packages expose one typed field handle per record field (for example
// catalog.ProductFields.Price, a query.FloatField[catalog.Product]). Its methods build
// conditions whose operand types are checked by the compiler: a wrong field, a field of
// another record or a wrong value type does not compile. A Query[R] combines conditions,
// sort keys, limit/offset and a projection; backends receive its untyped form, a Spec,
// and compile it to SQL, Elasticsearch query DSL or an in-memory predicate.
//
// # Semantics (the same on every backend)
//
// Every condition is either true or false for a record; there is no third "unknown"
// value. A missing value (an optional field that is not set, or an empty list) makes
// every positive comparison false: EQ, GT, GTE, LT, LTE, IN, LIKE, STARTS_WITH, REGEX and
// BETWEEN never match a missing value. Each negative operator is the exact negation of its
// positive twin, so NEQ, NOT_IN, NOT_LIKE and NOT_BETWEEN do match missing values, and
// NOT(c) matches exactly the records c does not match.
//
//   - EQ/NEQ compare exact values. Strings compare byte for byte (case-sensitive, no
//     collation or normalization).
//   - IN with an empty list matches nothing; NOT_IN with an empty list matches everything.
//   - BETWEEN lo AND hi is inclusive on both ends; lo > hi matches nothing.
//   - LIKE: % matches any sequence of characters (possibly empty), _ matches exactly one
//     character (a Unicode code point, not a byte), \ escapes %, _ or \. The whole value
//     must match. It is case-sensitive. A trailing lone \ is an error.
//   - STARTS_WITH p is LIKE with p escaped and % appended.
//   - REGEX: a portable subset of regular expressions, matched against the whole value
//     (implicitly anchored at both ends). See CompileRegex for the accepted syntax.
//   - EXISTS is true when the value is present: an optional field that is set, or a list
//     with at least one element. NOT_EXISTS is its negation.
//   - On a list field, EQ x means "some element equals x" (Contains), IN means "some
//     element is in the set"; NEQ and NOT_IN are their negations.
//   - Times are instants: they are compared in UTC, at microsecond precision.
//
// # Sorting
//
// Sort keys apply in order. Strings sort by byte order (code point order for UTF-8);
// false sorts before true. A missing value sorts after every present value in both
// ascending and descending order. Ties are always broken by the record id, ascending, so
// every sort is total and pagination is stable. Query.OrderByRelevance sorts by the score of
// the filter's Search and SearchPhrase conditions, highest first, which each backend
// computes its own way (docs/semantics.md, "Relevance").
package query
