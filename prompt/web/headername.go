package web

// SameHeaderName reports whether a and b name the same header for the most
// lenient backend: case-insensitive, with '_', '.' and '-' alike (CGI and
// PHP turn all three into HTTP_X_TRUSTGATE_USER). It does not allocate: it
// runs for every request header.
func SameHeaderName(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if foldHeaderByte(a[i]) != foldHeaderByte(b[i]) {
			return false
		}
	}
	return true
}

func foldHeaderByte(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c + ('a' - 'A')
	case c == '_' || c == '.':
		return '-'
	}
	return c
}
