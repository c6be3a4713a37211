package bank

import (
	"errors"
	"testing"
)

func TestCleanKey(t *testing.T) {
	cases := []struct {
		in, want string // want "" means ErrInvalidKey
	}{
		{"/a/b", "/a/b"},
		{"a/b", "/a/b"},
		{"/a//b", "/a/b"},
		{"//a///b", "/a/b"},
		{"a", "/a"},
		{"/checkpoints/cp-1/index.json", "/checkpoints/cp-1/index.json"},
		{"/indices/by-date/2024-01-02/proj/1700000000@cp_1", "/indices/by-date/2024-01-02/proj/1700000000@cp_1"},
		{"/A-Z_a-z.0-9@", "/A-Z_a-z.0-9@"},
		{"/a/.../b", "/a/.../b"},
		{"/.a/a./..a", "/.a/a./..a"},
		{"", ""},
		{"/", ""},
		{"//", ""},
		{"a/", ""},
		{"/a/b/", ""},
		{"/a/b//", ""},
		{".", ""},
		{"..", ""},
		{"/a/.", ""},
		{"/a/./b", ""},
		{"/a/../b", ""},
		{"../a", ""},
		{"a b", ""},
		{" /a", ""},
		{"/a\n", ""},
		{"/a\x00", ""},
		{"/a~b", ""},
		{"/a#b", ""},
		{"/a%2Fb", ""},
		{"/a?b", ""},
		{"/a+b", ""},
		{`/a\b`, ""},
		{"/a:b", ""},
		{"/caf\u00e9", ""},
	}
	for _, c := range cases {
		got, err := CleanKey(c.in)
		if c.want == "" {
			if !errors.Is(err, ErrInvalidKey) {
				t.Errorf("CleanKey(%q) = %q, %v; want ErrInvalidKey", c.in, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("CleanKey(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestCleanPrefix(t *testing.T) {
	cases := []struct {
		in, want string // want "" means ErrInvalidKey
	}{
		{"", "/"},
		{"/", "/"},
		{"//", "/"},
		{"///", "/"},
		{"a", "/a"},
		{"/a", "/a"},
		{"/a/", "/a/"},
		{"a/", "/a/"},
		{"/a//", "/a/"},
		{"//a//b//", "/a/b/"},
		{"/a/b", "/a/b"},
		{"/checkpoints/cp-1/resource-data/", "/checkpoints/cp-1/resource-data/"},
		{"/indices/by-plan/p@1/", "/indices/by-plan/p@1/"},
		{".", ""},
		{"./", ""},
		{"/../", ""},
		{"/a/./", ""},
		{"/a/..", ""},
		{"a b/", ""},
		{"/a~/", ""},
		{"/a#", ""},
		{"/a%", ""},
		{"/caf\u00e9/", ""},
	}
	for _, c := range cases {
		got, err := CleanPrefix(c.in)
		if c.want == "" {
			if !errors.Is(err, ErrInvalidKey) {
				t.Errorf("CleanPrefix(%q) = %q, %v; want ErrInvalidKey", c.in, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("CleanPrefix(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}
