package schema

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that Parse and Validate never panic, that every error they return is an
// ErrorList of positioned errors in this file with a kind, and that Validate is idempotent.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*/*.y*ml")
	more, _ := filepath.Glob("testdata/*/*/*.y*ml")
	for _, p := range append(paths, more...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, tc := range invalidCases {
		for _, file := range tc.files {
			f.Add([]byte(file.src))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const path = "fuzz.yaml"
		file, err := Parse(path, data)
		if err != nil {
			if file != nil {
				t.Fatalf("Parse returned a file and an error")
			}
			checkErrors(t, path, err)
			return
		}
		set := &Set{Files: []*File{file}}
		err = Validate(set)
		if err != nil {
			checkErrors(t, path, err)
			return
		}
		if err := Validate(set); err != nil {
			t.Fatalf("a valid set fails a second Validate: %v", err)
		}
	})
}

// checkErrors checks that err is a non-empty, sorted ErrorList of positioned errors.
func checkErrors(t *testing.T, path string, err error) {
	t.Helper()
	var list ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("error %T %v is not a non-empty ErrorList", err, err)
	}
	for i, e := range list {
		if e == nil {
			t.Fatalf("nil error in the list")
		}
		if e.Pos.File != path || e.Pos.Line < 1 || e.Pos.Col < 1 {
			t.Fatalf("error without a position: %#v", e)
		}
		if e.Kind == nil || !errors.Is(err, e.Kind) {
			t.Fatalf("error without a kind: %#v", e)
		}
		if e.Msg == "" || !strings.HasPrefix(e.Error(), e.Pos.String()+": ") || strings.Contains(e.Error(), "\n") {
			t.Fatalf("malformed error: %q", e.Error())
		}
		if i > 0 {
			p := list[i-1].Pos
			if p.Line > e.Pos.Line || p.Line == e.Pos.Line && p.Col > e.Pos.Col {
				t.Fatalf("errors not sorted: %v before %v", p, e.Pos)
			}
		}
	}
}
