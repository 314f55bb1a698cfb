package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/repo"
)

// Older code on a newer cluster. A driver whose migrations end before the cluster's (d.ahead:
// a process of the previous version during a rolling deploy, or after a rollback) opens
// when the index still serves it. Its writes replace whole documents, and the members only
// newer code knows (a field it added, that field's search terms) would be lost: such a
// driver writes, over an existing document, its own members plus the stored ones it does
// not know (keepUnknown), conditionally on the version whose source it merged. So Update
// and the writes of records with unique fields read the source before they write (one
// read: the one that gives the version written over, see index), Upsert reads first too
// (and creates with op_type=create when there is no document), and the batch writes run
// item by item. Names it knows are its fields, the old names it writes,
// the meta object and the newer names of its fields (esdialect.RenamesMeta, read from the
// index's _meta when it opens): under those the stored value is not kept, so a value it
// clears stays cleared and newer code reads its value of a renamed field (readUpgrade).

// aheadKeep returns the skip set of migrate.KeepMembers for a driver whose migrations are
// behind the cluster's, read from the index's _meta; nil when it can keep nothing.
func (d *Driver[T]) aheadKeep(ctx context.Context) (func(string) bool, error) {
	live, err := liveMappingAs(ctx, d.c, d.o.Index, func(a any) any { return a })
	if err != nil && statusOf(err) != http.StatusNotFound {
		return nil, err
	}
	var changes []migrate.Change
	m, _ := live.(map[string]any)
	meta, _ := m["_meta"].(map[string]any)
	ren, _ := meta[esdialect.RenamesMeta].(map[string]any)
	renamed := map[string]bool{}
	for n, old := range ren {
		if o, ok := old.(string); ok {
			changes = append(changes, migrate.Change{Kind: migrate.RenameField, Record: d.desc.Name, From: o, Field: n})
			renamed[o] = true
		}
	}
	olds, _ := meta[esdialect.OldNamesMeta].([]any)
	for _, o := range olds {
		s, _ := o.(string)
		if _, known := d.codec.byKey[s]; known && !renamed[s] {
			// An index copied by a repokit that did not record the newer names: this code
			// cannot tell which stored member supersedes its own value, so it keeps none
			// (whole documents, as before: newer code reads its value through the upgrade).
			return nil, nil
		}
	}
	skip := map[string]bool{esdialect.MetaField: true}
	names := make([]string, len(d.desc.Fields))
	for i := range d.desc.Fields {
		names[i] = d.desc.Fields[i].JSON
		skip[names[i]] = true
	}
	for _, old := range d.codec.oldNames {
		if old != "" {
			skip[old] = true
		}
	}
	for n := range migrate.NewerNames(changes, d.desc.Name, names) {
		skip[n] = true
	}
	return func(n string) bool { return skip[n] }, nil
}

// readKeep reads the cluster's applied version (for d.older) and returns the skip set of
// migrate.KeepMembers when the cluster is ahead of the driver's migrations (aheadKeep),
// nil when it is not.
func (d *Driver[T]) readKeep(ctx context.Context) (func(string) bool, error) {
	state := d.o.StateIndex
	if state == "" {
		state = DefaultStateIndex
	}
	applied, err := appliedVersion(ctx, d.c, state, d.o.MigratePkg, d.hist)
	if err != nil || applied <= d.hist.Version() {
		return nil, err
	}
	return d.aheadKeep(ctx)
}

// source reads the stored document of id: its _source and version; found false when there
// is none.
func (d *Driver[T]) source(ctx context.Context, id string) (src []byte, seq, term int, found bool, err error) {
	r, err := d.do(ctx, esapi.GetRequest{Index: d.o.Index, DocumentID: docPath(id)})
	if err != nil {
		return nil, 0, 0, false, err
	}
	defer closeBody(r)
	if r.StatusCode == http.StatusNotFound {
		return nil, 0, 0, false, nil
	}
	if r.IsError() {
		return nil, 0, 0, false, d.respErr(r, nil)
	}
	var g getResponse
	if err := json.NewDecoder(r.Body).Decode(&g); err != nil {
		return nil, 0, 0, false, repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: reading the get response: %w", err))
	}
	return g.Source, int(g.SeqNo), int(g.Term), g.Found, nil
}

