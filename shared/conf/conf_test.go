package conf

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// write stores text as a .conf file in a new temporary directory.
func write(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.conf")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// envOf is an environment lookup over a map.
func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// loadText parses text with the environment env.
func loadText(t *testing.T, text string, env map[string]string) *File {
	t.Helper()
	f, err := LoadWithEnv(write(t, text), envOf(env))
	if err != nil {
		t.Fatalf("LoadWithEnv: %v", err)
	}
	return f
}

// orEmpty makes nil and empty slices compare equal.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestValuesAndStrings(t *testing.T) {
	tests := []struct {
		name        string
		text        string
		env         map[string]string
		wantValues  []string
		wantStrings []string
	}{
		{"absent", "[s]\nother = x\n", nil, nil, nil},
		{"absent section", "[t]\nk = x\n", nil, nil, nil},
		{"single", "[s]\nk = a\n", nil, []string{"a"}, []string{"a"}},
		{"repeated", "[s]\nk = a\nk = b\n", nil, []string{"a", "b"}, []string{"a", "b"}},
		{"repeated with the same value", "[s]\nk = a\nk = b\nk = a\n", nil, []string{"a", "b", "a"}, []string{"a", "b", "a"}},
		{"repeated, not adjacent", "[s]\nk = a\nother = x\nk = b\n", nil, []string{"a", "b"}, []string{"a", "b"}},
		{"comma list", "[s]\nk = a, b,,c ,\n", nil, []string{"a, b,,c ,"}, []string{"a", "b", "c"}},
		{"repeated comma lists", "[s]\nk = a,b\nk = c\n", nil, []string{"a,b", "c"}, []string{"a", "b", "c"}},
		{"surrounding spaces trimmed", "[s]\nk =    a b   \n", nil, []string{"a b"}, []string{"a b"}},
		{"inline comment", "[s]\nk = a ; the first\nk = b # the second\n", nil, []string{"a", "b"}, []string{"a", "b"}},
		{"empty value", "[s]\nk =\n", nil, nil, nil},
		{"empty values are dropped", "[s]\nk =\nk = a\nk =\n", nil, []string{"a"}, []string{"a"}},
		{"only commas", "[s]\nk = , ,\n", nil, []string{", ,"}, nil},
		{"other section's key", "[s]\nk = a\n[t]\nk = b\n", nil, []string{"a"}, []string{"a"}},
		{"each value expanded", "[s]\nk = ${A}\nk = ${B:-x}, ${C}\n", map[string]string{"A": "a", "C": "c"},
			[]string{"a", "x, c"}, []string{"a", "x", "c"}},
		{"expansion to a list", "[s]\nk = ${LIST}\n", map[string]string{"LIST": "a,b"}, []string{"a,b"}, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := loadText(t, tt.text, tt.env)
			if got := f.Values("s", "k"); !reflect.DeepEqual(orEmpty(got), orEmpty(tt.wantValues)) {
				t.Errorf("Values = %q, want %q", got, tt.wantValues)
			}
			if got := f.Strings("s", "k"); !reflect.DeepEqual(orEmpty(got), orEmpty(tt.wantStrings)) {
				t.Errorf("Strings = %q, want %q", got, tt.wantStrings)
			}
		})
	}
}

func TestStringHas(t *testing.T) {
	f := loadText(t, `
[s]
enabled = True
enabled = False
enabled = True
name = Local Directory Provider
empty =

[empty_section]
`, nil)
	tests := []struct {
		section, key, def string
		want              string
		has               bool
	}{
		{"s", "enabled", "", "True", true}, // the last value wins
		{"s", "name", "", "Local Directory Provider", true},
		{"s", "empty", "def", "def", true},
		{"s", "absent", "def", "def", false},
		{"absent", "name", "def", "def", false},
		{"empty_section", "name", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.section+"/"+tt.key, func(t *testing.T) {
			if got := f.String(tt.section, tt.key, tt.def); got != tt.want {
				t.Errorf("String = %q, want %q", got, tt.want)
			}
			if got := f.Has(tt.section, tt.key); got != tt.has {
				t.Errorf("Has = %v, want %v", got, tt.has)
			}
		})
	}
	for section, want := range map[string]bool{"s": true, "empty_section": true, "absent": false} {
		if got := f.HasSection(section); got != want {
			t.Errorf("HasSection(%q) = %v, want %v", section, got, want)
		}
	}
}

