package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/repokit/repokit/runtime/query"
)

// canonicalByParse is the definition CheckUUID implements: uuid.Parse accepts s and
// String formats it back unchanged.
func canonicalByParse(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && u.String() == s
}

func TestCheckUUID(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"v4", "f47ac10b-58cc-4372-a567-0e02b2c3d479", true},
		{"v7", NewID(), true},
		{"nil uuid", "00000000-0000-0000-0000-000000000000", true},
		{"all f", "ffffffff-ffff-ffff-ffff-ffffffffffff", true},
		{"upper case", "F47AC10B-58CC-4372-A567-0E02B2C3D479", false},
		{"one upper-case digit", "f47ac10b-58cc-4372-a567-0e02b2c3d47A", false},
		{"braces", "{f47ac10b-58cc-4372-a567-0e02b2c3d479}", false},
		{"urn", "urn:uuid:f47ac10b-58cc-4372-a567-0e02b2c3d479", false},
		{"no hyphens", "f47ac10b58cc4372a5670e02b2c3d479", false},
		{"hyphen moved", "f47ac10-b58cc-4372-a567-0e02b2c3d479", false},
		{"hyphen replaced", "f47ac10b_58cc-4372-a567-0e02b2c3d479", false},
		{"non-hex", "g47ac10b-58cc-4372-a567-0e02b2c3d479", false},
		{"too short", "f47ac10b-58cc-4372-a567-0e02b2c3d47", false},
		{"too long", "f47ac10b-58cc-4372-a567-0e02b2c3d4790", false},
		{"empty", "", false},
		{"36 hyphens", strings.Repeat("-", 36), false},
		{"multi-byte", "f47ac10b-58cc-4372-a567-0e02b2c3d4é", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckUUID(tt.in)
			if (err == nil) != tt.ok {
				t.Errorf("CheckUUID(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if want := canonicalByParse(tt.in); (err == nil) != want {
				t.Errorf("CheckUUID(%q) = %v, but uuid.Parse+String says canonical=%v", tt.in, err, want)
			}
			if err != nil && !strings.Contains(err.Error(), "not a canonical lower-case UUID") {
				t.Errorf("CheckUUID(%q) error %q does not say what is wrong", tt.in, err)
			}
		})
	}
}

func TestCheckUUIDAllocs(t *testing.T) {
	id := NewID()
	if n := testing.AllocsPerRun(100, func() { _ = CheckUUID(id) }); n != 0 {
		t.Errorf("CheckUUID of a valid id allocates %v times", n)
	}
}

func FuzzCheckUUID(f *testing.F) {
	for _, s := range []string{NewID(), "F47AC10B-58CC-4372-A567-0E02B2C3D479", "{f47ac10b-58cc-4372-a567-0e02b2c3d479}", "f47ac10b58cc4372a5670e02b2c3d479", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := CheckUUID(s) == nil, canonicalByParse(s); got != want {
			t.Errorf("CheckUUID(%q) ok=%v, uuid.Parse+String canonical=%v", s, got, want)
		}
	})
}

