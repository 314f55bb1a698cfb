// Package s3 is repokit's S3 backend (aws-sdk-go-v2), for AWS S3 and S3-compatible servers
// such as MinIO. A Driver stores the records of one type under one key prefix and passes the
// conformance suite (package drivertest) unchanged.
//
// Every record is one JSON object at <config prefix>/<record prefix>/<escaped id>; the
// escaping keeps keys one safe path segment and makes them sort exactly like the ids (see
// escape.go). The object's ETag is the record's version: every write puts a fresh "@rev"
// first in the body, so a stale version never matches again.
//
// Writes are conditional where S3 allows it: Create sends If-None-Match: *, Update If-Match.
// A failed condition is checked against the object's "@rev", so a write whose first attempt
// was stored but lost its answer still succeeds. Delete reads the ETag and deletes with
// If-Match (which MinIO ignores; see docs/s3.md). CreateBatch and the bulk driver
// interfaces of package repo behind GetBatch, UpsertBatch, UpdateBatch, DeleteBatch and
// DeleteWhere (batch.go) run WithConcurrency requests at once and give every record its
// result; deletes go by DeleteObjects, 1000 keys a request.
//
// S3 has no query language: a query lists the prefix and reads the objects concurrently,
// filtering and sorting them with package eval, the evaluator the memory backend uses (see
// query.go). Queries in id order stream in listing order; other orders keep the matches
// (a bounded heap with a limit). A filter's bounds on the id (a Page cursor) start the
// listing after the bound and stop it past the other (idrange.go), so a page walk lists
// each key about once. Decoded records are cached by ETag (WithCache, cache.go).
//
// Unique fields have no server constraint to rely on: every present value is claimed by a
// reservation object outside every record prefix (".repokit-unique") before the record is
// written, pending until the record is, then held (see unique.go and WithStaleReservationAfter).
//
// Repositories get their client from a pool.Manager with the hooks of this package, so
// repositories on configs with the same pool.S3PoolConfig Key share one client and its
// connections; the SDK retries with backoff and no retry quota (client.go). Errors map to
// repo's kinds (404 ErrNotFound, 412 ErrAlreadyExists or ErrVersionConflict, a taken unique
// value ErrAlreadyExists naming the field, no answer or 5xx ErrUnavailable; errors.go).
// docs/s3.md has the layout, operations, the unique-field design and limits.
package s3
