package query

import "testing"

func TestKindOf(t *testing.T) {
	for k := KindString; k <= KindJSON; k++ {
		if got := KindOf(k.String()); got != k {
			t.Errorf("KindOf(%q) = %v, want %v", k.String(), got, k)
		}
	}
	for _, name := range []string{"", "invalid", "Int", "list<int>", "Kind(99)"} {
		if got := KindOf(name); got != KindInvalid {
			t.Errorf("KindOf(%q) = %v, want invalid", name, got)
		}
	}
}
