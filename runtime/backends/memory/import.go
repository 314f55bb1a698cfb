package memory

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/repo"
)

// Import stores records given as JSON documents (each a JSON object as encoding/json writes
// the record type of the schema version they were written at: an export, a fixture file,
// S3 objects) like Insert does: a record whose id or unique value is stored already gets
// ErrAlreadyExists. When up is set, documents written at version from are first upgraded to
// up's version in memory (migrate.Upgrader: renames, defaults of added fields, widenings,
// drops), so documents of any older version load into the newest record type; members
// starting with "@" (S3's "@rev", "@schema") are dropped. A document that does not decode or
// does not validate as a Create would (an id, the record's Prepare, the portable limits:
// repo.Prepare) gets ErrInvalidInput. It returns one result per
// document.
func (d *Driver[T]) Import(ctx context.Context, docs [][]byte, up *migrate.Upgrader, from int64) ([]repo.Result, error) {
	res := make([]repo.Result, len(docs))
	recs := make([]T, 0, len(docs))
	at := make([]int, 0, len(docs))
	for i, doc := range docs {
		rec, err := d.decode(doc, up, from)
		if err != nil {
			res[i].Err = repo.E(repo.ErrInvalidInput, fmt.Errorf("memory: %s document %d: %w", d.desc.Name, i, err))
			continue
		}
		if err := repo.Prepare(d.desc, "Import", &rec, false); err != nil {
			res[i] = repo.Result{ID: d.desc.GetID(&rec), Err: fmt.Errorf("memory: document %d: %w", i, err)}
			continue
		}
		res[i].ID = d.desc.GetID(&rec)
		recs = append(recs, rec)
		at = append(at, i)
	}
	out := make([]repo.Result, len(recs))
	if err := d.Insert(ctx, recs, out); err != nil {
		return res, err
	}
	for j, i := range at {
		res[i] = out[j]
	}
	return res, nil
}

// decode returns the record of one document, upgraded with up from version from.
func (d *Driver[T]) decode(doc []byte, up *migrate.Upgrader, from int64) (T, error) {
	var rec T
	if up != nil && from < up.Version() {
		m, err := migrate.DecodeDocument(doc)
		if err != nil {
			return rec, err
		}
		for k := range m {
			if len(k) > 0 && k[0] == '@' {
				delete(m, k)
			}
		}
		if err := up.Upgrade(m, from); err != nil {
			return rec, err
		}
		if doc, err = json.Marshal(m); err != nil {
			return rec, err
		}
	}
	err := json.Unmarshal(doc, &rec)
	return rec, err
}
