package schema

import "github.com/repokit/repokit/runtime/textsearch"

// search checks a field's search key: a text field (not a list) and a known language.
func (v *validator) search(f *File, w where, fd *Field, typ string, known bool) {
	pos := at(f, fd.SearchPos, fd.Pos)
	if !textsearch.Valid(fd.Search) {
		names := make([]string, 0, 2)
		for _, l := range textsearch.Languages() {
			names = append(names, string(l))
		}
		v.errorf(pos, ErrInvalidValue, w, "unknown search language %q (expected %s)", clip(fd.Search), orList(names))
		return
	}
	if known && (fd.Type != TypeText || fd.List) {
		v.errorf(pos, ErrInvalidValue, w, "search is only allowed on text fields, not on %s", typ)
	}
}
