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

// createIndex creates index with the record's mapping of this version and, when set, a
// default pipeline; an index left by a failed apply is deleted first.
func (p *recordPlan) createIndex(ctx context.Context, index string, shards, replicas int, pipeline string) error {
	m := p.m
	if err := call(ctx, m.c, esapi.IndicesDeleteRequest{Index: []string{index}}, nil); err != nil && statusOf(err) != http.StatusNotFound {
		return err
	}
	mapping, err := decodeJSON(esdialect.RecordMapping(p.after))
	if err != nil {
		return err
	}
	settings := map[string]any{"number_of_shards": shards, "number_of_replicas": replicas}
	if pipeline != "" {
		settings["default_pipeline"] = pipeline
	}
	body, _ := json.Marshal(map[string]any{"settings": settings, "mappings": mapping})
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
			if err := p.createIndex(ctx, to, shards, replicas, ""); err != nil {
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
	alias := p.before.Index
	return action{
		text:   fmt.Sprintf("%s: delete the indices behind %s and %s%s (destructive)", p.name, alias, alias, UniqueIndexSuffix),
		online: true,
		run: func(ctx context.Context) error {
			_, idx, err := p.m.resolve(ctx, alias)
			if err != nil {
				return err
			}
			idx = append(idx, alias+UniqueIndexSuffix)
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

// pipelineScript moves renamed fields, removes dropped ones and fills defaults in a
// document (ctx in an ingest pipeline) written by code of the previous version.
const pipelineScript = `
def rk = ctx['_rk'];
def us = rk instanceof Map ? rk['us'] : null;
for (def r : params.renames) {
  if (ctx.containsKey(r[0])) { def v = ctx.remove(r[0]); if (ctx[r[1]] == null) { ctx[r[1]] = v; } }
  if (us instanceof Map && us.containsKey(r[0])) { def v = us.remove(r[0]); if (us[r[1]] == null) { us[r[1]] = v; } }
}
for (def f : params.drops) { ctx.remove(f); if (us instanceof Map) { us.remove(f); } }
for (def e : params.defaults.entrySet()) { if (ctx[e.getKey()] == null) { ctx[e.getKey()] = e.getValue(); } }
if (!params.us.isEmpty()) {
  if (!(ctx['_rk'] instanceof Map)) { ctx['_rk'] = new HashMap(); }
  if (!(ctx['_rk']['us'] instanceof Map)) { ctx['_rk']['us'] = new HashMap(); }
  for (def e : params.us.entrySet()) { if (ctx['_rk']['us'][e.getKey()] == null) { ctx['_rk']['us'][e.getKey()] = e.getValue(); } }
}`

// putPipeline stores the record's ingest pipeline of this version.
func (p *recordPlan) putPipeline(ctx context.Context) error {
	renames := p.renames
	if renames == nil {
		renames = [][2]string{}
	}
	drops := p.drops
	if drops == nil {
		drops = []string{}
	}
	body, _ := json.Marshal(map[string]any{
		"description": fmt.Sprintf("repokit: documents of %s written by code of version %d, in the form of version %d", p.name, p.mig.Version-1, p.mig.Version),
		"processors": []any{map[string]any{"script": map[string]any{"lang": "painless", "source": pipelineScript,
			"params": map[string]any{"renames": renames, "drops": drops, "defaults": p.defaults, "us": p.us}}}},
	})
	return call(ctx, p.m.c, esapi.IngestPutPipelineRequest{PipelineID: p.pipelineID(), Body: bytes.NewReader(body)}, nil)
}

// pipelineAction makes the record's index fill defaults in documents written by old code.
func (p *recordPlan) pipelineAction() action {
	return action{
		text: fmt.Sprintf("%s: ingest pipeline %s (%s) as the default pipeline of the index behind %s, for writes of code of version %d",
			p.name, p.pipelineID(), p.describeTransform(), p.after.Index, p.mig.Version-1),
		online: true,
		run: func(ctx context.Context) error {
			if err := p.putPipeline(ctx); err != nil {
				return err
			}
			body := `{"index.default_pipeline":` + jsonString(p.pipelineID()) + `}`
			return call(ctx, p.m.c, esapi.IndicesPutSettingsRequest{Index: []string{p.after.Index}, Body: strings.NewReader(body)}, nil)
		},
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// missingQuery matches documents without one of the defaulted fields.
func (p *recordPlan) missingQuery() map[string]any {
	var should []any
	for _, f := range slices.Sorted(maps.Keys(p.defaults)) {
		should = append(should, map[string]any{"bool": map[string]any{"must_not": map[string]any{"exists": map[string]any{"field": f}}}})
	}
	return map[string]any{"bool": map[string]any{"should": should, "minimum_should_match": 1}}
}

// backfillAction fills the defaults in stored documents with _update_by_query through the
// pipeline, repeated until no document lacks them (documents written meanwhile keep their
// values: a conflict skips the document, and the next round sees it again if it still lacks
// a value).
func (p *recordPlan) backfillAction() action {
	return action{
		text:   fmt.Sprintf("%s: backfill %s in documents of %s (update_by_query through %s, repeated until none is missing)", p.name, p.describeTransform(), p.after.Index, p.pipelineID()),
		online: true,
		run: func(ctx context.Context) error {
			q := map[string]any{"query": p.missingQuery()}
			body, _ := json.Marshal(q)
			var done int64
			var report func(int64)
			for round := 0; ; round++ {
				if err := p.m.refresh(ctx, p.after.Index); err != nil {
					return err
				}
				var c struct {
					Count int64 `json:"count"`
				}
				if err := call(ctx, p.m.c, esapi.CountRequest{Index: []string{p.after.Index}, Body: bytes.NewReader(body)}, &c); err != nil {
					return err
				}
				if c.Count == 0 {
					return nil
				}
				if round == 0 {
					report = p.progress("backfill "+p.after.Index, c.Count)
				}
				if round >= 20 {
					return fmt.Errorf("elasticsearch: %s: %d documents still lack a default after %d rounds", p.after.Index, c.Count, round)
				}
				var out struct {
					Updated int64 `json:"updated"`
				}
				err := call(ctx, p.m.c, esapi.UpdateByQueryRequest{Index: []string{p.after.Index}, Body: bytes.NewReader(body),
					Pipeline: p.pipelineID(), Conflicts: "proceed", Refresh: ptrBool(true), ScrollSize: ptrInt(p.m.o.batch)}, &out)
				if err != nil {
					return err
				}
				done += out.Updated
				if report != nil {
					report(done)
				}
			}
		},
	}
}

func ptrInt(n int) *int { return &n }

// copyAction copies the record into <index>_v<N>, transforming the documents in Go, and
// swaps the alias.
func (p *recordPlan) copyAction() action {
	to := p.physical()
	pipe := ""
	if p.needsPipeline() {
		pipe = " with default pipeline " + p.pipelineID() + " for writes of code of the previous version"
	}
	return action{
		text: fmt.Sprintf("%s: create index %s%s, copy the documents behind %s into it (%s; point in time + search_after + _bulk, then catch-up by _seq_no), block writes on the old index for the last catch-up, swap alias %s in one _aliases request (writes wait, none fail); the old index is kept, write-blocked",
			p.name, to, pipe, p.after.Index, p.describeTransform(), p.after.Index),
		online: true,
		run: func(ctx context.Context) error {
			from, err := p.current(ctx)
			if err != nil || from == to {
				return err // from == to: the swap happened in an earlier, interrupted apply
			}
			up, err := p.m.h[:p.mig.Version].Upgrader(p.name)
			if err != nil {
				return err
			}
			shards, replicas, err := p.m.shardsOf(ctx, from)
			if err != nil {
				return err
			}
			name := ""
			if p.needsPipeline() {
				if err := p.putPipeline(ctx); err != nil {
					return err
				}
				name = p.pipelineID()
			}
			if err := p.createIndex(ctx, to, shards, replicas, name); err != nil {
				return err
			}
			tr := func(doc map[string]any) error {
				if err := up.Upgrade(doc, p.mig.Version-1); err != nil {
					return err
				}
				p.fixMeta(doc)
				return nil
			}
			n, _ := p.m.count(ctx, from)
			return p.m.copyIndex(ctx, p.after.Index, from, to, false, tr, p.progress("copy "+from+" → "+to, n))
		},
	}
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
