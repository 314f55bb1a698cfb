package s3

// Object keys are <prefix>/<escaped id>. The escaping keeps ASCII letters and digits and
// writes every other byte b as a marker followed by two upper-case hex digits of b. The
// marker depends on where b sorts among the letters and digits ('-' below '0', '=' between
// '9' and 'A', '_' between 'Z' and 'a', '~' above 'z'), so escaped ids sort exactly like
// the ids themselves (byte order). S3 lists keys in byte order, so a listing returns
// records in id order, which lets queries sorted by id stream in listing order with memory
// bounded by the concurrency, and stop listing once a limit is reached. There is no
// ".json" suffix because any suffix would break that order ("a" < "a!" but "a.json" >
// "a-21.json"). Any id round-trips: "/", "..", spaces, "%" and non-ASCII text are all
// escaped, so a key never has an empty, "." or ".." segment.
//
// An escaped id longer than segmentBytes (254) bytes (a long id, or one of punctuation or
// non-ASCII text, which escapes to three bytes a byte: a repo.MaxIDBytes id to at most 765)
// is cut into segments of 254 bytes, each followed by "!/", and a last one of at most 254:
// MinIO refuses a key segment over 255 bytes (a file name on its disks), and does not list
// the keys under a "directory" that is also an object's name, which the "!" (never part of
// an escaped id) avoids. The cuts are at the same offsets in every key, so keys still sort
// like the ids: a key that ends at a cut is a prefix of the keys that go on past it, and
// "!/" is only ever compared with itself. Ids that escape to at most 254 bytes keep the key
// they always had; one that escapes to exactly 255 bytes (e.g. 255 letters, 85 punctuation
// characters) had that one segment, and is now cut in two.

// MaxSegment is the longest segment of a key, the limit of MinIO (see EscapeID).
const MaxSegment = 255

// segmentBytes is how many bytes of an escaped id one key segment holds; a segment that is
// continued ends with cut.
const (
	segmentBytes = MaxSegment - 1
	cut          = "!/"
)

const hexDigits = "0123456789ABCDEF"

func isPlain(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z'
}

func marker(b byte) byte {
	switch {
	case b < '0':
		return '-'
	case b < 'A':
		return '='
	case b < 'a':
		return '_'
	}
	return '~'
}

// EscapeID returns the key part of id, after the record prefix: id escaped, in segments of
// at most MaxSegment bytes (see the package's key layout).
func EscapeID(id string) string {
	n := 0
	for i := 0; i < len(id); i++ {
		if !isPlain(id[i]) {
			n++
		}
	}
	if n == 0 && len(id) <= segmentBytes {
		return id
	}
	e := make([]byte, 0, len(id)+2*n)
	for i := 0; i < len(id); i++ {
		b := id[i]
		if isPlain(b) {
			e = append(e, b)
			continue
		}
		e = append(e, marker(b), hexDigits[b>>4], hexDigits[b&15])
	}
	if len(e) <= segmentBytes {
		return string(e)
	}
	out := make([]byte, 0, len(e)+len(e)/segmentBytes*len(cut))
	for len(e) > segmentBytes {
		out = append(append(out, e[:segmentBytes]...), cut...)
		e = e[segmentBytes:]
	}
	return string(append(out, e...))
}

// UnescapeID reverses EscapeID; ok is false for a key part EscapeID cannot produce.
func UnescapeID(s string) (id string, ok bool) {
	if len(s) > segmentBytes {
		// Full segments, each followed by the cut, then a last one that is not empty.
		joined := make([]byte, 0, len(s))
		for len(s) > segmentBytes {
			if len(s) <= segmentBytes+len(cut) || s[segmentBytes:segmentBytes+len(cut)] != cut {
				return "", false
			}
			joined = append(joined, s[:segmentBytes]...)
			s = s[segmentBytes+len(cut):]
		}
		s = string(append(joined, s...))
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isPlain(c) {
			out = append(out, c)
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, lo := unhex(s[i+1]), unhex(s[i+2])
		if hi < 0 || lo < 0 {
			return "", false
		}
		b := byte(hi<<4 | lo)
		if isPlain(b) || marker(b) != c {
			return "", false
		}
		out = append(out, b)
		i += 2
	}
	if len(out) == 0 {
		return "", false
	}
	return string(out), true
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
