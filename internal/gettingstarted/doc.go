// Package gettingstarted holds the test that follows README.md's "Getting started in your own
// module" as written, in a temporary module outside the checkout: it runs the README's
// commands, writes the README's files, generates, tidies, builds, runs a test on mem:// and
// the README's program on mem:// and, with the test services up, on PostgreSQL, S3 and
// Elasticsearch by URL. It has no code of its own.
package gettingstarted
