package elasticsearch

import (
	"io/fs"
	"time"
)

// Refresh is the refresh policy of writes (the refresh parameter of index, update, delete
// and bulk requests).
type Refresh string

// Refresh policies.
const (
	// RefreshWaitFor, the default, returns once the write is visible to searches: a caller
	// reads its own writes with Find, Count, Page and Stream as well as with Get.
	RefreshWaitFor Refresh = "wait_for"
	// RefreshTrue forces a refresh of the affected shards on every write (costly).
	RefreshTrue Refresh = "true"
	// RefreshFalse returns at once; searches see the write after the next periodic refresh
	// (index.refresh_interval, 1 s by default). Get and Exists always see it.
	RefreshFalse Refresh = "false"
)

// Defaults of Options.
const (
	DefaultBatchDocs        = 1000
	DefaultBatchBytes       = 5 << 20
	DefaultPageSize         = 1000
	DefaultMaxResultWindow  = 10000
	DefaultPITKeepAlive     = time.Minute
	DefaultBulkItemAttempts = 3
	// DefaultStaleReservationAfter is the age after which a unique value's reservation
	// whose owner record does not hold the value may be taken over (see
	// WithStaleReservationAfter).
	DefaultStaleReservationAfter = 30 * time.Second
	// DefaultWaitForActiveShards is the wait_for_active_shards of writes (see
	// WithWaitForActiveShards): "1", Elasticsearch's own default.
	DefaultWaitForActiveShards = "1"
	// UniqueIndexSuffix is appended to the index name to name the companion index holding
	// the reservations of unique values (see WithUniqueIndex).
	UniqueIndexSuffix = "-unique"
)

// Options configure a Driver. Set them with the Option functions.
type Options struct {
	Index           string  // index name; default the record's Desc.Index
	Refresh         Refresh // refresh policy of writes; default RefreshWaitFor
	BatchDocs       int     // documents per _bulk request; default DefaultBatchDocs
	BatchBytes      int     // bytes per _bulk request (a larger document goes alone); default DefaultBatchBytes
	PageSize        int     // hits per search request of Find and Stream; default DefaultPageSize
	MaxResultWindow int     // the index's index.max_result_window; default 10000
	Shards          int     // number_of_shards of a created index; default 1 (or the config's shards)
	Replicas        int     // number_of_replicas of a created index; default 0 (or the config's replicas)
	Mapping         []byte  // the mapping to apply (generated code passes its constant); default esdialect.Mapping(desc)
	SkipEnsureIndex bool    // do not create or check the index when opening
	NoPIT           bool    // stream with search_after alone, without a point in time
	// WaitForActiveShards is the wait_for_active_shards of every write: "all" or a number of
	// copies; default DefaultWaitForActiveShards (or the config's wait_for_active_shards).
	WaitForActiveShards string

	// UniqueIndex is the companion index holding one reservation per value of a unique
	// field; default Index + UniqueIndexSuffix. Unused by records without unique fields.
	UniqueIndex string
	// StaleAfter is how old a reservation must be before a writer may take it over from a
	// record that does not hold the value (a write that crashed or failed between its
	// steps); default DefaultStaleReservationAfter. See docs/elasticsearch.md.
	StaleAfter time.Duration
	// MigratePkg and Migrations are the package and migrations directory given with
	// WithMigrations; StateIndex is the index holding what was applied (default
	// DefaultStateIndex).
	MigratePkg string
	Migrations fs.FS
	StateIndex string
	// OlderCodeRecheck is how old the driver's last read of the cluster's applied version may
	// be before a write reads it again, so that a process running when a newer version is
	// applied starts keeping what it does not know (older.go); default
	// migrate.DefaultOlderCodeRecheck. Only with WithMigrations.
	OlderCodeRecheck time.Duration
	// RebuildUnique makes opening rebuild the reservations of every unique field from the
	// stored records, as it does when a field has none yet.
	RebuildUnique bool
}

// Option sets one of the Options.
type Option func(*Options)

// WithIndex sets the index name.
func WithIndex(name string) Option { return func(o *Options) { o.Index = name } }

// WithRefresh sets the refresh policy of writes.
func WithRefresh(r Refresh) Option { return func(o *Options) { o.Refresh = r } }

// WithBatchSize sets the documents and bytes per _bulk request of CreateBatch.
func WithBatchSize(docs, bytes int) Option {
	return func(o *Options) { o.BatchDocs, o.BatchBytes = docs, bytes }
}

