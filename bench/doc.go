// Package bench holds repokit's comparison benchmarks against peers (hand-written pgx,
// GORM, ent, raw aws-sdk-go-v2 loops, esutil.BulkIndexer), one subpackage per backend.
// It is a separate module so that the peers' dependencies stay out of repokit's go.mod.
// Each benchmark measures repokit and its peer side by side in one run; see
// docs/BENCHMARKS.md for the commands and the ratios.
package bench
