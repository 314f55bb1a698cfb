package elasticsearch

import "github.com/repokit/repokit/runtime/record"

// DirectDecode reports whether records of desc are decoded with one json.Unmarshal.
func DirectDecode[T any](desc *record.Desc[T]) bool { return newCodec(desc).direct }