// WithPageSize sets the hits fetched per search request by Find and Stream.
func WithPageSize(n int) Option { return func(o *Options) { o.PageSize = n } }

// WithMaxResultWindow tells the driver the index's index.max_result_window.
func WithMaxResultWindow(n int) Option { return func(o *Options) { o.MaxResultWindow = n } }

// WithIndexSettings sets the shards and replicas of an index the driver creates (and of the
// companion index of unique values), over the config's shards and replicas. An existing
// index keeps its own.
func WithIndexSettings(shards, replicas int) Option {
	return func(o *Options) { o.Shards, o.Replicas = shards, replicas }
}

// WithWaitForActiveShards sets the wait_for_active_shards of every write (index, create,
// update, delete and _bulk requests, on the index and on the companion index of unique
// values), over the config's wait_for_active_shards: how many copies of the shard
// (primary included) must be active before Elasticsearch performs the write; "all" for
// every copy the index has. When fewer are active the write waits for them, up to the
// call's context deadline (and at most Elasticsearch's one-minute timeout, after which it
// fails with ErrUnavailable without being applied).
//
// The default, DefaultWaitForActiveShards ("1", Elasticsearch's own), lets writes go on while
// only the primary copy is live. Either way an acknowledged write is on every copy that was
// in sync when it was made: Elasticsearch answers only after each of them has it (a copy
// that fails is taken out of the in-sync set first). A higher value is a pre-flight check,
// not a quorum: it refuses writes while too few copies are up, trading availability for the
// assurance that an acknowledged write is on at least that many copies.
func WithWaitForActiveShards(v string) Option { return func(o *Options) { o.WaitForActiveShards = v } }

// WithMapping sets the mapping (generated code passes the mapping it was generated with; it
// must equal esdialect.Mapping(desc)).
func WithMapping(m []byte) Option { return func(o *Options) { o.Mapping = m } }

// WithoutEnsureIndex skips creating and checking the index when the repository opens. The
// index must then map the write token _rk.w, which an index created by a version before
// write tokens lacks (EnsureIndex, or opening once without this option, adds it).
func WithoutEnsureIndex() Option { return func(o *Options) { o.SkipEnsureIndex = true } }

// WithoutPIT makes Stream page with search_after alone, without opening a point in time.
func WithoutPIT() Option { return func(o *Options) { o.NoPIT = true } }

// WithUniqueIndex names the companion index that holds the reservations of unique values
// (default: the index name followed by UniqueIndexSuffix).
func WithUniqueIndex(name string) Option { return func(o *Options) { o.UniqueIndex = name } }

// WithStaleReservationAfter sets how old a reservation of a unique value whose owner record
// does not hold the value must be before another write may take it over (default
// DefaultStaleReservationAfter). A younger one may belong to a write still in flight, so
// the value counts as taken. Every write gives up, without writing the record, when its
// reservations are older than half of d by the time it would write it. Choose d well above
// the longest write call and the clock skew between the writing processes.
func WithStaleReservationAfter(d time.Duration) Option {
	return func(o *Options) { o.StaleAfter = d }
}

// WithUniqueRebuild makes opening rebuild the reservations of every unique field from the
// stored records (normally done only for a field that has none yet). Use it after records
// were written without reservations, e.g. by a process whose schema did not yet declare the
// field unique.
func WithUniqueRebuild() Option { return func(o *Options) { o.RebuildUnique = true } }

// WithMigrations makes opening check that the cluster has applied every migration of
// package pkg (fsys: its migrations directory, as generated code embeds it): a cluster
// behind fails with an error of kind repo.ErrSchemaBehind whose cause is a
// *migrate.BehindError naming the pending versions. The index name is then the alias the
// migrations manage; opening creates no index (the migrations do) and checks the mapping
// behind the alias as usual.
func WithMigrations(pkg string, fsys fs.FS) Option {
	return func(o *Options) { o.MigratePkg, o.Migrations = pkg, fsys }
}

// WithMigrationStateIndex names the index in which migrators record what they applied
// (default DefaultStateIndex), for WithMigrations.
func WithMigrationStateIndex(name string) Option { return func(o *Options) { o.StateIndex = name } }

// WithOlderCodeRecheck sets Options.OlderCodeRecheck.
func WithOlderCodeRecheck(d time.Duration) Option {
	return func(o *Options) { o.OlderCodeRecheck = d }
}
