package generator

import (
	"bytes"
	"fmt"
	"go/format"
	"strings"
)

// gofmt is the fifth stage: it formats every Go file with go/format, which also catches a
// syntax error in an emitter before anything is written. (The emitters render with
// jennifer's own formatting off, so each file is formatted once.) Imports are split into a
// standard-library group and a group of the others, as goimports would.
func gofmt(files []File) error {
	for i := range files {
		if !strings.HasSuffix(files[i].Name, ".go") {
			continue
		}
		src, err := format.Source(groupImports(files[i].Data))
		if err != nil {
			return fmt.Errorf("generator: formatting %s: %w", files[i].Name, err)
		}
		files[i].Data = src
	}
	return nil
}

// groupImports puts a blank line between the standard-library imports and the others in
// the first parenthesized import block of src (jennifer writes them as one sorted block).
func groupImports(src []byte) []byte {
	const open, end = "\nimport (\n", "\n)\n"
	start := bytes.Index(src, []byte(open))
	if start < 0 {
		return src
	}
	body := start + len(open)
	stop := bytes.Index(src[body:], []byte(end))
	if stop < 0 {
		return src
	}
	var std, other []string
	for line := range strings.Lines(string(src[body : body+stop+1])) {
		spec := strings.TrimSpace(line)
		if spec == "" {
			continue
		}
		path := spec[strings.IndexByte(spec, '"')+1:]
		if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
			other = append(other, spec)
		} else {
			std = append(std, spec)
		}
	}
	if len(std) == 0 || len(other) == 0 {
		return src
	}
	var b bytes.Buffer
	b.Write(src[:body])
	for _, s := range std {
		b.WriteString("\t" + s + "\n")
	}
	b.WriteString("\n")
	for _, s := range other {
		b.WriteString("\t" + s + "\n")
	}
	b.Write(src[body+stop+1:])
	return b.Bytes()
}
