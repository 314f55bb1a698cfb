package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/repo"
)

// changeIndex moves the record to the index name c.To without copying: the alias c.To is
// added to the index behind c.From (and c.To's unique index to c.From's, unless the record
// has its own, WithRecordUniqueIndex), in one _aliases
// request, so both names reach the same documents. The old name stays for code of the
// previous version, which keeps reading and writing the same documents; copies of later
// migrations move it along (copyIndex moves every alias of the old index); dropping the
// record deletes the indices behind the new name, and the old alias with them.
func (p *recordPlan) changeIndex(c migrate.Change) action {
	from, to := c.From, c.To
	pairs := [][2]string{{from, to}}
	text := fmt.Sprintf("%s: add alias %s to the index behind %s", p.name, to, from)
	if _, custom := p.m.o.unique[p.name]; !custom {
		pairs = append(pairs, [2]string{from + UniqueIndexSuffix, to + UniqueIndexSuffix})
		text += fmt.Sprintf(", and %s%s to %s%s", to, UniqueIndexSuffix, from, UniqueIndexSuffix)
	}
	return action{
		text: fmt.Sprintf("%s (one _aliases request; no copy): both names reach the same documents, %s stays for code of version %d",
			text, from, p.mig.Version-1),
		online: true,
		run: func(ctx context.Context) error {
			var acts []any
			for _, pair := range pairs {
				a, err := p.aliasActions(ctx, pair[0], pair[1], pair == [2]string{from, to})
				if err != nil {
					return err
				}
				acts = append(acts, a...)
			}
			if len(acts) == 0 {
				return nil
			}
			return p.m.aliases(ctx, acts...)
		},
	}
}

// aliasActions returns the _aliases actions that add alias to the indices behind from (an
// alias or a concrete index); none when alias already points at them (an earlier,
// interrupted apply) or, unless required, when from does not exist.
func (p *recordPlan) aliasActions(ctx context.Context, from, alias string, required bool) ([]any, error) {
	kind, idx, err := p.m.resolve(ctx, from)
	if err != nil {
		return nil, err
	}
	if kind == targetNone {
		if required {
			return nil, repo.E(repo.ErrInvalidInput, fmt.Errorf("elasticsearch: %s: index %s, which the record moves from, does not exist", p.name, from))
		}
		return nil, nil
	}
	tk, tidx, err := p.m.resolve(ctx, alias)
	switch {
	case err != nil:
		return nil, err
	case tk == targetAlias && slices.Equal(tidx, idx):
		return nil, nil
	case tk != targetNone:
		return nil, repo.E(repo.ErrAlreadyExists, fmt.Errorf("elasticsearch: %s: cannot move the record to index %s: an index or alias of that name exists already", p.name, alias))
	}
	var acts []any
	for _, ix := range idx {
		acts = append(acts, map[string]any{"add": map[string]any{"index": ix, "alias": alias}})
	}
	return acts, nil
}

// aliasesOf returns the aliases of the concrete index, sorted.
func (m *Migrator) aliasesOf(ctx context.Context, index string) ([]string, error) {
	var out map[string]struct {
		Aliases map[string]any `json:"aliases"`
	}
	if err := call(ctx, m.c, esapi.IndicesGetAliasRequest{Index: []string{index}}, &out); err != nil {
		return nil, err
	}
	var names []string
	for _, v := range out {
		for a := range v.Aliases {
			names = append(names, a)
		}
	}
	slices.Sort(names)
	return names, nil
}

// dropOldName stops offering field c.Field's old name c.From to code of the previous version:
// the name leaves the index's _meta list of old names (esdialect.OldNamesMeta), so such
// code is refused from then on (OlderCodeDiffs). The field stays mapped (a mapping cannot
// lose a field) and documents keep their values under it until they are written again.
func (p *recordPlan) dropOldName(c migrate.Change) action {
	return action{
		text:   fmt.Sprintf("%s: remove %s from the old names in the _meta of %s (code of version %d, which uses it, is refused from now on)", c, c.From, p.after.Index, p.mig.Version-1),
		online: true,
		run: func(ctx context.Context) error {
			live, err := liveMappingAs(ctx, p.m.c, p.after.Index, func(a any) any { return a })
			if err != nil {
				return err
			}
			m, _ := live.(map[string]any)
			meta, _ := m["_meta"].(map[string]any)
			olds, _ := meta[esdialect.OldNamesMeta].([]any)
			if !slices.Contains(olds, any(c.From)) {
				return nil // an earlier, interrupted apply did it, or no copy kept the name
			}
			meta[esdialect.OldNamesMeta] = slices.DeleteFunc(olds, func(n any) bool { return n == any(c.From) })
			if ren, ok := meta[esdialect.RenamesMeta].(map[string]any); ok {
				maps.DeleteFunc(ren, func(_ string, old any) bool { return old == any(c.From) })
			}
			body, _ := json.Marshal(map[string]any{"_meta": meta})
			return call(ctx, p.m.c, esapi.IndicesPutMappingRequest{Index: []string{p.after.Index}, Body: bytes.NewReader(body)}, nil)
		},
	}
}
