package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/repo"
)

// uniquePath is the field a duplicate search aggregates on: times on their exact
// microseconds, texts on their keyword subfield.
func (p *recordPlan) uniquePath(field string) string {
	switch f := p.after.Field(field); {
	case f != nil && f.Type == "time":
		return esdialect.MetaField + ".us." + field
	case f != nil && f.Type == "text":
		return field + "." + esdialect.KeywordSub
	}
	return field
}

// addUnique checks that no two stored documents share a value of field, naming those that
// do. The reservations of the stored values are built by the first repository opened with
// the new schema (the field has no reservation state yet, see ensureUnique), which also
// covers documents that code of the previous version writes until it is replaced.
func (p *recordPlan) addUnique(field string) action {
	return action{
		text: fmt.Sprintf("%s.%s: check that no two documents of %s share a value (a terms aggregation; duplicates fail the migration, named); the first repository opened with the new schema reserves the values in %s",
			p.name, field, p.after.Index, p.m.uniqueIndex(p.name, p.after.Index)),
		online: true,
		run: func(ctx context.Context) error {
			if err := p.m.refresh(ctx, p.after.Index); err != nil {
				return err
			}
			q := map[string]any{"size": 0, "aggs": map[string]any{"dups": map[string]any{
				"terms": map[string]any{"field": p.uniquePath(field), "min_doc_count": 2, "size": 10},
				"aggs":  map[string]any{"ids": map[string]any{"top_hits": map[string]any{"size": 3, "_source": false}}},
			}}}
			body, _ := json.Marshal(q)
			var out struct {
				Aggs struct {
					Dups struct {
						Buckets []struct {
							Key any `json:"key"`
							IDs struct {
								Hits struct {
									Hits []struct {
										ID string `json:"_id"`
									} `json:"hits"`
								} `json:"hits"`
							} `json:"ids"`
						} `json:"buckets"`
					} `json:"dups"`
				} `json:"aggregations"`
			}
			if err := call(ctx, p.m.c, esapi.SearchRequest{Index: []string{p.after.Index}, Body: bytes.NewReader(body)}, &out); err != nil {
				return err
			}
			var dups []string
			for _, b := range out.Aggs.Dups.Buckets {
				var ids []string
				for _, h := range b.IDs.Hits.Hits {
					ids = append(ids, fmt.Sprintf("%q", h.ID))
				}
				dups = append(dups, fmt.Sprintf("%v held by %s", b.Key, strings.Join(ids, ", ")))
			}
			if len(dups) > 0 {
				return repo.E(repo.ErrAlreadyExists, fmt.Errorf(
					"elasticsearch: %s.%s cannot be unique: documents of %s share values (%s); make the values differ, then apply again",
					p.name, field, p.after.Index, strings.Join(dups, "; ")))
			}
			return nil
		},
	}
}

// dropUnique deletes the reservations and the state document of field.
func (p *recordPlan) dropUnique(field string) action {
	idx := p.m.uniqueIndex(p.name, p.after.Index)
	return action{
		text:   fmt.Sprintf("%s.%s: delete its reservations from %s", p.name, field, idx),
		online: true,
		run: func(ctx context.Context) error {
			body, _ := json.Marshal(map[string]any{"size": p.m.o.batch, "_source": false,
				"query": map[string]any{"term": map[string]any{"field": field}}})
			for {
				err := p.m.refresh(ctx, idx)
				if statusOf(err) == http.StatusNotFound {
					return nil
				}
				if err != nil {
					return err
				}
				var ans searchAnswer
				if err := call(ctx, p.m.c, esapi.SearchRequest{Index: []string{idx}, Body: bytes.NewReader(body)}, &ans); err != nil {
					return err
				}
				if len(ans.Hits.Hits) == 0 {
					return nil
				}
				var b []byte
				for _, h := range ans.Hits.Hits {
					b = append(b, `{"delete":{"_id":`...)
					b = appendString(b, h.ID)
					b = append(b, "}}\n"...)
				}
				cp := &copier{m: p.m, to: idx, seen: map[string]struct{}{}}
				if err := cp.bulk(ctx, b, nil); err != nil {
					return err
				}
			}
		},
	}
}
