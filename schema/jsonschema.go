package schema

import _ "embed" // for JSONSchema

// JSONSchema is a JSON Schema (draft 2020-12) of the schema file format, for editors: point
// the YAML language server at it with a first line such as
//
//	# yaml-language-server: $schema=https://raw.githubusercontent.com/repokit/repokit/main/schema/repokit.schema.json
//
// It describes the same keys and types as Parse, and most of Validate's per-file rules; the
// rules across records and files (duplicate names, Go name collisions) are Validate's alone.
//
//go:embed repokit.schema.json
var JSONSchema []byte
