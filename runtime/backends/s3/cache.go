package s3

import "sync"

// DefaultCacheSize is how many decoded records a driver keeps, by default, to skip the GET
// of an object whose listed ETag has not changed since it was read.
const DefaultCacheSize = 1024

// recCache maps object keys to the record last read from them and its ETag. A listing
// returns every object's current ETag, and every write stores a new ETag (see encode), so
// a cached record whose ETag equals the listed one is exactly the stored object: queries
// stay strongly consistent. Cached records are shared and never modified; queries return
// clones. When full, an arbitrary entry is evicted.
type recCache[T any] struct {
	mu  sync.Mutex
	max int
	m   map[string]cached[T]
}

type cached[T any] struct {
	etag string
	rec  *T
}

func newCache[T any](n int) *recCache[T] {
	if n <= 0 {
		return nil
	}
	return &recCache[T]{max: n, m: make(map[string]cached[T], min(n, 1024))}
}

// get returns the cached record of key if its ETag is etag.
func (c *recCache[T]) get(key, etag string) *T {
	if c == nil || etag == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok && e.etag == etag {
		return e.rec
	}
	return nil
}

func (c *recCache[T]) put(key, etag string, rec *T) {
	if c == nil || etag == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok && len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[key] = cached[T]{etag: etag, rec: rec}
}
