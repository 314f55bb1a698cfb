// Package repo is the portable layer of repokit's repositories: the interface every generated
// repository satisfies, the one type that implements it over any backend, the interface a
// backend implements, and the typed errors all of them return. Package record describes a
// record type to it, package query builds the queries it runs.
//
// The pieces fit like this:
//
//   - Repository[T] is what application code uses: Create, CreateBatch, Get, Update, Upsert,
//     Delete, Exists, Find, Count, Stream, Page, the bulk calls (GetBatch, UpsertBatch,
//     UpdateBatch, DeleteBatch, DeleteWhere, StreamWrite, StreamTransform), Aggregate and Close
//     for records of type T. Generated
//     packages alias it per record (type ProductRepository = repo.Repository[Product]).
//   - Collection[T] implements Repository[T] once, for every backend. It does what is the same
//     everywhere — checks ids, assigns generated ids, validates and normalizes records with the
//     record.Desc, gives a record repeating an earlier one's id in a batch ErrAlreadyExists,
//     checks queries against the record's fields, turns Page cursors into filters, names the
//     record, operation and id in every error — and passes prepared input to its Driver.
//     Generated constructors (NewProductPostgresRepository, NewProductMemoryRepository, ...)
//     return a *Collection[T] over their backend's driver.
//   - Driver[T] is what a backend implements (runtime/backends/memory, postgres,
//     elasticsearch, s3): storage only, on input the Collection has checked. Optional
//     interfaces such as SingleInserter and the bulk interfaces (BatchGetter,
//     BatchUpserter, BatchUpdater, BatchDeleter, QueryDeleter) let a driver do better for a
//     case; without them the Collection loops over the single calls, with the same meaning.
//   - Errors are *Error values with a Kind — ErrNotFound, ErrAlreadyExists,
//     ErrVersionConflict, ErrInvalidInput, ErrUnavailable, ErrClosed — the same on every
//     backend, for errors.Is; the cause stays reachable with errors.As. Context errors keep
//     their identity. Drivers build them with E and Errorf.
//   - CreateBatch returns a Result per record; Page returns a Page with the cursor of the
//     next one; IfVersion makes Update and Delete conditional on the version a read returned.
//
// Using a repository (shopdb is a generated package):
//
//	r := shopdb.NewProductMemoryRepository() // or ...PostgresRepository(ctx, m, cfg), ...
//	defer r.Close()
//	p, err := r.Create(ctx, shopdb.Product{SKU: "SQ-1", Name: "Star Quest", Price: 19.9})
//	if errors.Is(err, repo.ErrAlreadyExists) { ... }
//	p.Price = 17.5
//	p, err = r.Update(ctx, p, repo.IfVersion(p.RecordVersion)) // ErrVersionConflict if changed meanwhile
//	f := shopdb.ProductFields
//	cheap, err := r.Find(ctx, shopdb.ProductQuery().Where(f.Price.LT(20)).OrderBy(f.Name.Asc()))
//
// docs/semantics.md states the behaviour every backend shares; the conformance suite
// (runtime/backends/drivertest) checks it on each.
package repo
