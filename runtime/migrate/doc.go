// Package migrate is repokit's backend-neutral schema evolution: the state a schema set is
// in (Schema), the typed changes between two states (Diff, Change), and a package's history
// of migrations (Migration, History, Load).
//
// The migration directory is the history. `repokit migrate diff` compares the schema files
// with the state the newest migration recorded and writes the next migration: a JSON file
// holding the changes and the state they lead to, and per backend the form that backend
// applies (goose SQL files for PostgreSQL; Elasticsearch and S3 plan their steps from the
// changes at apply time). Each backend keeps what it applied in the store itself, so every
// instance of a program can tell what is applied and what is pending.
//
// Stored documents that are upgraded when read (S3 objects) go through an Upgrader, which
// applies the document-level part of every migration since the version a document was
// written with: renames, defaults of added fields, type conversions, drops.
//
// The package imports no database driver: the generator uses it to plan, the backends to
// apply.
package migrate
