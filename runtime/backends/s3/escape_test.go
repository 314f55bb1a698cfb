package s3

import (
	"slices"
	"strings"
	"testing"
)

func TestEscapeRoundTripAndOrder(t *testing.T) {
	ids := []string{
		"a", "A", "0", "9", "z", "Z", "a!", "a.b", "a/b", "..", ".", "/", "a b", "%", "%25",
		"~", "\x7f", "é", "日本", "a-b", "a_b", "a=b", "a~b", "-2F", "@", "[", "`", "{",
		"\x01", "ab", "a\x01", "aé", "a0", "id with spaces", "../../etc/passwd", "Ωmega",
	}
	// Long ids: their keys are cut into segments, at the same offsets in every key.
	for _, unit := range []string{"a", "%", "é", "/"} {
		for _, n := range []int{84, 85, 86, 127, 128, 253, 254, 255} {
			s := strings.Repeat(unit, n)
			ids = append(ids, s, s+"0", s+"~", s+"!", s[:len(s)-1]+"a")
		}
	}
	for _, id := range ids {
		e := EscapeID(id)
		got, ok := UnescapeID(e)
		if !ok || got != id {
			t.Errorf("UnescapeID(EscapeID(%q) = %q) = %q, %v", id, e, got, ok)
		}
		for _, seg := range strings.Split(e, "/") {
			if seg == "" || seg == "." || seg == ".." || len(seg) > MaxSegment {
				t.Errorf("EscapeID(%q) = %q has segment %q", id, e, seg)
			}
		}
	}
	byID := slices.Clone(ids)
	slices.Sort(byID)
	byKey := slices.Clone(ids)
	slices.SortFunc(byKey, func(a, b string) int { return strings.Compare(EscapeID(a), EscapeID(b)) })
	if !slices.Equal(byID, byKey) {
		t.Errorf("key order differs from id order:\n ids  %q\n keys %q", byID, byKey)
	}
}

func TestUnescapeRejects(t *testing.T) {
	a := strings.Repeat("a", 254)
	for _, s := range []string{"", "-", "-2", "-zz", "-61", "=2F", "~41", "a.json", "a/b",
		a + "a", a + "!/", a + "!", a + "!/" + a + "a", a + "/b", a[1:] + "!/b", a + "!!b", "-2!/5"} {
		if id, ok := UnescapeID(s); ok {
			t.Errorf("UnescapeID(%q) = %q, want rejection", s, id)
		}
	}
}

func FuzzEscape(f *testing.F) {
	f.Add("a", "b")
	f.Add("a!", "a")
	f.Fuzz(func(t *testing.T, a, b string) {
		if a == "" || b == "" {
			return
		}
		ea, eb := EscapeID(a), EscapeID(b)
		if got, ok := UnescapeID(ea); !ok || got != a {
			t.Fatalf("round trip of %q: %q %v", a, got, ok)
		}
		if strings.Compare(a, b) != strings.Compare(ea, eb) {
			t.Fatalf("order of %q, %q differs from %q, %q", a, b, ea, eb)
		}
	})
}
