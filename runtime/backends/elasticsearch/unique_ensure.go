package elasticsearch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// ensureUnique creates or checks the unique index, then reserves the values of the stored
// records for every unique field that has no state document yet (or every field with
// WithUniqueRebuild), unless the record index was created by this call (it is empty), and
// writes the fields' state documents.
func (d *Driver[T]) ensureUnique(ctx context.Context, created bool) error {
	u := d.uq
	if _, err := ensureIndex(ctx, d.c, u.index, []byte(esdialect.UniqueMapping), d.o.Shards, d.o.Replicas); err != nil {
		return err
	}
	ids := make([]string, len(u.fields))
	for k, i := range u.fields {
		ids[k] = stateID(d.desc.Fields[i].JSON)
	}
	docs, err := d.mget(ctx, u.index, ids, nil)
	if err != nil {
		return err
	}
	var missing []int
	for k, i := range u.fields {
		if !docs[k].Found || d.o.RebuildUnique {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if !created {
		if err := d.backfill(ctx, missing); err != nil {
			return err
		}
	}
	ops := make([]uop, len(missing))
	at := u.now().UTC().Format(atLayout)
	for k, i := range missing {
		doc, _ := json.Marshal(reservation{Field: d.desc.Fields[i].JSON, At: at, State: stateComplete})
		ops[k] = uop{action: "index", c: &claim{key: stateID(d.desc.Fields[i].JSON), field: i}, doc: doc}
	}
	items, err := d.uniqueBulk(ctx, ops)
	if err != nil {
		return err
	}
	for _, st := range items {
		if st.Status != http.StatusOK && st.Status != http.StatusCreated {
			return repo.E(kindOf(st.Status, nil), parseError(st.Status, []byte(`{"error":`+string(st.Error)+`}`)))
		}
	}
	return nil
}

// backfill reserves, for the given unique fields, the values of every stored record, read
// in id order in chunks of Options.BatchDocs. Two records sharing a value fail it with
// ErrAlreadyExists naming them.
func (d *Driver[T]) backfill(ctx context.Context, fields []int) error {
	names := []string{d.desc.ID().Name}
	for _, i := range fields {
		names = append(names, d.desc.Fields[i].Name)
	}
	spec := &query.Spec{Filter: query.All(), Sort: []query.SortKey{{Field: d.desc.ID().Name}}, Fields: names}
	var dups []string
	batch := make([]T, 0, d.o.BatchDocs)
	flush := func() error {
		var cs []*claim
		for i := range batch {
			cs = append(cs, d.claims(&batch[i], i, fields)...)
		}
		batch = batch[:0]
		d.reserve(ctx, cs)
		var taken []*claim
		for _, c := range cs {
			switch {
			case c.err == nil:
			case errors.Is(c.err, repo.ErrAlreadyExists):
				taken = append(taken, c)
			default:
				return c.err
			}
		}
		if len(taken) == 0 {
			return nil
		}
		// A record changed since the scan read it is no duplicate: read them again.
		ids := make([]string, len(taken))
		for k, c := range taken {
			ids[k] = c.owner
		}
		docs, err := d.mget(ctx, d.o.Index, ids, d.uq.source)
		if err != nil {
			return err
		}
		for k, c := range taken {
			var rec T
			if !docs[k].Found || d.codec.decode(docs[k].Source, &rec) != nil {
				continue
			}
			if v, ok := d.desc.Fields[c.field].UniqueValue(&rec); ok && v == c.value && len(dups) < 10 {
				dups = append(dups, fmt.Sprintf("%s of %q and %q", d.desc.Fields[c.field].Name, c.owner, c.other))
			}
		}
		return nil
	}
	for rec, err := range d.Query(ctx, spec) {
		if err != nil {
			return err
		}
		batch = append(batch, rec)
		if len(batch) == d.o.BatchDocs {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(batch) > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	if len(dups) > 0 {
		return repo.E(repo.ErrAlreadyExists, fmt.Errorf(
			"elasticsearch: index %q holds records that share the value of a unique field (%s); make the values differ, then open the repository again",
			d.o.Index, strings.Join(dups, "; ")))
	}
	return nil
}
