package recordtest

// Option changes how New builds a descriptor.
type Option func(*config)

type config struct {
	table, index, prefix string
	tableSet, indexSet   bool
	prefixSet            bool
	idGenerated          bool
	prepare              any // func(*T) error of the record type, or nil
	noPrepare            bool
	noRoundTrip          bool
	tags                 map[string]string // Go field name → record tag replacing the struct's
}

// Table sets the descriptor's PostgreSQL table name (default: the record name in
// snake_case, as generated code has it).
func Table(name string) Option {
	return func(c *config) { c.table, c.tableSet = name, true }
}

// Index sets the descriptor's Elasticsearch index name (default: the record name in
// snake_case).
func Index(name string) Option {
	return func(c *config) { c.index, c.indexSet = name, true }
}

// Prefix sets the descriptor's S3 key prefix (default: the record name in snake_case).
func Prefix(name string) Option {
	return func(c *config) { c.prefix, c.prefixSet = name, true }
}

// IDGenerated makes Create assign a new id to a record without one (record.Desc.IDGenerated).
func IDGenerated() Option {
	return func(c *config) { c.idGenerated = true }
}

// Prepare replaces the generated-style Prepare with f, for tests whose records a
// hand-written Prepare validates differently. New fails when f is not a func(*T) error of
// the record type T.
func Prepare[T any](f func(*T) error) Option {
	return func(c *config) { c.prepare, c.noPrepare = f, false }
}

// NoPrepare makes Prepare accept every record unchanged, as a hand-written descriptor may,
// for tests that hand a driver values that generated code refuses (NaN, an unknown enum
// member).
func NoPrepare() Option {
	return func(c *config) { c.prepare, c.noPrepare = nil, true }
}

// NoRoundTrip makes the generated-style Prepare skip the round-trip rule: it still applies
// defaults, normalizes times and checks every value, but hands the driver −0, empty lists and
// bytes, and JSON as given, as descriptors written before the rule did, for tests of the
// driver's own handling of those values (−0 reserved as 0, an empty list read back missing).
func NoRoundTrip() Option {
	return func(c *config) { c.noRoundTrip = true }
}

// Tag replaces the `record` struct tag of the Go field goName (a promoted field's own name)
// by tag, for tests that describe one Go type in several ways (two schema versions): Tag("Stock",
// "-") leaves the field out, Tag("Label", "title") renames it. New fails when T has no such
// field.
func Tag(goName, tag string) Option {
	return func(c *config) {
		if c.tags == nil {
			c.tags = map[string]string{}
		}
		c.tags[goName] = tag
	}
}

// Names sets the table, index and prefix names together.
func Names(name string) Option {
	return func(c *config) {
		Table(name)(c)
		Index(name)(c)
		Prefix(name)(c)
	}
}
