// Package templates holds the non-Go files the generator renders (text/template sources),
// embedded so that the generator binary is self-contained. One directory per backend; add
// a directory's name to the go:embed line below when creating it.
package templates

import "embed"

// FS holds the templates, by backend directory (e.g. postgres/schema.sql.tmpl).
//
//go:embed postgres elasticsearch
var FS embed.FS
