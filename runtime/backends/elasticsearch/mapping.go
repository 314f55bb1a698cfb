package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// checkDesc reports field names the backend cannot store.
func checkDesc[T any](desc *record.Desc[T]) error {
	for i := range desc.Fields {
		j := desc.Fields[i].JSON
		switch {
		case j == "":
			return fmt.Errorf("elasticsearch: record %s field %s has no JSON name", desc.Name, desc.Fields[i].Name)
		case j == esdialect.MetaField || strings.HasPrefix(j, "_"):
			return fmt.Errorf("elasticsearch: record %s field %s: JSON name %q is reserved (names starting with _ are)", desc.Name, desc.Fields[i].Name, j)
		case strings.Contains(j, "."):
			return fmt.Errorf("elasticsearch: record %s field %s: JSON name %q contains a dot, which Elasticsearch reads as an object path", desc.Name, desc.Fields[i].Name, j)
		}
	}
	return nil
}

// DriftError lists the differences between an existing index's mapping and the schema.
type DriftError struct {
	Index       string
	Differences []string // one line per difference, sorted
}

func (e *DriftError) Error() string {
	return fmt.Sprintf("elasticsearch: index %q does not match the schema (%d difference(s)); migrate or recreate the index:\n  %s",
		e.Index, len(e.Differences), strings.Join(e.Differences, "\n  "))
}

// Unwrap returns ErrMappingDrift.
func (e *DriftError) Unwrap() error { return ErrMappingDrift }

// EnsureIndex creates index with mapping (JSON as returned by esdialect.Mapping) and the given number
// of shards and replicas when it does not exist; when it exists, it compares the live
// mapping with mapping and returns a *DriftError (wrapping ErrMappingDrift, kind
// repo.ErrInvalidInput) listing every difference. An index that differs only by lacking
// the write token (_rk.w, which indices created before it lack) gets it added with an
// additive mapping update (see esdialect.AddedMeta).
func EnsureIndex(ctx context.Context, c *Client, index string, mapping []byte, shards, replicas int) error {
	_, err := ensureIndex(ctx, c, index, mapping, shards, replicas)
	return err
}

// ensureIndex is EnsureIndex that also reports whether this call created the index.
func ensureIndex(ctx context.Context, c *Client, index string, mapping []byte, shards, replicas int) (created bool, err error) {
	return ensureIndexFor(ctx, c, index, mapping, shards, replicas, nil)
}

// ensureIndexFor is ensureIndex for code whose migrations are behind the cluster's when
// ahead is not nil: an existing index is then checked with esdialect.OlderCodeDiffs (it
// must still serve the code), and a difference is ahead's ErrSchemaAhead.
func ensureIndexFor(ctx context.Context, c *Client, index string, mapping []byte, shards, replicas int, ahead *migrate.AheadError) (created bool, err error) {
	var m any
	if err := json.Unmarshal(mapping, &m); err != nil {
		return false, fmt.Errorf("elasticsearch: mapping is not JSON: %w", err)
	}
	body, _ := json.Marshal(map[string]any{
		"settings": esdialect.IndexSettings(shards, replicas),
		"mappings": m,
	})
	res, err := esapi.IndicesCreateRequest{Index: index, Body: bytes.NewReader(body)}.Do(ctx, c.ES)
	if err != nil {
		return false, transportError(ctx, err)
	}
	if res.StatusCode == http.StatusOK {
		closeBody(res)
		return true, nil
	}
	raw, _ := io.ReadAll(res.Body)
	closeBody(res)
	se := parseError(res.StatusCode, raw)
	if se.Type != "resource_already_exists_exception" && (se.Type != "invalid_index_name_exception" || !strings.Contains(se.Reason, "exists as alias")) {
		return false, repo.E(kindOf(res.StatusCode, nil), se)
	}
	strip := esdialect.StripCompat
	if ahead != nil {
		strip = esdialect.StripCompatForOlderCode // the old names newer code still writes serve this code
	}
	live, err := liveMappingAs(ctx, c, index, strip)
	if err != nil {
		return false, err
	}
	added, diffs := esdialect.SplitAdded(esdialect.Diff(m, live))
	if ahead != nil {
		if diffs = esdialect.OlderCodeDiffs(diffs); len(diffs) > 0 {
			e := *ahead
			for _, d := range diffs {
				e.Problems = append(e.Problems, "index "+index+": "+d.String())
			}
			return false, repo.E(repo.ErrSchemaAhead, &e)
		}
	}
	if len(diffs) > 0 {
		lines := make([]string, len(diffs))
		for i, d := range diffs {
			lines[i] = d.String()
		}
		return false, repo.E(repo.ErrInvalidInput, &DriftError{Index: index, Differences: lines})
	}
	if len(added) > 0 {
		return false, addMeta(ctx, c, index)
	}
	return false, nil
}

// addMeta adds the members of the meta object that an index created by an earlier version
// lacks (esdialect.AddedMeta: the write token), with a mapping update that only adds
// fields: idempotent, safe while other processes use the index, and its documents stay as
// they are (documents without the token read as before).
func addMeta(ctx context.Context, c *Client, index string) error {
	res, err := esapi.IndicesPutMappingRequest{Index: []string{index}, Body: bytes.NewReader(esdialect.AddedMeta())}.Do(ctx, c.ES)
	if err != nil {
		return transportError(ctx, err)
	}
	defer closeBody(res)
	if res.IsError() {
		err := responseError(res, nil)
		return fmt.Errorf("elasticsearch: adding %s.%s to the mapping of %s: %w", esdialect.MetaField, esdialect.WriteToken, index, err)
	}
	return nil
}

func liveMapping(ctx context.Context, c *Client, index string) (any, error) {
	return liveMappingAs(ctx, c, index, esdialect.StripCompat)
}

// liveMappingAs is liveMapping with the compat fields stripped by strip.
func liveMappingAs(ctx context.Context, c *Client, index string, strip func(any) any) (any, error) {
	res, err := esapi.IndicesGetMappingRequest{Index: []string{index}}.Do(ctx, c.ES)
	if err != nil {
		return nil, transportError(ctx, err)
	}
	defer closeBody(res)
	if res.IsError() {
		return nil, responseError(res, nil)
	}
	var out map[string]struct {
		Mappings any `json:"mappings"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return nil, repo.E(repo.ErrUnavailable, fmt.Errorf("elasticsearch: reading the mapping of %s: %w", index, err))
	}
	for _, v := range out { // the index, or the concrete index behind an alias
		return strip(v.Mappings), nil
	}
	return nil, fmt.Errorf("elasticsearch: no mapping returned for %s", index)
}
