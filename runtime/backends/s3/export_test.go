package s3

import (
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// WrapHTTPForTest gives d a copy of its S3 client whose HTTP requests go through wrap, so
// that a test can count the requests a call sends. Call it before using d.
func WrapHTTPForTest[T any](d *Driver[T], wrap func(s3.HTTPClient) s3.HTTPClient) {
	d.api = s3.New(d.api.Options(), func(o *s3.Options) { o.HTTPClient = wrap(o.HTTPClient) })
}

// HTTPDoer adapts a function to s3.HTTPClient.
type HTTPDoer func(*http.Request) (*http.Response, error)

// Do implements s3.HTTPClient.
func (f HTTPDoer) Do(r *http.Request) (*http.Response, error) { return f(r) }

// IsConnErr is isConnErr, for the classification tests.
var IsConnErr = isConnErr

// SetReservationAgeOffsetForTest makes every reservation d reads look off older than the
// server says, so that a test can have a stale reservation without waiting.
func SetReservationAgeOffsetForTest[T any](d *Driver[T], off time.Duration) { d.ageOffset = off }

// NoRetriesForTest gives d a copy of its S3 client that sends every request once, so that
// a broken connection fails at once.
func NoRetriesForTest[T any](d *Driver[T]) {
	d.api = s3.New(d.api.Options(), func(o *s3.Options) { o.RetryMaxAttempts = 1 })
}

// WithRewriteChunkForTest sets how many objects Apply processes between two checkpoints.
func WithRewriteChunkForTest(n int) MigrateOption { return func(o *migrateOptions) { o.chunk = n } }

// ListFromStartForTest makes d's queries list from the start of the prefix whatever their
// id range, as before listings resumed after a Page cursor, for the page walk benchmark.
func ListFromStartForTest[T any](d *Driver[T]) { d.fromStart = true }
