package generator

import (
	"fmt"
	"go/format"
	"strings"
)

// gofmt is the fifth stage: it formats every Go file with go/format (jennifer formats
// already; this pins the output to the gofmt of the Go toolchain that builds repokit and
// catches a syntax error in an emitter before anything is written).
func gofmt(files []File) error {
	for i := range files {
		if !strings.HasSuffix(files[i].Name, ".go") {
			continue
		}
		src, err := format.Source(files[i].Data)
		if err != nil {
			return fmt.Errorf("generator: formatting %s: %w", files[i].Name, err)
		}
		files[i].Data = src
	}
	return nil
}
