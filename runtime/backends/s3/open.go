package s3

import "github.com/repokit/repokit/runtime/pool"

// ForBackend returns "s3": an Option is an open.Option, which the openers a package
// generates (New<R>Repository(ctx, m, url, opts...)) pass to this backend only.
func (Option) ForBackend() string { return pool.BackendS3 }
