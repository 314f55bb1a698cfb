// Package repokit turns record schemas (YAML) into typed Go packages: record structs, typed
// filter and sort builders, and repositories with the same behaviour on every backend. The
// generator is in generator/ (command generator/cmd/repokit), the runtime the generated code
// uses in runtime/; see docs/generator.md.
//
// This file holds the go:generate lines that regenerate every generated package of the
// repository. Run `go generate ./...` from the repository root; running it twice changes
// nothing, and CI fails when it changes a committed file.
package repokit

// The conformance suite's records, with the repositories of every backend: each backend's
// conformance test opens them from an open.Target through the generated openers
// (drivertest.Opener; the backends' tests import drivertest from external test packages).
//go:generate go run ./generator/cmd/repokit generate -out runtime/backends/drivertest/things -package things -backends=memory,postgres,s3,elasticsearch runtime/backends/drivertest/testdata/things.yaml

// The examples' packages.
//go:generate go run ./generator/cmd/repokit generate -out examples/shop/shopdb -package shopdb -backends=memory,postgres,s3,elasticsearch examples/shop/schema
