package s3

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"

	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/pool"
	"github.com/repokit/repokit/runtime/repo"
)

// Schema versions. With WithMigrations every object a driver writes records the version of
// the package's history it was written at, as a "@schema" member right after "@rev":
// {"@rev":"…","@schema":3,"id":…}. An object without one was written by a driver without
// migrations: version 1, the baseline. A driver reads an object of an older version by
// upgrading its JSON in memory (migrate.Upgrader: renames, defaults, widenings, drops)
// before decoding it, so code of the newest version reads every older object before any
// rewrite, in Get, queries (filters and sorts see upgraded values), Count and batch reads.
// Objects at the driver's version (the common case once Apply rewrote them) decode directly:
// the version check reads a few bytes at a fixed offset. See docs/migrations-s3.md.

// schemaOpen is what encode writes before the version number.
const schemaOpen = `,"@schema":`

// Names of the members a driver adds to every object.
const (
	revMember    = "@rev"
	schemaMember = "@schema"
)

// migrationsSegment is the key segment, under the config's prefix, of the applied-state and
// lock objects of every package (<prefix>/.repokit-migrations/<package>); no record prefix
// may have a segment of that name.
const migrationsSegment = ".repokit-migrations"

// docSchema is what a driver with migrations knows of its record's history.
type docSchema struct {
	version int64 // the newest version: what the driver writes
	up      *migrate.Upgrader
}

// migrations is the WithMigrations option: a package's history.
type migrations struct {
	pkg  string
	fsys fs.FS
	h    migrate.History
}

// WithMigrations hands the driver its package's migrations (the generated Migrations()):
// the driver writes objects at the newest version, upgrades older objects when it reads
// them, and New fails with repo.ErrSchemaBehind (cause *migrate.BehindError, naming the
// pending versions) unless the store applied every version (its applied-state object under
// <prefix>/.repokit-migrations/<pkg> says so; a store without one is at version 0, so even
// a store made by drivers without migrations applies the baseline first). Generated
// constructors pass it when the package has migrations.
func WithMigrations(pkg string, fsys fs.FS) Option {
	return func(o *options) { o.mig = &migrations{pkg: pkg, fsys: fsys} }
}

// schema loads the history and returns the record's upgrade path.
func (m *migrations) schema(record string) (*docSchema, error) {
	if err := migrate.CheckName(m.pkg); err != nil {
		return nil, repo.E(repo.ErrInvalidInput, fmt.Errorf("s3: migrations package name: %w", err))
	}
	h, err := migrate.Load(m.fsys)
	if err != nil {
		return nil, repo.E(repo.ErrInvalidInput, fmt.Errorf("s3: migrations of package %s: %w", m.pkg, err))
	}
	up, err := h.Upgrader(record)
	if err != nil {
		return nil, repo.E(repo.ErrInvalidInput, fmt.Errorf("s3: migrations of package %s: %w", m.pkg, err))
	}
	m.h = h
	return &docSchema{version: h.Version(), up: up}, nil
}

// checkApplied fails with repo.ErrSchemaBehind when the store has not applied every
// version of the history, and with repo.ErrSchemaAhead when it applied newer versions
// that changed record in a way code of this history cannot follow (olderCodeProblems).
// It returns the state it read.
func (m *migrations) checkApplied(ctx context.Context, l pool.Lease[*Client], sc pool.S3PoolConfig, record string) (*migState, error) {
	st, _, err := readState(ctx, l.Pool().API, sc.Bucket, stateKey(sc.Prefix, m.pkg))
	if err != nil {
		return nil, mapErr(ctx, err, l.ReportBroken)
	}
	if err := m.h.Behind(pool.BackendS3, st.current()); err != nil {
		return nil, repo.E(repo.ErrSchemaBehind, err)
	}
	if probs := olderCodeProblems(st, m.h.Version(), record); len(probs) > 0 {
		return nil, repo.E(repo.ErrSchemaAhead, &migrate.AheadError{Backend: pool.BackendS3, Record: record, Applied: st.current(), Known: m.h.Version(), Problems: probs})
	}
	return st, nil
}

// olderCodeProblems returns why code whose history ends at version known cannot work on
// record (by its name at that version) in a store whose state st has newer versions: the
// migrate.OlderCodeProblem of each of their changes to the record.
func olderCodeProblems(st *migState, known int64, record string) []string {
	var probs []string
	for _, a := range st.Applied {
		if a.Version <= known {
			continue
		}
		if a.Changes == nil {
			probs = append(probs, fmt.Sprintf("version %d (%s) was applied by a repokit that did not record its changes", a.Version, a.Name))
			continue
		}
		for _, c := range a.Changes {
			switch {
			case c.Kind == migrate.RenameRecord && c.From == record:
				probs = append(probs, fmt.Sprintf("version %d: %s", a.Version, migrate.OlderCodeProblem(c)))
				record = c.Record
			case c.Record == record:
				if p := migrate.OlderCodeProblem(c); p != "" {
					probs = append(probs, fmt.Sprintf("version %d: %s", a.Version, p))
				}
			}
		}
	}
	return probs
}

// objectVersion returns the schema version an object body was written at: its "@schema"
// member when encode wrote one, else 1.
func objectVersion(body []byte) int64 {
	if len(body) <= revPrefixLen || !bytes.HasPrefix(body, []byte(revOpen)) {
		return 1
	}
	rest := body[revPrefixLen:]
	if !bytes.HasPrefix(rest, []byte(schemaOpen)) {
		return 1
	}
	var v int64
	n := 0
	for _, c := range rest[len(schemaOpen):] {
		if c < '0' || c > '9' || n > 15 {
			break
		}
		v = v*10 + int64(c-'0')
		n++
	}
	if n == 0 {
		return 1
	}
	return v
}

// decode decodes an object body into rec, upgrading it first when it is older than the
// driver's version.
func (d *Driver[T]) decode(body []byte, rec *T) error {
	if d.schema != nil {
		if v := objectVersion(body); v < d.schema.version {
			up, err := d.schema.up.UpgradeJSON(body, v, revMember, schemaMember)
			if err != nil {
				return fmt.Errorf("upgrading from schema version %d: %w", v, err)
			}
			body = up
		}
	}
	return json.Unmarshal(body, rec)
}

// withOldNames returns the JSON object b with the value of each field in names (new name →
// old name, migrate.Upgrader.OldNames) added under its old name, so that code of the
// previous version reads the object; b itself when none of those fields is present.
func withOldNames(b []byte, names map[string]string) []byte {
	var doc map[string]json.RawMessage
	if json.Unmarshal(b, &doc) != nil {
		return b
	}
	out := b[: len(b)-1 : len(b)-1] // without the closing brace; appends copy
	added := false
	for _, n := range slices.Sorted(maps.Keys(names)) {
		v, ok := doc[n]
		if !ok {
			continue
		}
		if _, taken := doc[names[n]]; taken {
			continue
		}
		out = append(out, ',')
		out = strconv.AppendQuote(out, names[n])
		out = append(out, ':')
		out = append(out, v...)
		added = true
	}
	if !added {
		return b
	}
	return append(out, '}')
}
