package bank

import (
	"fmt"
	"regexp"
	"strings"
)

var keyChars = regexp.MustCompile(`^[A-Za-z0-9/_.@-]+$`)

// CleanKey normalises key as Karbor's bank does and checks the key rules.
// The error wraps ErrInvalidKey.
func CleanKey(key string) (string, error) {
	if key == "" || !keyChars.MatchString(key) {
		return "", fmt.Errorf("%w: %q: allowed characters are A-Z a-z 0-9 / _ . @ -", ErrInvalidKey, key)
	}
	if strings.HasSuffix(key, "/") {
		return "", fmt.Errorf("%w: %q ends in /", ErrInvalidKey, key)
	}
	segs := strings.Split(key, "/")
	out := make([]string, 0, len(segs))
	for _, s := range segs {
		switch s {
		case "":
			continue
		case ".", "..":
			return "", fmt.Errorf("%w: %q has a %q segment", ErrInvalidKey, key, s)
		}
		out = append(out, s)
	}
	return "/" + strings.Join(out, "/"), nil
}

// CleanPrefix normalises a listing prefix: like CleanKey, but a trailing "/"
// is kept and the empty prefix means everything.
func CleanPrefix(prefix string) (string, error) {
	trimmed := strings.TrimRight(prefix, "/")
	if trimmed == "" {
		return "/", nil
	}
	k, err := CleanKey(trimmed)
	if err != nil {
		return "", err
	}
	if trimmed != prefix {
		k += "/"
	}
	return k, nil
}

// Join joins key segments into a key (not cleaned).
func Join(parts ...string) string { return "/" + strings.Join(parts, "/") }
