package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// progress returns a reporter of step's progress, or nil.
func (p *recordPlan) progress(step string, total int64) func(int64) {
	f := p.m.o.progress
	if f == nil {
		return nil
	}
	start := time.Now()
	return func(done int64) {
		f(migrate.Progress{Version: p.mig.Version, Step: step, Done: done, Total: total, Elapsed: time.Since(start)})
	}
}

// createIndex creates index with the record's mapping of this version and, with compat, the
// compat fields (the previous names of renamed and dropped fields, see
// esdialect.CompatMeta); an index left by a failed apply is deleted first.
func (p *recordPlan) createIndex(ctx context.Context, index string, shards, replicas int, compat bool) error {
	m := p.m
	if err := call(ctx, m.c, esapi.IndicesDeleteRequest{Index: []string{index}}, nil); err != nil && statusOf(err) != http.StatusNotFound {
		return err
	}
	var fields []esdialect.FieldSpec
	if compat {
		fields = p.compatFields()
	}
	mapping, err := decodeJSON(esdialect.RecordMappingCompat(p.after, fields))
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]any{"settings": esdialect.IndexSettings(shards, replicas), "mappings": mapping})
	return call(ctx, m.c, esapi.IndicesCreateRequest{Index: index, Body: bytes.NewReader(body)}, nil)
}

// shardsOf returns the number of shards and replicas of index.
func (m *Migrator) shardsOf(ctx context.Context, index string) (int, int, error) {
	var out map[string]struct {
		Settings struct {
			Index struct {
				Shards   string `json:"number_of_shards"`
				Replicas string `json:"number_of_replicas"`
			} `json:"index"`
		} `json:"settings"`
	}
	if err := call(ctx, m.c, esapi.IndicesGetSettingsRequest{Index: []string{index}}, &out); err != nil {
		return 0, 0, err
	}
	for _, v := range out {
		var s, r int
		_, _ = fmt.Sscan(v.Settings.Index.Shards, &s)
		_, _ = fmt.Sscan(v.Settings.Index.Replicas, &r)
		return max(s, 1), r, nil
	}
	return 1, 0, nil
}

// addRecord creates <index>_v<N> behind the alias, or adopts the concrete index of the
// alias's name that today's constructors made (copied behind the alias, see copyIndex).
func (p *recordPlan) addRecord() action {
	to := p.physical()
	return action{
		text: fmt.Sprintf("%s: create index %s behind alias %s (an existing index %s made by a constructor is copied into it and replaced by the alias; writes wait during the swap)",
			p.name, to, p.after.Index, p.after.Index),
		online: true,
		run: func(ctx context.Context) error {
			alias := p.after.Index
			kind, idx, err := p.m.resolve(ctx, alias)
			if err != nil || kind == targetAlias {
				return err
			}
			shards, replicas := 1, 0
			if kind == targetIndex {
				if shards, replicas, err = p.m.shardsOf(ctx, idx[0]); err != nil {
					return err
				}
			}
			if err := p.createIndex(ctx, to, shards, replicas, false); err != nil {
				return err
			}
			if kind == targetNone {
				return p.m.aliases(ctx, map[string]any{"add": map[string]any{"index": to, "alias": alias}})
			}
			n, _ := p.m.count(ctx, alias)
			return p.m.copyIndex(ctx, alias, alias, to, true, nil, p.progress("adopt "+alias+" → "+to, n))
		},
	}
}

// dropRecord deletes the alias's indices and the record's unique index.
func (p *recordPlan) dropRecord() action {
	alias, unique := p.before.Index, p.m.uniqueIndex(p.name, p.before.Index)
	return action{
		text:   fmt.Sprintf("%s: delete the indices behind %s and %s (destructive)", p.name, alias, unique),
		online: true,
		run: func(ctx context.Context) error {
			_, idx, err := p.m.resolve(ctx, alias)
			if err != nil {
				return err
			}
			_, uidx, err := p.m.resolve(ctx, unique) // an alias after a change_index
			if err != nil {
				return err
			}
			idx = append(idx, uidx...)
			if len(idx) == 0 {
				return nil
			}
			err = call(ctx, p.m.c, esapi.IndicesDeleteRequest{Index: idx, IgnoreUnavailable: ptrBool(true)}, nil)
			if statusOf(err) == http.StatusNotFound {
				return nil
			}
			return err
		},
	}
}