func TestValidJSON(t *testing.T) {
	deep := func(n int) []byte { return []byte(strings.Repeat("[", n) + strings.Repeat("]", n)) }
	deepObj := func(n int) []byte { return []byte(strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n)) }
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"object", []byte(`{"color":"red","size":12}`), true},
		{"nested", []byte(` {"a":[1,-2.5e+3,true,false,null,{"b":"c"}],"d":{}} `), true},
		{"white space", []byte("\t\r\n [ 1 , 2 ]\n"), true},
		{"scalars", []byte(`"x"`), true},
		{"zero", []byte(`0`), true},
		{"negative fraction exponent", []byte(`-0.5E-7`), true},
		{"escapes", []byte(`"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"`), true},
		{"UTF-8 text in strings and keys", []byte(`{"é":"日本😀","k":["ａ"]}`), true},
		{"escaped lone surrogate (valid UTF-8 text)", []byte(`"\ud800"`), true},
		{"invalid UTF-8 inside a string", []byte("\"\xff\""), false},
		{"truncated UTF-8 sequence in a string", []byte("[\"a\xc3\"]"), false},
		{"UTF-8 encoded surrogate in a string", []byte("\"\xed\xa0\x80\""), false},
		{"invalid UTF-8 in a key", []byte("{\"\xe9\":1}"), false},
		{"max depth", deep(maxJSONDepth), true},
		{"max depth objects", deepObj(maxJSONDepth), true},
		{"too deep", deep(maxJSONDepth + 1), false},
		{"too deep objects", deepObj(maxJSONDepth + 1), false},
		{"empty", nil, false},
		{"only space", []byte("  "), false},
		{"two values", []byte(`1 2`), false},
		{"trailing comma object", []byte(`{"a":1,}`), false},
		{"trailing comma array", []byte(`[1,]`), false},
		{"leading zero", []byte(`01`), false},
		{"bare minus", []byte(`-`), false},
		{"dot without digits", []byte(`1.`), false},
		{"exponent without digits", []byte(`1e+`), false},
		{"plus sign", []byte(`+1`), false},
		{"unquoted key", []byte(`{a:1}`), false},
		{"missing colon", []byte(`{"a" 1}`), false},
		{"unterminated string", []byte(`"abc`), false},
		{"control character in string", []byte("\"a\nb\""), false},
		{"bad escape", []byte(`"\x"`), false},
		{"short unicode escape", []byte(`"\u12"`), false},
		{"truncated literal", []byte(`tru`), false},
		{"literal with suffix", []byte(`nullx`), false},
		{"unclosed array", []byte(`[1`), false},
		{"unclosed object", []byte(`{"a":1`), false},
		{"NUL after value", []byte("1\x00"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidJSON(tt.in); got != tt.ok {
				t.Errorf("ValidJSON(%.40q) = %v, want %v", tt.in, got, tt.ok)
			}
			if want := json.Valid(tt.in) && utf8.Valid(tt.in); want != tt.ok {
				t.Errorf("test case disagrees with encoding/json: json.Valid(%.40q) && utf8.Valid = %v", tt.in, want)
			}
		})
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{"color":"red","size":12}`, `[1,-2.5e+3,true,false,null]`, `"\u00e9\n"`, `01`, `{"a":}`, "\"\xff\"", ` [ ] `, `-0.0e-0`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := ValidJSON(b), json.Valid(b) && utf8.Valid(b); got != want {
			t.Errorf("ValidJSON(%q) = %v, json.Valid && utf8.Valid = %v", b, got, want)
		}
	})
}

func BenchmarkValidJSON(b *testing.B) {
	doc := []byte(`{"color":"red","size":12}`)
	b.Run("record.ValidJSON", func(b *testing.B) {
		for b.Loop() {
			ValidJSON(doc)
		}
	})
	b.Run("json.Valid", func(b *testing.B) {
		for b.Loop() {
			json.Valid(doc)
		}
	})
}

func TestCheckString(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"empty", "", true},
		{"short ASCII", "sku-1", true},
		{"ASCII, several words", "description of product 123456789", true},
		{"UTF-8", "Grüße, 世界 🙂", true},
		{"UTF-8 after eight ASCII bytes", "abcdefghé", true},
		{"NUL first", "\x00abcdefgh", false},
		{"NUL in the first word", "abc\x00defgh", false},
		{"NUL in the tail", "abcdefgh\x00", false},
		{"NUL after UTF-8", "é\x00", false},
		{"byte 0x80 alone", "abcdefgh\x80", false},
		{"invalid UTF-8 in a word", "ab\xffcdefgh", false},
		{"truncated rune", "abcdefg\xe4\xb8", false},
		{"0x01 and 0x7f bytes", "\x01\x7f\x01\x7f\x01\x7f\x01\x7f\x01", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckString(tt.in)
			if (err == nil) != tt.ok {
				t.Errorf("CheckString(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if want := query.CheckString(tt.in); asQuery(err) != fmt.Sprint(want) {
				t.Errorf("CheckString(%q) = %v, query.CheckString = %v", tt.in, err, want)
			}
			if err != nil && (strings.HasPrefix(err.Error(), "query") || !errors.Is(err, query.ErrBadValue)) {
				t.Errorf("CheckString(%q) = %v, want a value error (not a query's) of kind query.ErrBadValue", tt.in, err)
			}
		})
	}
}

// asQuery returns the text query.CheckString has for the value error err.
func asQuery(err error) string {
	if err == nil {
		return fmt.Sprint(err)
	}
	return "query: " + err.Error()
}

func FuzzCheckString(f *testing.F) {
	for _, s := range []string{"", "sku-000001", "abc\x00defgh", "Grüße, 世界", "abcdefgh\x80", "\x01\x7f\x01\x7f\x01\x7f\x01\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := CheckString(s), query.CheckString(s); asQuery(got) != fmt.Sprint(want) {
			t.Errorf("CheckString(%q) = %v, query.CheckString = %v", s, got, want)
		}
	})
}

func BenchmarkCheckString(b *testing.B) {
	s := "description of product 1234"
	b.Run("record.CheckString", func(b *testing.B) {
		for b.Loop() {
			_ = CheckString(s)
		}
	})
	b.Run("query.CheckString", func(b *testing.B) {
		for b.Loop() {
			_ = query.CheckString(s)
		}
	})
}
