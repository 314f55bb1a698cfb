// Package elasticsearch is repokit's Elasticsearch backend: a generic repo.Driver over the
// low-level esapi requests of github.com/elastic/go-elasticsearch/v8 (no typed API). A Driver
// stores the records of one type in one index and passes the conformance suite (package
// drivertest) unchanged. Generated packages call NewRepository from their
// New<R>ElasticsearchRepository constructors; New gives the bare driver.
//
// Clients are shared through a pool.Manager (Hooks, Client): repositories on one config
// share one client, hold a lease until Close, and report transport failures and 5xx
// answers so that the manager validates or replaces the client. The client retries only
// requests the server certainly did not apply (429, failed dials).
//
// The index mapping is rendered by package runtime/dialect/esdialect, which the generator
// shares: opening a repository creates a missing index or compares the live mapping with it
// and reports a *DriftError, never altering an index. Time fields carry their exact
// microseconds next to the readable date, for filters and sorting.
//
// Writes send refresh=wait_for by default (Refresh), so searches read the caller's own
// writes, and wait_for_active_shards (WithWaitForActiveShards, default "1"). On a cluster,
// requests go round-robin over every configured host; indices get their shards and replicas
// from the config (a URL's ?shards=&replicas=) or WithIndexSettings; a search or count that
// some shard could not answer is ErrUnavailable (*ShardError), never a partial result. A version is "<seq_no>:<primary_term>"; Update and Delete write conditionally on
// it. CreateBatch sends _bulk in chunks (BatchDocs, BatchBytes) and gives every record its
// result. Find and Stream compile the filter to query DSL (codec.go encodes documents,
// compile.go the queries), page with from/size, then search_after inside a point in time,
// so they read any number of records; Count uses _count.
//
// Unique fields have no server constraint to rely on: every present value is reserved by a
// document of its own in a companion index (WithUniqueIndex) before the record holding it
// is written, and released when the record drops it. Reservations left by failed writes are
// taken over once older than the stale age (WithStaleReservationAfter); the unique*.go
// files implement it.
//
// Errors are mapped to repo's kinds (404 ErrNotFound, 409 ErrAlreadyExists or
// ErrVersionConflict, 400 ErrInvalidInput with the server's reason in a *ServerError, 429,
// 5xx and connection failures ErrUnavailable). docs/elasticsearch.md has the options,
// mapping, operations, the unique-field design with its guarantees and caveats, and limits.
package elasticsearch
