package generator

import (
	"fmt"
	"go/format"
	"strings"
)

// gofmt is the fifth stage: it formats every Go file with go/format, which also catches a
// syntax error in an emitter before anything is written. (The emitters render with
// jennifer's own formatting off, so each file is formatted once.)
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
