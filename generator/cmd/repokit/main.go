// Command repokit generates typed Go record packages and repositories from repokit schema
// files. Run "repokit generate -help" for its flags; see docs/generator.md.
package main

import (
	"os"

	"github.com/repokit/repokit/generator"
)

func main() {
	os.Exit(generator.Main(os.Args[1:], os.Stdout, os.Stderr))
}
