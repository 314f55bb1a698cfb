package record

import (
	"strings"
	"testing"

	"github.com/google/uuid"
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
