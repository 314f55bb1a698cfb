package generator

import "github.com/repokit/repokit/schema"

// load is the first stage: it parses the schema files. Its errors are the schema package's,
// unchanged (they name file, line and column).
func load(paths []string) (*schema.Set, error) {
	return schema.Load(paths...)
}
