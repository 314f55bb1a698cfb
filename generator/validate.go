package generator

import "github.com/repokit/repokit/schema"

// validate is the second stage: schema.Validate checks the set and fills in defaults
// (table, index and key prefix names). Its errors are returned unchanged.
func validate(set *schema.Set) error {
	return schema.Validate(set)
}
