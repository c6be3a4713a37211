package localdir

import (
	"io/fs"
	"strings"
	"testing"
)

func TestManifestCheck(t *testing.T) {
	root := Entry{Path: ".", Kind: kindDir, Mode: "0755"}
	dir := func(p string) Entry { return Entry{Path: p, Kind: kindDir, Mode: "0755"} }
	file := func(p string, chunks ...int64) Entry {
		e := Entry{Path: p, Kind: kindFile, Mode: "0644"}
		for i, c := range chunks {
			e.Chunks = append(e.Chunks, Chunk{N: i + 1, Size: c})
			e.Size += c
		}
		return e
	}
	tests := []struct {
		name    string
		entries []Entry
		want    string // in the error; "" for valid
	}{
		{"valid", []Entry{root, dir("a"), file("a/f", 10, 3), {Path: "l", Kind: kindSymlink, Mode: "0777", Target: "/etc"}}, ""},
		{"empty", nil, "does not start"},
		{"no root", []Entry{dir("a")}, "does not start"},
		{"dot-dot", []Entry{root, file("../evil", 1)}, "not a path inside"},
		{"absolute", []Entry{root, file("/etc/passwd", 1)}, "not a path inside"},
		{"unclean", []Entry{root, dir("a"), file("a/../b", 1)}, "not a path inside"},
		{"child before its directory", []Entry{root, file("a/f", 1), dir("a")}, "before its directory"},
		{"child of a symlink", []Entry{root, {Path: "a", Kind: kindSymlink, Mode: "0777", Target: "/etc"}, file("a/passwd", 1)}, "before its directory"},
		{"twice", []Entry{root, dir("a"), {Path: "a", Kind: kindSymlink, Mode: "0777", Target: "/"}}, "twice"},
		{"chunks do not add up", []Entry{root, {Path: "f", Kind: kindFile, Mode: "0644", Size: 5, Chunks: []Chunk{{N: 1, Size: 4}}}}, "chunks hold 4"},
		{"chunk too big", []Entry{root, file("f", 17)}, "bad chunk"},
		{"bad mode", []Entry{root, {Path: "f", Kind: kindFile, Mode: "rwx"}}, "bad mode"},
		{"unknown kind", []Entry{root, {Path: "f", Kind: "device", Mode: "0644"}}, "unknown kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Manifest{Version: manifestVersion, ChunkSize: 16, Entries: tt.entries}
			err := m.check()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	m := Manifest{Version: 99, ChunkSize: 16, Entries: []Entry{root}}
	if err := m.check(); err == nil {
		t.Error("unknown version accepted")
	}
}

func TestModeRoundTrip(t *testing.T) {
	for _, m := range []fs.FileMode{0, 0o644, 0o755, 0o777 | fs.ModeSticky, 0o755 | fs.ModeSetuid | fs.ModeSetgid} {
		s := formatMode(m)
		got, err := parseMode(s)
		if err != nil || got != m {
			t.Errorf("%v -> %q -> %v, %v", m, s, got, err)
		}
	}
	if s := formatMode(0o755 | fs.ModeSetuid); s != "4755" {
		t.Errorf("setuid 0755 formats as %q", s)
	}
}

func TestExcluded(t *testing.T) {
	tests := []struct {
		pattern, rel string
		want         bool
	}{
		{"*.log", "app.log", true},
		{"*.log", "logs/app.log", true}, // base name
		{"logs/*.log", "logs/app.log", true},
		{"logs/*.log", "old/logs/app.log", false},
		{"/cache", "cache", true},
		{"/cache", "a/cache", false},
		{"cache/", "cache", true},
		{"cache", "a/cache", true},
		{"a/b", "a/b", true},
		{"a/b", "x/a/b", false},
		{"*.log", "app.txt", false},
	}
	for _, tt := range tests {
		if got := excluded([]string{tt.pattern}, tt.rel); got != tt.want {
			t.Errorf("excluded(%q, %q) = %v, want %v", tt.pattern, tt.rel, got, tt.want)
		}
	}
}