func ptrBool(b bool) *bool { return &b }

// current returns the single index behind the record's alias.
func (p *recordPlan) current(ctx context.Context) (string, error) {
	kind, idx, err := p.m.resolve(ctx, p.after.Index)
	if err != nil {
		return "", err
	}
	if kind != targetAlias || len(idx) != 1 {
		return "", repo.E(repo.ErrInvalidInput, fmt.Errorf("elasticsearch: %s: %q is not an alias over one index; apply the earlier migrations (the baseline moves an index behind an alias)", p.name, p.after.Index))
	}
	return idx[0], nil
}

// putMapping adds the new fields to the mapping of the alias's index (in place).
func (p *recordPlan) putMapping() action {
	var added []string
	for _, f := range p.after.Fields {
		if p.before.Field(f.Name) == nil {
			added = append(added, f.Name+" "+f.TypeString())
		}
	}
	return action{
		text:   fmt.Sprintf("%s: put mapping on %s (in place): %s", p.name, p.after.Index, strings.Join(added, ", ")),
		online: true,
		run: func(ctx context.Context) error {
			if _, err := p.current(ctx); err != nil {
				return err
			}
			body := esdialect.RecordMapping(p.after)
			return call(ctx, p.m.c, esapi.IndicesPutMappingRequest{Index: []string{p.after.Index}, Body: bytes.NewReader(body)}, nil)
		},
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// backfillAction fills the defaults in stored documents (see sweep).
func (p *recordPlan) backfillAction() action {
	return action{
		text:   fmt.Sprintf("%s: backfill in documents of %s: %s (search + conditional _bulk, repeated until none is missing; documents written meanwhile keep their values)", p.name, p.after.Index, p.describeTransform()),
		online: true,
		run: func(ctx context.Context) error {
			if _, err := p.current(ctx); err != nil {
				return err
			}
			tr, err := p.transform()
			if err != nil {
				return err
			}
			return p.m.sweep(ctx, p.after.Index, p.sweepQuery(), tr, p.progress("backfill "+p.after.Index, 0))
		},
	}
}

func ptrInt(n int) *int { return &n }

// copyAction copies the record into <index>_v<N>, transforming the documents in Go, swaps
// the alias, then sweeps what code of the previous version wrote meanwhile.
func (p *recordPlan) copyAction() action {
	to := p.physical()
	return action{
		text: fmt.Sprintf("%s: create index %s (with the old names of renamed and dropped fields kept mapped, so that code of version %d keeps writing), copy the documents behind %s into it (%s; point in time + search_after + _bulk, then catch-up by _seq_no), block writes on the old index for the last catch-up, swap alias %s in one _aliases request (writes wait, none fail), then rewrite documents that old code wrote in the old form; the old index is kept, write-blocked",
			p.name, to, p.mig.Version-1, p.after.Index, p.describeTransform(), p.after.Index),
		online: true,
		run: func(ctx context.Context) error {
			tr, err := p.transform()
			if err != nil {
				return err
			}
			from, err := p.current(ctx)
			if err != nil {
				return err
			}
			if from != to { // from == to: the swap happened in an earlier, interrupted apply
				shards, replicas, err := p.m.shardsOf(ctx, from)
				if err != nil {
					return err
				}
				if err := p.createIndex(ctx, to, shards, replicas, true); err != nil {
					return err
				}
				n, _ := p.m.count(ctx, from)
				if err := p.m.copyIndex(ctx, p.after.Index, from, to, false, tr, p.progress("copy "+from+" → "+to, n)); err != nil {
					return err
				}
			}
			return p.m.sweep(ctx, p.after.Index, p.sweepQuery(), tr, p.progress("sweep "+p.after.Index, 0))
		},
	}
}

// transform returns the Go transform of a document of the previous version into this one.
func (p *recordPlan) transform() (func(map[string]any) error, error) {
	up, err := p.m.h[:p.mig.Version].Upgrader(p.name)
	if err != nil {
		return nil, err
	}
	return func(doc map[string]any) error {
		if err := up.Upgrade(doc, p.mig.Version-1); err != nil {
			return err
		}
		p.fixMeta(doc)
		p.keepOldNames(doc)
		p.fillSearch(doc)
		return nil
	}, nil
}

// keepOldNames copies the microsecond form (_rk.us) of each renamed time field to its old
// name too, where the upgrade kept the old name (migrate.Upgrader.OldNames), as the driver
// of this version writes it (compatNames).
func (p *recordPlan) keepOldNames(doc map[string]any) {
	rk, _ := doc[esdialect.MetaField].(map[string]any)
	us, _ := rk["us"].(map[string]any)
	for _, r := range p.renames {
		if _, kept := doc[r[0]]; kept && us != nil && us[r[1]] != nil {
			us[r[0]] = us[r[1]]
		}
	}
}

// compatFields returns the previous names of renamed and dropped fields, mapped as before.
func (p *recordPlan) compatFields() []esdialect.FieldSpec {
	var out []esdialect.FieldSpec
	add := func(name string) {
		if f := p.before.Field(name); f != nil {
			out = append(out, esdialect.FieldSpec{JSON: name, Kind: query.KindOf(f.Type)})
		}
	}
	for _, r := range p.renames {
		add(r[0])
	}
	for _, f := range p.drops {
		add(f)
	}
	return out
}

// sweepQuery matches documents in the previous version's form: with a renamed field's old
// name but not its new one, with a dropped field, or without a defaulted field.
func (p *recordPlan) sweepQuery() map[string]any {
	var should []any
	for _, r := range p.renames {
		// Old form: the old name only (this version writes both: migrate.Upgrader.OldNames).
		should = append(should, map[string]any{"bool": map[string]any{
			"filter":   map[string]any{"exists": map[string]any{"field": r[0]}},
			"must_not": map[string]any{"exists": map[string]any{"field": r[1]}}}})
	}
	for _, f := range p.drops {
		should = append(should, map[string]any{"exists": map[string]any{"field": f}})
	}
	for _, f := range slices.Sorted(maps.Keys(p.defaults)) {
		should = append(should, map[string]any{"bool": map[string]any{"must_not": map[string]any{"exists": map[string]any{"field": f}}}})
	}
	if len(should) == 0 {
		return map[string]any{"match_none": map[string]any{}}
	}
	return map[string]any{"bool": map[string]any{"should": should, "minimum_should_match": 1}}
}

// fixMeta moves, removes and fills the microsecond forms of time fields (_rk.us) as the
// upgrader did the fields, and fills the defaults the upgrader left missing.
func (p *recordPlan) fixMeta(doc map[string]any) {
	for f, v := range p.defaults {
		if doc[f] == nil {
			doc[f] = v
		}
	}
	rk, _ := doc[esdialect.MetaField].(map[string]any)
	if rk == nil && len(p.us) == 0 {
		return
	}
	if rk == nil {
		rk = map[string]any{}
		doc[esdialect.MetaField] = rk
	}
	us, _ := rk["us"].(map[string]any)
	if us == nil {
		if len(p.us) == 0 {
			return
		}
		us = map[string]any{}
		rk["us"] = us
	}
	for _, r := range p.renames {
		if v, ok := us[r[0]]; ok {
			delete(us, r[0])
			if us[r[1]] == nil {
				us[r[1]] = v
			}
		}
	}
	for _, f := range p.drops {
		delete(us, f)
	}
	for f, v := range p.us {
		if us[f] == nil {
			us[f] = v
		}
	}
}
