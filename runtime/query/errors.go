package query

import "fmt"

type patternError struct {
	kind error
	msg  string
}

func (e *patternError) Error() string { return "query: " + e.msg }
func (e *patternError) Unwrap() error { return e.kind }

func errorf(kind error, format string, args ...any) error {
	return &patternError{kind: kind, msg: fmt.Sprintf(format, args...)}
}
