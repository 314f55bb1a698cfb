package s3

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/record"
)

// The applied state of a package's migrations is one JSON object,
// <prefix>/.repokit-migrations/<package>, written only under the package's lock object
// (<…>/<package>.lock) and always conditionally (If-Match its ETag, If-None-Match for the
// first), so that two appliers never both record a version.

// migState is the body of the applied-state object.
type migState struct {
	Package string           `json:"package"`
	Applied []appliedVersion `json:"applied"`
	// Rewrite is set while the rewrite of old objects to the newest version has not finished
	// (see Migrator.Apply): Apply resumes it.
	Rewrite *rewriteState `json:"rewrite,omitempty"`
}

// appliedVersion is one applied migration.
type appliedVersion struct {
	Version int64     `json:"version"`
	Name    string    `json:"name"`
	At      time.Time `json:"at"`
	// Changes are the migration's changes, so that code with an older history can tell
	// whether the store still serves it (migrate.OlderCodeProblem); nil in a state
	// written before they were recorded.
	Changes []migrate.Change `json:"changes,omitempty"`
}

// rewriteState is the checkpoint of a rewrite: every record before Record (in the newest
// schema's order) is done, and Record's objects up to key After.
type rewriteState struct {
	Version int64  `json:"version"` // the version objects are rewritten to
	Record  string `json:"record"`
	After   string `json:"after,omitempty"`
	// Before is set on the checkpoint of a pass that runs before version Before is
	// recorded (the reservations of a new unique field).
	Before int64 `json:"before,omitempty"`
	// From is the version the store was at before the versions this rewrite is for: only
	// records that a migration after it changes are rewritten. 0: every record (a state
	// written before From existed, WithRewriteAll, or a rewrite restarted for a newer
	// version).
	From int64 `json:"from,omitempty"`
}

// rewriteFrom returns the From of a rewrite for the versions after the store's current
// version cur, which also covers a rewrite still pending in st.
func rewriteFrom(st *migState, cur int64) int64 {
	if rw := st.Rewrite; rw != nil && rw.Before == 0 {
		return min(cur, rw.From)
	}
	return cur
}

// current returns the newest applied version, or 0.
func (s *migState) current() int64 {
	if len(s.Applied) == 0 {
		return 0
	}
	return s.Applied[len(s.Applied)-1].Version
}

func stateKey(prefix, pkg string) string { return joinPrefix(prefix, migrationsSegment, pkg) }

func lockKey(prefix, pkg string) string { return stateKey(prefix, pkg) + ".lock" }

// readState reads the applied-state object at key; a missing one is an empty state and "".
// Errors are the SDK's, unmapped.
func readState(ctx context.Context, api *s3.Client, bucket, key string) (*migState, string, error) {
	body, etag, found, err := readObject(ctx, api, bucket, key, "")
	if err != nil {
		return nil, "", err
	}
	if !found {
		return &migState{}, "", nil
	}
	st := new(migState)
	if err := json.Unmarshal(body, st); err != nil {
		return nil, "", fmt.Errorf("s3: the migration state %s is not repokit's: %w", key, err)
	}
	return st, etag, nil
}

// putJSON writes v as JSON at key, with If-Match etag, or If-None-Match: * when etag is "".
// It returns the new ETag. Errors are the SDK's, unmapped.
func putJSON(ctx context.Context, api *s3.Client, bucket, key string, v any, etag string) (string, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	in := &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String("application/json")}
	if etag == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(etag)
	}
	out, err := api.PutObject(ctx, in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ETag), nil
}

// lockBody is the body of a lock object.
type lockBody struct {
	Owner string    `json:"owner"` // a fresh id per lock holder
	Rev   string    `json:"rev"`   // fresh on every renewal, so every renewal changes the ETag
	At    time.Time `json:"at"`    // the holder's clock, for people
}

// migLock is a held lock object: taken with If-None-Match: *, renewed every lease/3 with
// If-Match its ETag, released by deleting it. A lock whose ETag this process saw unchanged
// for a whole lease is abandoned (its holder crashed) and is taken over with If-Match; ages
// are measured on this process's clock only, so clock skew between hosts does not matter.
type migLock struct {
	api    *s3.Client
	bucket string
	key    string
	owner  string
	etag   string
	lost   chan struct{} // closed when a renewal found the lock taken over
	stop   chan struct{}
	done   chan struct{}
}

// errLockLost is the error of an Apply whose lock was taken over (it stalled for a lease).
var errLockLost = errors.New("s3: the migration lock was taken over by another applier (this one stalled for a whole lease)")

// acquireLock waits until it holds the lock at key. poll is how often it looks again.
func acquireLock(ctx context.Context, api *s3.Client, bucket, key string, lease, poll time.Duration) (*migLock, error) {
	l := &migLock{api: api, bucket: bucket, key: key, owner: record.NewID(),
		lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	var seen string
	var seenAt time.Time
	for {
		etag, err := putJSON(ctx, api, bucket, key, l.body(), "")
		if err == nil {
			l.etag = etag
			break
		}
		if !isPrecondition(err) && !isConditionalConflict(err) {
			return nil, err
		}
		head, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
		switch {
		case err != nil && isNotFound(err):
			continue // released since
		case err != nil:
			return nil, err
		}
		cur := aws.ToString(head.ETag)
		if cur != seen {
			seen, seenAt = cur, time.Now()
		} else if time.Since(seenAt) >= lease {
			if etag, err := putJSON(ctx, api, bucket, key, l.body(), cur); err == nil {
				l.etag = etag
				break
			}
			seen = "" // someone else renewed or took it: look again
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
	go l.renew(lease / 3)
	return l, nil
}

func (l *migLock) body() lockBody {
	return lockBody{Owner: l.owner, Rev: record.NewID(), At: time.Now().UTC()}
}

// renew rewrites the lock every period until release; a failed condition means the lock
// was taken over.
func (l *migLock) renew(period time.Duration) {
	defer close(l.done)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), period)
		etag, err := putJSON(ctx, l.api, l.bucket, l.key, l.body(), l.etag)
		cancel()
		switch {
		case err == nil:
			l.etag = etag
		case isPrecondition(err) || isConditionalConflict(err) || isNotFound(err):
			close(l.lost)
			return
		}
		// Other failures: try again at the next tick; the lease is three periods.
	}
}

// check returns errLockLost once the lock was taken over.
func (l *migLock) check() error {
	select {
	case <-l.lost:
		return errLockLost
	default:
		return nil
	}
}

// release stops the renewals and deletes the lock object (unless it was taken over).
func (l *migLock) release() {
	close(l.stop)
	<-l.done
	if l.check() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Not conditional: servers differ in what they do with If-Match on DELETE, and the lock
	// is this applier's (the renewals stopped; a takeover needs a whole lease without them).
	_, _ = l.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &l.bucket, Key: &l.key})
}
