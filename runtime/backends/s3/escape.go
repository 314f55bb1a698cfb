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

// EscapeID returns the key segment of id (see the package's key layout).
func EscapeID(id string) string {
	n := 0
	for i := 0; i < len(id); i++ {
		if !isPlain(id[i]) {
			n++
		}
	}
	if n == 0 {
		return id
	}
	out := make([]byte, 0, len(id)+2*n)
	for i := 0; i < len(id); i++ {
		b := id[i]
		if isPlain(b) {
			out = append(out, b)
			continue
		}
		out = append(out, marker(b), hexDigits[b>>4], hexDigits[b&15])
	}
	return string(out)
}

// UnescapeID reverses EscapeID; ok is false for a segment EscapeID cannot produce.
func UnescapeID(s string) (id string, ok bool) {
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