func TestExpand(t *testing.T) {
	env := map[string]string{"DIR": "/data", "EMPTY": "", "A": "a", "B": "b", "REF": "${A}"}
	tests := []struct {
		value string
		want  string
	}{
		{"${DIR}", "/data"},
		{"${DIR}/bank", "/data/bank"},
		{"${UNSET}", ""},
		{"x${UNSET}y", "xy"},
		{"${EMPTY}", ""},
		{"${UNSET:-/var/lib/pouch}/bank", "/var/lib/pouch/bank"},
		{"${EMPTY:-fallback}", "fallback"},
		{"${DIR:-/var/lib/pouch}/bank", "/data/bank"},
		{"${UNSET:-}", ""},
		{"${UNSET:-a:b c}", "a:b c"},
		{"${A}-${B}", "a-b"},
		{"${A}${A}", "aa"},
		{"${REF}", "${A}"}, // values are not expanded again
		{"$A", "$A"},
		{"${1A}", "${1A}"},
		{"${A", "${A"},
		{"${A:b}", "${A:b}"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			f := loadText(t, "[s]\nk = "+tt.value+"\n", env)
			if got := f.String("s", "k", "<absent>"); got != tt.want && !(tt.want == "" && got == "<absent>") {
				t.Errorf("String = %q, want %q", got, tt.want)
			}
			if got := strings.Join(f.Values("s", "k"), ""); got != tt.want {
				t.Errorf("Values = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadUsesProcessEnvironment(t *testing.T) {
	t.Setenv("POUCH_CONF_TEST_DIR", "/from/env")
	f, err := Load(write(t, "[s]\nk = ${POUCH_CONF_TEST_DIR:-/default}/bank\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.String("s", "k", ""); got != "/from/env/bank" {
		t.Errorf("String = %q, want /from/env/bank", got)
	}
}

func TestLoadErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.conf")
	_, err := Load(missing)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: error %v does not wrap fs.ErrNotExist", err)
	}
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load of a missing file: error %v does not name the file", err)
	}

	bad := write(t, "[unclosed\nk = v\n")
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("Load of a bad file: error %v does not name the file", err)
	}
}

// wantKeyError fails unless err is a *KeyError for path, section s and key,
// whose message names all three.
func wantKeyError(t *testing.T, err error, path, key string) *KeyError {
	t.Helper()
	var ke *KeyError
	if !errors.As(err, &ke) {
		t.Fatalf("error %v (%T) is not a *KeyError", err, err)
	}
	if ke.Path != path || ke.Section != "s" || ke.Key != key {
		t.Errorf("KeyError names %s [%s] %s, want %s [s] %s", ke.Path, ke.Section, ke.Key, path, key)
	}
	for _, part := range []string{path, "[s]", key} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
	return ke
}

func TestInt(t *testing.T) {
	tests := []struct {
		value   string // "" for absent
		want    int
		wantErr bool
	}{
		{"", 7, false},
		{"42", 42, false},
		{"-3", -3, false},
		{"0", 0, false},
		{"abc", 0, true},
		{"1.5", 0, true},
		{"12MB", 0, true},
		{"99999999999999999999", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			text := "[s]\n"
			if tt.value != "" {
				text += "k = " + tt.value + "\n"
			}
			f := loadText(t, text, nil)
			got, err := f.Int("s", "k", 7)
			if tt.wantErr {
				wantKeyError(t, err, f.Path(), "k")
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Int = %d, %v; want %d, nil", got, err, tt.want)
			}
		})
	}
}

func TestBool(t *testing.T) {
	tests := []struct {
		value   string // "" for absent
		def     bool
		want    bool
		wantErr bool
	}{
		{"", true, true, false},
		{"", false, false, false},
		{"True", false, true, false},
		{"true", false, true, false},
		{"yes", false, true, false},
		{"ON", false, true, false},
		{"1", false, true, false},
		{"False", true, false, false},
		{"no", true, false, false},
		{"off", true, false, false},
		{"0", true, false, false},
		{"maybe", false, false, true},
		{"2", false, false, true},
		{"Truee", true, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			text := "[s]\n"
			if tt.value != "" {
				text += "enabled = " + tt.value + "\n"
			}
			f := loadText(t, text, nil)
			got, err := f.Bool("s", "enabled", tt.def)
			if tt.wantErr {
				wantKeyError(t, err, f.Path(), "enabled")
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Bool = %v, %v; want %v, nil", got, err, tt.want)
			}
		})
	}
}

func TestSeconds(t *testing.T) {
	tests := []struct {
		value   string // "" for absent
		want    time.Duration
		wantErr bool
	}{
		{"", time.Minute, false},
		{"0", 0, false},
		{"15", 15 * time.Second, false},
		{"ten", 0, true},
		{"1.5", 0, true},
		{"-5", 0, true},
		{"-1", 0, true},
		{"9999999999999", 0, true}, // overflows a time.Duration
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			text := "[s]\n"
			if tt.value != "" {
				text += "poll_interval = " + tt.value + "\n"
			}
			f := loadText(t, text, nil)
			got, err := f.Seconds("s", "poll_interval", time.Minute)
			if tt.wantErr {
				wantKeyError(t, err, f.Path(), "poll_interval")
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Seconds = %v, %v; want %v, nil", got, err, tt.want)
			}
		})
	}
}

func TestRequired(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    string
		missing bool
	}{
		{"present", "[s]\nbank = pouch-fs-bank-plugin\n", "pouch-fs-bank-plugin", false},
		{"last of repeated", "[s]\nbank = a\nbank = b\n", "b", false},
		{"expanded", "[s]\nbank = ${BANK}\n", "from-env", false},
		{"missing key", "[s]\nother = x\n", "", true},
		{"missing section", "[t]\nbank = x\n", "", true},
		{"empty", "[s]\nbank =\n", "", true},
		{"blank", "[s]\nbank =    \n", "", true},
		{"expands to empty", "[s]\nbank = ${UNSET}\n", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := loadText(t, tt.text, map[string]string{"BANK": "from-env"})
			got, err := f.Required("s", "bank")
			if !tt.missing {
				if err != nil || got != tt.want {
					t.Errorf("Required = %q, %v; want %q, nil", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, ErrMissing) {
				t.Errorf("Required error = %v, want one wrapping ErrMissing", err)
			}
			wantKeyError(t, err, f.Path(), "bank")
		})
	}
}

func TestErrorf(t *testing.T) {
	f := loadText(t, "[s]\n", nil)
	cause := errors.New("disk full")
	err := f.Errorf("s", "path", "cannot create %s: %w", "/x", cause)
	ke := wantKeyError(t, err, f.Path(), "path")
	if !errors.Is(err, cause) {
		t.Errorf("Errorf did not wrap its %%w argument: %v", err)
	}
	if want := f.Path() + ": [s] path: cannot create /x: disk full"; ke.Error() != want {
		t.Errorf("Error() = %q, want %q", ke.Error(), want)
	}
}