// keepUnknown returns own, the document this driver would write for a record, with the
// members of cur (the stored document) that this driver does not know added: top-level
// members (migrate.KeepMembers) and, in the meta object, the search terms (s), the
// microsecond forms of times (us) and the JSON presence list entries (has) of those
// fields.
func (d *Driver[T]) keepUnknown(own, cur []byte, keep func(string) bool) ([]byte, error) {
	out, err := migrate.KeepMembers(own, cur, keep)
	if err != nil {
		return nil, err
	}
	var stored struct {
		RK map[string]json.RawMessage `json:"_rk"`
	}
	if err := json.Unmarshal(cur, &stored); err != nil || stored.RK == nil {
		return out, err
	}
	var doc map[string]json.RawMessage
	var rk map[string]json.RawMessage
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(doc[esdialect.MetaField], &rk); err != nil || rk == nil {
		return nil, fmt.Errorf("elasticsearch: the document to write has no %s object", esdialect.MetaField)
	}
	changed := false
	for _, k := range []string{"s", "us"} {
		var theirs, mine map[string]json.RawMessage
		if json.Unmarshal(stored.RK[k], &theirs) != nil || len(theirs) == 0 {
			continue
		}
		_ = json.Unmarshal(rk[k], &mine)
		added := false
		for n, v := range theirs {
			if _, has := mine[n]; !has && !keep(n) {
				if mine == nil {
					mine = map[string]json.RawMessage{}
				}
				mine[n], added = v, true
			}
		}
		if added {
			rk[k], changed = marshalRaw(mine), true
		}
	}
	var theirs, mine []string
	if json.Unmarshal(stored.RK["has"], &theirs) == nil {
		_ = json.Unmarshal(rk["has"], &mine)
		n := len(mine)
		for _, h := range theirs {
			if !keep(h) && !slices.Contains(mine, h) {
				mine = append(mine, h)
			}
		}
		if len(mine) > n {
			rk["has"], changed = marshalRaw(mine), true
		}
	}
	if !changed {
		return out, nil
	}
	doc[esdialect.MetaField] = marshalRaw(rk)
	return marshalRaw(doc), nil
}

// marshalRaw encodes v (maps of raw JSON, string lists) without escaping HTML characters,
// so that the bytes of JSON fields stay as they were written.
func marshalRaw(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // maps of valid raw JSON and strings always encode
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// upsertKeeping is Upsert for a driver that keeps unknown members: an Update of the stored
// document, or, when there is none, a create (op_type=create); again when another writer
// created or changed it in between.
func (d *Driver[T]) upsertKeeping(ctx context.Context, rec *T) error {
	id := d.desc.GetID(rec)
	for attempt := 1; ; attempt++ {
		err := d.Update(ctx, rec, "")
		if !errors.Is(err, repo.ErrNotFound) {
			return err
		}
		tok := newToken()
		r, err := d.create(ctx, id, rec, tok)
		if err != nil {
			return err
		}
		nv, lost, err := d.finish(ctx, r, id, tok, repo.ErrVersionConflict)
		if lost && attempt < migrate.KeepAttempts {
			continue
		}
		if err != nil {
			return err
		}
		d.desc.SetVersion(rec, nv)
		return nil
	}
}

// eachKeeping runs write for every item in turn, for the batch writes of a driver that
// keeps unknown members: each item reads its document before it writes (see above).
// When ctx ends, the items not yet written get its error, which eachKeeping returns.
func (d *Driver[T]) eachKeeping(ctx context.Context, recs []T, ifVersion []string, res []repo.Result, write func(context.Context, *T, string) error) error {
	for i := range recs {
		res[i].ID = d.desc.GetID(&recs[i])
		if err := ctx.Err(); err != nil {
			for j := i; j < len(recs); j++ {
				res[j].ID, res[j].Err = d.desc.GetID(&recs[j]), err
			}
			return err
		}
		if res[i].Err = write(ctx, &recs[i], at(ifVersion, i)); res[i].Err == nil {
			res[i].Version = d.desc.GetVersion(&recs[i])
		}
	}
	if n := len(recs); n > 0 && ctx.Err() != nil && errors.Is(res[n-1].Err, ctx.Err()) {
		return ctx.Err()
	}
	return nil
}

// notSentError is the error of a write of a driver keeping unknown members that failed
// before its request was sent (the read of the stored document or the merge): nothing was
// written. A conflict inside means the stored document was not the version to write over.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }
