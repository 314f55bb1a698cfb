package elasticsearch

import (
	"bytes"
	"context"
	"io"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// MaxWriteBlockWait bounds how long a write keeps being sent again while its index is
// write-blocked. A migration blocks an index only for the last catch-up of a copy and the
// alias swap (see docs/migrations-elasticsearch.md); a block that outlasts this (one set by
// an operator) fails the write with the server's 403.
const MaxWriteBlockWait = 2 * time.Minute

// blockWait paces the resending of a write refused by a write block.
type blockWait struct {
	start time.Time
	delay time.Duration
}

// wait sleeps before the next attempt and reports false when the caller should give up
// (MaxWriteBlockWait passed, or ctx ended).
func (w *blockWait) wait(ctx context.Context) bool {
	if w.start.IsZero() {
		w.start, w.delay = time.Now(), 10*time.Millisecond
	}
	if time.Since(w.start) > MaxWriteBlockWait {
		return false
	}
	t := time.NewTimer(w.delay)
	defer t.Stop()
	w.delay = min(2*w.delay, 250*time.Millisecond)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// writeBlocked reports whether an error body (of a response or a _bulk item) is Elasticsearch's
// refusal of a write to a write-blocked index.
func writeBlocked(raw []byte) bool {
	return bytes.Contains(raw, []byte("cluster_block_exception")) && bytes.Contains(raw, []byte("index write"))
}

// rewind prepares req, a write whose body may have been read, to be sent again, and reports
// whether it is a write that can be (index, delete and _bulk requests).
func rewind(req esapi.Request) bool {
	var body io.Reader
	switch r := req.(type) {
	case esapi.IndexRequest:
		body = r.Body
	case esapi.BulkRequest:
		body = r.Body
	case esapi.DeleteRequest:
		return true
	default:
		return false
	}
	s, ok := body.(io.Seeker)
	if !ok {
		return false
	}
	_, err := s.Seek(0, io.SeekStart)
	return err == nil
}

// blockedItem reports whether a _bulk item failed because its index is write-blocked.
func blockedItem(st bulkItemState) bool {
	return st.Status == 403 && writeBlocked(st.Error)
}

// expired reports whether resending has gone on for MaxWriteBlockWait.
func (w *blockWait) expired() bool {
	return !w.start.IsZero() && time.Since(w.start) > MaxWriteBlockWait
}
