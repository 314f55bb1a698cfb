package elasticsearch

import (
	"fmt"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/repokit/repokit/runtime/repo"
)

// ShardError is the cause of the ErrUnavailable error of a search or count that Elasticsearch
// answered from only some of the index's shards (a shard without a live copy, a shard that
// failed or timed out). Elasticsearch answers such a request with HTTP 200 and a partial
// result by default; repokit never returns part of the data as if it were all of it.
type ShardError struct {
	Op         string // "search" or "count"
	Total      int    // shards the request should have read
	Successful int    // shards that answered
	Failed     int    // shards that failed
	Reason     string // the first failure's type and reason, if the answer gave one
}

func (e *ShardError) Error() string {
	s := fmt.Sprintf("elasticsearch: %s answered by %d of %d shards (%d failed)", e.Op, e.Successful, e.Total, e.Failed)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// shards is the _shards member of a search or count answer.
type shards struct {
	Total      int `json:"total"`
	Successful int `json:"successful"`
	Skipped    int `json:"skipped"`
	Failed     int `json:"failed"`
	Failures   []struct {
		Reason struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"reason"`
	} `json:"failures"`
}

// check returns an ErrUnavailable *ShardError unless every shard answered (skipped shards
// are ones the request could tell held no match). An answer without _shards (s nil) passes.
func (s *shards) check(op string) error {
	if s == nil || (s.Failed == 0 && s.Successful+s.Skipped >= s.Total) {
		return nil
	}
	e := &ShardError{Op: op, Total: s.Total, Successful: s.Successful, Failed: s.Failed}
	if len(s.Failures) > 0 {
		e.Reason = s.Failures[0].Reason.Type
		if r := s.Failures[0].Reason.Reason; r != "" {
			e.Reason += " " + clip(r, 200)
		}
	}
	return repo.E(repo.ErrUnavailable, e)
}

// noPartial returns req with allow_partial_search_results=false, so that Elasticsearch itself
// fails a search it cannot answer from every shard (HTTP 503, ErrUnavailable); the _shards
// check catches what it lets through.
func noPartial(req esapi.SearchRequest) esapi.SearchRequest {
	f := false
	req.AllowPartialSearchResults = &f
	return req
}
