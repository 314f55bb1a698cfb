package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/repo"
)

// checkAheadUnique is the part of the check of code whose migrations are behind the
// cluster's (d.ahead) that the mapping does not show: a field that a newer version made
// unique has reservations in the companion index, and code that does not know it would
// write values without reserving them, so it is refused with ErrSchemaAhead.
func (d *Driver[T]) checkAheadUnique(ctx context.Context) error {
	index := d.o.UniqueIndex
	if index == "" {
		index = d.o.Index + UniqueIndexSuffix
	}
	// Reservations are written without a refresh; a search must see them all.
	err := call(ctx, d.c, esapi.IndicesRefreshRequest{Index: []string{index}}, nil)
	if statusOf(err) == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	var own []string
	if d.uq != nil {
		own = d.uq.source
	}
	body, _ := json.Marshal(map[string]any{"size": 0,
		"query": map[string]any{"bool": map[string]any{"must_not": map[string]any{"terms": map[string]any{"field": append([]string{}, own...)}}}},
		"aggs":  map[string]any{"fields": map[string]any{"terms": map[string]any{"field": "field", "size": 1000}}}})
	var out struct {
		Aggregations struct {
			Fields struct {
				Buckets []struct {
					Key string `json:"key"`
				} `json:"buckets"`
			} `json:"fields"`
		} `json:"aggregations"`
	}
	err = call(ctx, d.c, esapi.SearchRequest{Index: []string{index}, Body: bytes.NewReader(body)}, &out)
	if statusOf(err) == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if len(out.Aggregations.Fields.Buckets) == 0 {
		return nil
	}
	e := *d.ahead
	for _, b := range out.Aggregations.Fields.Buckets {
		e.Problems = append(e.Problems, fmt.Sprintf("field %s is unique in a newer version (index %s holds its reservations), and code of this version would write its values without reserving them", b.Key, index))
	}
	return repo.E(repo.ErrSchemaAhead, &e)
}
